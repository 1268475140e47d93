'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { startServer, refusedPort, delay } = require('./support/server')
const { startHttpServer } = require('./support/http-server')
const { waitFor } = require('./support/wait')

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('stream yields every result once, in completion order, each with its index', async () => {
  // Each request is held until the test answers it: in the order 1, 3, 2, 0,
  // the next once the last was yielded.
  const held = new Map()
  const own = await startHttpServer((req, res, url) => {
    held.set(url.pathname, () => res.end(`slow ${url.pathname.slice(1)}`))
  })
  try {
    const order = [1, 3, 2, 0]
    const urls = order.map((_, i) => own.url(`/${i}`))
    const seen = []
    const answer = () => held.get(`/${order[seen.length]}`)()
    const consumer = (async () => {
      for await (const res of fetchpool.stream(urls, { concurrency: 4 })) {
        seen.push(res.index)
        assert.equal(await res.text(), `slow ${res.index}`)
        if (seen.length < order.length) answer()
      }
    })()
    await waitFor(() => held.size === 4, 'all four requests in flight')
    answer()
    await consumer
    assert.deepEqual(seen, order)
  } finally {
    await own.close()
  }
})

test('a stream whose parts keep coming holds to its concurrency and keeps its connections', async () => {
  const client = new fetchpool.Client()
  try {
    server.reset()
    const urls = Array.from({ length: 60 }, (_, i) => server.url(`/slow?ms=3&id=${i}`))
    const seen = new Set()
    for await (const res of client.stream(urls, { concurrency: 3 })) {
      assert.equal(await res.text(), `slow ${res.index}`)
      seen.add(res.index)
      // A slow consumer: the next parts come in as it makes room.
      if (res.index % 7 === 0) await delay(2)
    }
    assert.equal(seen.size, 60)
    assert.ok(server.stats.maxInFlight <= 3, `max in flight ${server.stats.maxInFlight}`)
    assert.ok(server.stats.connections <= 3, `${server.stats.connections} connections`)
    const stats = client.stats()
    assert.equal(stats.inFlight, 0)
    assert.equal(stats.queued, 0)
  } finally {
    client.close()
  }
})

test('stream pulls from the source lazily: memory stays bounded', async () => {
  let pulled = 0
  let consumed = 0
  let maxAhead = 0
  function * source () {
    for (let i = 0; i < 2000; i++) {
      pulled++
      maxAhead = Math.max(maxAhead, pulled - consumed)
      yield server.url(`/g/${i}`)
    }
  }
  for await (const res of fetchpool.stream(source(), { concurrency: 8 })) {
    assert.equal(res.status, 200)
    consumed++
  }
  assert.equal(consumed, 2000)
  assert.ok(maxAhead <= 16, `ran ahead of the consumer by ${maxAhead}`)
})

test('stream takes async iterables', async () => {
  async function * source () {
    for (let i = 0; i < 30; i++) {
      await delay(1)
      yield server.url(`/ag/${i}`)
    }
  }
  const indices = []
  for await (const res of fetchpool.stream(source(), { concurrency: 4 })) indices.push(res.index)
  assert.deepEqual(indices.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i))
})

test('stream throws the first error by default and settles with settle: true', async () => {
  const port = await refusedPort()
  const urls = [server.url('/slow?ms=50'), `http://127.0.0.1:${port}/`, server.url('/slow?ms=50')]
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream(urls)) assert.ok(res)
  }, { code: 'ECONNREFUSED', index: 1 })
  const outcomes = []
  for await (const item of fetchpool.stream(urls, { settle: true })) outcomes.push(item)
  assert.equal(outcomes.length, 3)
  const rejected = outcomes.filter((o) => o.status === 'rejected')
  assert.equal(rejected.length, 1)
  assert.equal(rejected[0].index, 1)
  assert.equal(rejected[0].reason.code, 'ECONNREFUSED')
})

test('breaking out of a stream cancels what is in flight', async () => {
  server.reset()
  const urls = [server.url('/x'), ...Array.from({ length: 20 }, () => server.url('/slow?ms=3000'))]
  for await (const res of fetchpool.stream(urls, { concurrency: 5 })) {
    assert.equal(res.index, 0)
    break
  }
  await waitFor(() => server.stats.inFlight === 0, 'the server to see the rest cancelled')
  assert.ok(server.stats.requests <= 6)
})

test('an AbortSignal ends a stream with ABORT_ERR', async () => {
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream([server.url('/slow?ms=3000')], { signal: ac.signal })) assert.ok(res)
  }, { code: 'ABORT_ERR' })
})

test('a stream whose source is slow stays cancellable and keeps settling bad items', async () => {
  async function * source (bad = -1) {
    for (let i = 0; i < 6; i++) {
      await delay(40)
      yield i === bad ? 'not a url' : server.url(`/slow?ms=5&id=${i}`)
    }
  }
  const outcomes = []
  for await (const item of fetchpool.stream(source(1), { concurrency: 1, settle: true })) outcomes.push(item)
  assert.equal(outcomes.length, 6)
  assert.equal(outcomes.find((o) => o.index === 1).reason.code, 'ERR_INVALID_URL')
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 5)

  // Aborted after the first result, while the stream waits on its source.
  const ac = new AbortController()
  const seen = []
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream(source(), { concurrency: 1, signal: ac.signal })) {
      seen.push(res.index)
      ac.abort()
    }
  }, { code: 'ABORT_ERR' })
  assert.deepEqual(seen, [0])
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream(source(1), { concurrency: 1 })) assert.equal(res.index, 0)
  }, { code: 'ERR_INVALID_URL', index: 1 })
})

test('stream checks its input', () => {
  assert.throws(() => fetchpool.stream(42), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => fetchpool.stream([], { concurrency: -1 }), { code: 'ERR_OUT_OF_RANGE' })
})
