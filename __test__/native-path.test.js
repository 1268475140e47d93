'use strict'

// The native batch path on the real addon: with fetchpool's `fetch` (or a
// client's, or none) the map/each/eachOf/mapValues families cross into the
// pool as one batch, which `stats().batches` counts, and the server sees
// exactly the call's concurrency in flight (see support/gate.js). Were the
// dispatch to fall back to async's JavaScript path, each item would be a
// `fetch` call of its own, and no batch would be counted.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert')
const fetchpool = require('..')
const { startGate } = require('./support/gate')
const { clientTracker } = require('./support/clients')

const N = 7

let gate
const clients = clientTracker()
before(async () => { gate = await startGate() })
after(async () => {
  clients.closeAll()
  await gate.close()
})

const urls = (tag) => Array.from({ length: N }, (_, i) => gate.url(`/${tag}/${i}`))

/**
 * Runs `call` against N held URLs expecting `limit` in flight, and checks
 * that `pool` counted one batch and fetched all N.
 */
async function runNative (pool, limit, call) {
  gate.arm(N, limit, () => pool.stats().inFlight)
  const before = pool.stats()
  const value = await call()
  const after = pool.stats()
  assert.strictEqual(gate.state.stalled, false, 'fewer requests in flight than the call allows')
  assert.strictEqual(gate.state.maxInFlight, Math.min(limit, N))
  // Nothing was answered yet: every request the pool had started was held.
  if (limit < N) assert.strictEqual(gate.state.probed, limit, 'in flight in the pool at the first mark')
  assert.strictEqual(after.batches - before.batches, 1, 'one native batch')
  assert.strictEqual(after.done - before.done, N)
  return value
}

const bodies = (responses) => Promise.all(responses.map((r) => r.text()))
const expected = (tag) => urls(tag).map((u) => `body ${new URL(u).pathname}`)

// name, its limit, how to call it with an iteratee (or none)
const RESULTS = [
  ['map', Infinity, (f, list, it) => f.map(list, it)],
  ['mapLimit', 3, (f, list, it) => f.mapLimit(list, 3, it)],
  ['mapSeries', 1, (f, list, it) => f.mapSeries(list, it)]
]
const NONE = [
  ['each', Infinity, (f, list, it) => f.each(list, it)],
  ['eachLimit', 2, (f, list, it) => f.eachLimit(list, 2, it)],
  ['eachSeries', 1, (f, list, it) => f.eachSeries(list, it)],
  ['eachOf', Infinity, (f, list, it) => f.eachOf(list, it)],
  ['eachOfLimit', 4, (f, list, it) => f.eachOfLimit(list, 4, it)],
  ['eachOfSeries', 1, (f, list, it) => f.eachOfSeries(list, it)]
]
const VALUES = [
  ['mapValues', Infinity, (f, obj, it) => f.mapValues(obj, it)],
  ['mapValuesLimit', 3, (f, obj, it) => f.mapValuesLimit(obj, 3, it)],
  ['mapValuesSeries', 1, (f, obj, it) => f.mapValuesSeries(obj, it)]
]

const keyed = (list) => Object.fromEntries(list.map((u, i) => [`k${i}`, u]))

