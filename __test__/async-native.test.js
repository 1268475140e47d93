'use strict'

// The native hook of lib/async: which calls go to native.mapNative / native.fetch
// (checked with a recording fake), and the real path through require('..')
// against a loopback HTTP server.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert')
const http = require('node:http')
const { createAsync } = require('../lib/async')

// A fake core: records calls, answers asynchronously with `r:<item>`, fails
// items named 'fail'.
function fakeNative () {
  const calls = []
  const fetch = (req, cb) => setImmediate(() => (req === 'fail' ? cb(new Error('fetch failed')) : cb(null, `r:${req}`)))
  const native = {
    calls,
    isNativeIteratee: (fn) => fn === fetch,
    mapNative (items, limit, done, iteratee) {
      calls.push({ items: [...items], limit, iteratee })
      setImmediate(() => {
        const results = []
        for (let i = 0; i < items.length; i++) {
          if (items[i] === 'fail') return done(Object.assign(new Error('fetch failed'), { index: i }), results)
          results[i] = `r:${items[i]}`
        }
        done(null, results)
      })
    },
    fetch
  }
  return native
}

describe('native dispatch (fake core)', () => {
  test('map(coll), map(coll, fetch, cb), mapLimit, mapSeries go native with the right limit', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    assert.deepStrictEqual(await async.map(['a', 'b']), ['r:a', 'r:b'])
    const viaCb = await new Promise((resolve) => async.map(['c'], native.fetch, (err, r) => resolve([err, r])))
    assert.deepStrictEqual(viaCb, [null, ['r:c']])
    assert.deepStrictEqual(await async.mapLimit(['d'], 3), ['r:d'])
    assert.deepStrictEqual(await async.mapSeries(['e'], native.fetch), ['r:e'])
    assert.deepStrictEqual(await async.map(['f'], undefined), ['r:f'])
    assert.deepStrictEqual(native.calls.map((c) => c.limit), [Infinity, Infinity, 3, 1, Infinity])
    assert.strictEqual(native.calls[1].iteratee, native.fetch)
  })

  test("async's signatures win: any other function is an iteratee", async () => {
    const native = fakeNative()
    const async = createAsync(native)
    assert.deepStrictEqual(await async.map([1, 2], (x, cb) => cb(null, x + 1)), [2, 3])
    assert.deepStrictEqual(await async.mapLimit([1], 2, async (x) => x * 5), [5])
    assert.deepStrictEqual(await async.filter(['a'], native.fetch), ['a'], 'filter never goes native')
    assert.strictEqual(native.calls.length, 0)
  })

  test('each / eachOf drop results; mapValues keeps keys', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    const eachArgs = await new Promise((resolve) => async.each(['a'], native.fetch, (...args) => resolve(args)))
    assert.deepStrictEqual(eachArgs, [null])
    assert.strictEqual(await async.eachSeries(['a']), undefined)
    assert.strictEqual(await async.eachOfLimit(['a'], 2, native.fetch), undefined)
    assert.strictEqual(await async.forEachOf({ k: 'a' }), undefined)
    assert.deepStrictEqual(await async.mapValues({ x: 'a', y: 'b' }), { x: 'r:a', y: 'r:b' })
    assert.deepStrictEqual(await async.mapValuesLimit(['a'], 1, native.fetch), { 0: 'r:a' })
    assert.deepStrictEqual(native.calls.map((c) => c.limit), [Infinity, 1, 2, Infinity, Infinity, 1])
  })

  test('collections are normalised to arrays', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    await async.map(new Set(['s']))
    await async.map({ a: 'o1', b: 'o2' })
    await async.map(null)
    await async.map((async function* gen () { yield 'g' })())
    await async.map((function* gen () { yield 'i' })())
    assert.deepStrictEqual(native.calls.map((c) => c.items), [['s'], ['o1', 'o2'], [], ['g'], ['i']])
  })

  test('errors: partial results in callback style, rejection in Promise style', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    const [err, partial] = await new Promise((resolve) =>
      async.map(['a', 'fail', 'b'], native.fetch, (e, r) => resolve([e, r])))
    assert.strictEqual(err.index, 1)
    assert.deepStrictEqual(partial, ['r:a'])
    await assert.rejects(async.mapSeries(['fail']), { index: 0 })
    const [verr, obj] = await new Promise((resolve) =>
      async.mapValues({ x: 'a', y: 'fail' }, native.fetch, (e, r) => resolve([e, r])))
    assert.ok(verr instanceof Error)
    assert.deepStrictEqual(obj, { x: 'r:a' })
  })

  test('limit < 1 is a RangeError on the native path too', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    assert.throws(() => async.mapLimit(['a'], 0, native.fetch, () => {}), RangeError)
    await assert.rejects(async.eachLimit(['a'], -1), RangeError)
    assert.strictEqual(native.calls.length, 0)
  })

  test('queue() with no worker fetches through native.fetch', async () => {
    const native = fakeNative()
    const async = createAsync(native)
    const q = async.queue(undefined, 2)
    assert.strictEqual(await q.push('a'), 'r:a')
    const results = []
    q.push(['b', 'c'], (err, r) => results.push(r))
    await q.drain()
    assert.deepStrictEqual(results.sort(), ['r:b', 'r:c'])
    assert.strictEqual(async.queue().concurrency, 1)
    assert.throws(() => createAsync().queue(), { message: 'expected a function' })
  })

  test('createAsync checks the native object', () => {
    assert.throws(() => createAsync({ isNativeIteratee: () => false }), TypeError)
  })
})