for (const [label, iteratee, pool] of [
  ['fetchpool.fetch', () => fetchpool.fetch, () => fetchpool],
  ['no iteratee', () => undefined, () => fetchpool],
  ["a client's fetch", (c) => c.fetch, (c) => c]
]) {
  describe(`native path with ${label}`, () => {
    let client
    before(() => { client = clients.client() })

    for (const [name, limit, call] of RESULTS) {
      test(`${name}: one batch, ${limit} in flight, results in input order`, async () => {
        const list = urls(name)
        const responses = await runNative(pool(client), limit, () => call(fetchpool, list, iteratee(client)))
        assert.deepStrictEqual(await bodies(responses), expected(name))
      })
    }

    for (const [name, limit, call] of NONE) {
      test(`${name}: one batch, ${limit} in flight, no value`, async () => {
        const value = await runNative(pool(client), limit, () => call(fetchpool, urls(name), iteratee(client)))
        assert.strictEqual(value, undefined)
      })
    }

    for (const [name, limit, call] of VALUES) {
      test(`${name}: one batch, ${limit} in flight, keys kept`, async () => {
        const obj = keyed(urls(name))
        const byKey = await runNative(pool(client), limit, () => call(fetchpool, obj, iteratee(client)))
        assert.deepStrictEqual(Object.keys(byKey), Object.keys(obj))
        assert.deepStrictEqual(await bodies(Object.values(byKey)), expected(name))
      })
    }

    test('the callback form runs the same batch', async () => {
      const list = urls('cb')
      const responses = await runNative(pool(client), 2, () => new Promise((resolve, reject) =>
        fetchpool.mapLimit(list, 2, iteratee(client) || fetchpool.fetch, (err, r) => (err ? reject(err) : resolve(r)))))
      assert.deepStrictEqual(await bodies(responses), expected('cb'))
    })
  })
}

describe('a fractional limit', () => {
  test('mapLimit(urls, 2.5, fetch) runs three at once, as async does', async () => {
    const responses = await runNative(fetchpool, 3, () => fetchpool.mapLimit(urls('frac'), 2.5, fetchpool.fetch))
    assert.deepEqual(await bodies(responses), expected('frac'))
  })
})

describe("a client's fetch runs on that client's pool", () => {
  test('the default pool counts nothing of it', async () => {
    const client = clients.client()
    const before = fetchpool.stats()
    await runNative(client, 3, () => fetchpool.mapLimit(urls('own'), 3, client.fetch))
    const after = fetchpool.stats()
    assert.strictEqual(after.batches - before.batches, 0)
    assert.strictEqual(after.done - before.done, 0)
  })
})

describe('a JavaScript iteratee is no native batch', () => {
  test('mapLimit with a wrapper of fetch: no batch counted, still 3 in flight', async () => {
    gate.arm(N, 3)
    const before = fetchpool.stats()
    const responses = await fetchpool.mapLimit(urls('js'), 3, (url, cb) => fetchpool.fetch(url, cb))
    const after = fetchpool.stats()
    assert.strictEqual(responses.length, N)
    assert.strictEqual(gate.state.maxInFlight, 3)
    assert.strictEqual(after.batches - before.batches, 0)
    assert.strictEqual(after.done - before.done, N)
  })
})

describe('queue() on the pool', () => {
  for (const [label, worker, pool] of [
    ['with no worker', () => undefined, () => fetchpool],
    ["with a client's fetch", (c) => c.fetch, (c) => c]
  ]) {
    test(`${label}: the pool fetches each task, the queue's concurrency in flight`, async () => {
      const client = clients.client()
      const q = fetchpool.queue(worker(client), 3)
      gate.arm(N, 3)
      const before = pool(client).stats()
      const statuses = []
      q.push(urls('q'), (err, res) => statuses.push(err ? err.code : res.status))
      await q.drain()
      const after = pool(client).stats()
      assert.strictEqual(gate.state.stalled, false)
      assert.strictEqual(gate.state.maxInFlight, 3)
      assert.deepStrictEqual(statuses, new Array(N).fill(200))
      assert.strictEqual(after.done - before.done, N)
    })
  }
})

describe("a client with concurrency 'auto'", () => {
  test("async's limit is fixed for the call, not adaptive", async () => {
    const client = clients.client({ concurrency: 'auto', maxConcurrency: 16 })
    let limits = null
    gate.arm(N, 3, () => {
      limits = client.stats().limits
      return client.stats().inFlight
    })
    const responses = await fetchpool.mapLimit(urls('auto'), 3, client.fetch)
    assert.strictEqual(responses.length, N)
    assert.strictEqual(gate.state.maxInFlight, 3)
    // Adaptive calls list their origins' limits while they run; this one none.
    assert.deepStrictEqual(limits, {})
  })
})