// ---- the real core -------------------------------------------------------

let fetchpool = null
let loadError = null
try {
  fetchpool = require('..')
} catch (err) {
  loadError = err
}
const skipReal = fetchpool === null
  ? `require('..') failed, so the native path cannot be tested here: ${loadError && loadError.message}`
  : false

describe('native path through require(\'..\')', { skip: skipReal }, () => {
  let server
  let base
  let inFlight = 0
  let peak = 0

  before(async () => {
    server = http.createServer((req, res) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      const delay = Number(new URL(req.url, 'http://x').searchParams.get('ms') || 0)
      setTimeout(() => {
        inFlight--
        res.end(`body ${req.url}`)
      }, delay)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${server.address().port}`
  })

  after(() => new Promise((resolve) => server.close(resolve)))

  const textOf = (response) => response.text()

  test('map(urls, fetch, callback): responses in input order', async () => {
    const urls = [`${base}/a?ms=30`, `${base}/b?ms=1`, `${base}/c?ms=10`]
    const responses = await new Promise((resolve, reject) =>
      fetchpool.map(urls, fetchpool.fetch, (err, r) => (err ? reject(err) : resolve(r))))
    assert.deepStrictEqual(responses.map((r) => r.status), [200, 200, 200])
    assert.deepStrictEqual(await Promise.all(responses.map(textOf)),
      ['body /a?ms=30', 'body /b?ms=1', 'body /c?ms=10'])
  })

  test('map(urls) with no iteratee returns a Promise', async () => {
    const responses = await fetchpool.map([`${base}/x`, `${base}/y`])
    assert.deepStrictEqual(await Promise.all(responses.map(textOf)), ['body /x', 'body /y'])
  })

  test('mapLimit(urls, n, fetch) keeps at most n requests in flight; mapSeries one', async () => {
    const urls = Array.from({ length: 12 }, (_, i) => `${base}/l${i}?ms=15`)
    peak = 0
    const responses = await fetchpool.mapLimit(urls, 3, fetchpool.fetch)
    assert.strictEqual(responses.length, 12)
    assert.ok(peak <= 3, `peak ${peak}`)
    peak = 0
    await fetchpool.mapSeries(urls.slice(0, 4))
    assert.strictEqual(peak, 1)
  })

  test('each / eachOf / mapValues on the native path', async () => {
    assert.strictEqual(await fetchpool.each([`${base}/e1`, `${base}/e2`], fetchpool.fetch), undefined)
    assert.strictEqual(await fetchpool.eachOfSeries([`${base}/e3`]), undefined)
    const byName = await fetchpool.mapValues({ one: `${base}/v1`, two: `${base}/v2` }, fetchpool.fetch)
    assert.deepStrictEqual(Object.keys(byName), ['one', 'two'])
    assert.strictEqual(await byName.two.text(), 'body /v2')
  })

  test('an unreachable URL fails the batch with a coded error', async () => {
    const closed = http.createServer()
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadPort = closed.address().port
    await new Promise((resolve) => closed.close(resolve))
    const dead = `http://127.0.0.1:${deadPort}/`
    const [err] = await new Promise((resolve) => fetchpool.map([`${base}/ok`, dead],
      fetchpool.fetch, (e, r) => resolve([e, r])))
    assert.ok(err instanceof fetchpool.FetchError)
    assert.strictEqual(err.code, 'ECONNREFUSED')
    assert.strictEqual(err.index, 1)
    assert.strictEqual(err.url, dead)
  })

  test('collections on the native path are read as async reads them', async () => {
    // An array-like object is an array; an array that is also async
    // iterable is read as an array too, since async checks that first.
    const likeArray = { length: 2, 0: `${base}/like0`, 1: `${base}/like1` }
    const liked = await fetchpool.map(likeArray, fetchpool.fetch)
    assert.deepStrictEqual(await Promise.all(liked.map(textOf)), ['body /like0', 'body /like1'])
    const both = [`${base}/arr0`, `${base}/arr1`]
    both[Symbol.asyncIterator] = async function * () { yield `${base}/iterated` }
    const read = await fetchpool.map(both)
    assert.deepStrictEqual(await Promise.all(read.map(textOf)), ['body /arr0', 'body /arr1'])
    // An async source that throws: the call fails with its error.
    const broken = new Error('the source broke')
    async function * source () {
      yield `${base}/first`
      throw broken
    }
    const [err, results] = await new Promise((resolve) => fetchpool.map(source(), fetchpool.fetch, (e, r) => resolve([e, r])))
    assert.strictEqual(err, broken)
    assert.strictEqual(results, undefined)
    await assert.rejects(fetchpool.mapSeries(source()), (e) => e === broken)
  })

  test('a native map closed part-way calls back with ABORT_ERR and the results up to the last that finished', async () => {
    // /held is never answered; /quick is. Results come back in completion
    // order through one queue per client, so once a fetch sent after /quick
    // finished has resolved, /quick's result has been handed to the map.
    const held = []
    const server = http.createServer((req, res) => {
      if (req.url === '/held') held.push(res)
      else res.end(`body ${req.url}`)
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${server.address().port}`
    const client = new fetchpool.Client()
    try {
      const list = [`${origin}/held`, `${origin}/quick`, `${origin}/held`, `${origin}/held`]
      const called = new Promise((resolve) => fetchpool.map(list, client.fetch, (e, r) => resolve([e, r])))
      while (client.stats().done < 1 || held.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
      await (await client.fetch(`${origin}/after`)).text()
      client.close()
      const [err, results] = await called
      assert.strictEqual(err.code, 'ABORT_ERR')
      assert.strictEqual(results.length, 2)
      assert.strictEqual(0 in results, false)
      assert.strictEqual(await results[1].text(), 'body /quick')
    } finally {
      client.close()
      for (const res of held) res.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('a malformed item fails a native map before anything is sent, and calls back later', async () => {
    let returned = false
    const called = new Promise((resolve) => fetchpool.map([`${base}/fine`, 'not a url'], fetchpool.fetch, (err) => resolve([err, returned])))
    returned = true
    const [err, after] = await called
    assert.strictEqual(err.code, 'ERR_INVALID_URL')
    assert.strictEqual(after, true, 'called back after map returned')
  })

  test('mapValues that fails keeps only the keys that succeeded, as async', async () => {
    const closed = http.createServer()
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const deadPort = closed.address().port
    await new Promise((resolve) => closed.close(resolve))
    const [err, byName] = await new Promise((resolve) => fetchpool.mapValues(
      { dead: `http://127.0.0.1:${deadPort}/`, slow: `${base}/slow?ms=3000` }, fetchpool.fetch, (e, r) => resolve([e, r])))
    assert.strictEqual(err.code, 'ECONNREFUSED')
    assert.deepStrictEqual(byName, {})
    // A malformed item is refused before anything is sent, with the same shape.
    const [bad, none] = await new Promise((resolve) => fetchpool.mapValues(
      { fine: `${base}/fine`, bad: 'not a url' }, fetchpool.fetch, (e, r) => resolve([e, r])))
    assert.strictEqual(bad.code, 'ERR_INVALID_URL')
    assert.deepStrictEqual(none, {})
  })

  test('JS iteratees still take the async path', async () => {
    const lengths = await fetchpool.map([`${base}/j1`, `${base}/j22`], async (url) => {
      const response = await fetchpool.fetch(url)
      return (await response.text()).length
    })
    assert.deepStrictEqual(lengths, ['body /j1'.length, 'body /j22'.length])
  })

  test('queue() with no worker fetches natively', async () => {
    const q = fetchpool.queue(undefined, 2)
    const response = await q.push(`${base}/q1`)
    assert.strictEqual(await response.text(), 'body /q1')
    const bodies = []
    q.push([`${base}/q2`, `${base}/q3`], (err, r) => bodies.push(r.status))
    await q.drain()
    assert.deepStrictEqual(bodies, [200, 200])
  })
})

describe('loading', () => {
  test('fetchpool offers every name createAsync makes, under the same name', () => {
    const names = require('../lib/async/names')
    assert.deepStrictEqual([...names].sort(), Object.keys(createAsync(fakeNative())).sort())
    const fetchpool = require('..')
    for (const name of names) assert.strictEqual(typeof fetchpool[name], 'function', name)
    assert.strictEqual(fetchpool.forEachLimit, fetchpool.eachLimit)
  })

  test('the async surface loads on first use, not with fetchpool', () => {
    const { execFileSync } = require('node:child_process')
    const script = `
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('collections'));
      const fetchpool = require(${JSON.stringify(require.resolve('..'))});
      const before = loaded();
      const mapLimit = fetchpool.mapLimit;
      console.log(JSON.stringify([before, loaded(), typeof mapLimit, fetchpool.mapLimit === mapLimit]));`
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    assert.deepStrictEqual(JSON.parse(out), [false, true, 'function', true])
  })

  test('its names can be assigned, as async\'s can, and queue keeps its arity', () => {
    const { execFileSync } = require('node:child_process')
    const script = `'use strict';
      const fetchpool = require(${JSON.stringify(require.resolve('..'))});
      const mine = () => 'mine';
      fetchpool.waterfall = mine;
      const read = fetchpool.mapLimit;
      fetchpool.mapLimit = mine;
      console.log(JSON.stringify([fetchpool.waterfall === mine, typeof read, fetchpool.mapLimit === mine, fetchpool.queue.length]));`
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
    assert.deepStrictEqual(JSON.parse(out), [true, 'function', true, 2])
  })
})
