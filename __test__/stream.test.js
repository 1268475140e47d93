'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { startServer, refusedPort, delay } = require('./support/server')
const { startHttpServer } = require('./support/http-server')
const { waitFor } = require('./support/wait')
const { collectGarbage } = require('./support/gc')

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
        assert.equal(res.url, urls[res.index])
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
  // A URL alone is no list, though a string is iterable (by its characters).
  for (const requests of [42, null, undefined, server.url('/x')]) {
    assert.throws(() => fetchpool.stream(requests), { code: 'ERR_INVALID_ARG_TYPE' })
  }
  assert.throws(() => fetchpool.stream([], { concurrency: -1 }), { code: 'ERR_OUT_OF_RANGE' })
})

test('a source that throws fails the stream with its own error', async () => {
  const broken = Object.assign(new Error('source broke'), { code: 'ESOURCE' })
  // Synchronous: it throws on the first read, before anything is sent.
  const syncSource = { [Symbol.iterator]: () => ({ next () { throw broken } }) }
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream(syncSource)) assert.ok(res)
  }, (err) => err === broken)
  // Asynchronous: it rejects after two items were sent.
  async function * asyncSource () {
    yield server.url('/async/0')
    yield server.url('/async/1')
    throw broken
  }
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream(asyncSource())) assert.ok(res)
  }, (err) => err === broken)
})

test('a stream whose signal is already aborted fails with its reason, reading and sending nothing', async () => {
  const ac = new AbortController()
  ac.abort(new Error('gone before'))
  let pulled = 0
  function * source () {
    pulled++
    yield server.url('/never')
  }
  const err = await (async () => {
    for await (const res of fetchpool.stream(source(), { signal: ac.signal })) assert.ok(res)
  })().then(() => null, (e) => e)
  assert.equal(err.code, 'ABORT_ERR')
  assert.equal(err.cause.message, 'gone before')
  assert.equal(pulled, 0)
  await delay(30)
  assert.ok(!server.stats.paths.includes('/never'))
})

test('the source is returned once when the consumer stops early, and not when it was read out', async () => {
  /** An iterable over `n` URLs that counts the calls made to its iterator. */
  function counted (n) {
    const calls = { next: 0, return: 0 }
    const iterable = {
      [Symbol.iterator] () {
        let i = 0
        return {
          next () {
            calls.next++
            return i < n ? { done: false, value: server.url(`/counted/${i++}`) } : { done: true, value: undefined }
          },
          return () {
            calls.return++
            return { done: true, value: undefined }
          }
        }
      }
    }
    return { iterable, calls }
  }
  const early = counted(100)
  for await (const res of fetchpool.stream(early.iterable, { concurrency: 4 })) {
    assert.equal(res.status, 200)
    break
  }
  assert.equal(early.calls.return, 1)

  const readOut = counted(5)
  let n = 0
  for await (const res of fetchpool.stream(readOut.iterable, { concurrency: 4 })) {
    assert.equal(res.status, 200)
    n++
  }
  assert.equal(n, 5)
  assert.equal(readOut.calls.return, 0)
})

test('a malformed item fails a fail-fast stream at once; with settle it is that item\'s outcome', async () => {
  server.reset()
  // Read in one part with the good one before it: the part is refused whole.
  await assert.rejects(async () => {
    for await (const res of fetchpool.stream([server.url('/fine'), 42])) assert.ok(res)
  }, { code: 'ERR_INVALID_ARG_TYPE', index: 1 })
  await delay(30)
  assert.equal(server.stats.requests, 0)

  const outcomes = []
  for await (const item of fetchpool.stream([server.url('/fine'), 42, { url: server.url('/'), method: 'B A D' }], { settle: true })) {
    outcomes.push(item)
  }
  outcomes.sort((a, b) => a.index - b.index)
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'rejected'])
  assert.equal(outcomes[0].value.url, server.url('/fine'))
  assert.equal(outcomes[1].reason.code, 'ERR_INVALID_ARG_TYPE')
  assert.equal(outcomes[1].reason.index, 1)
  assert.equal(outcomes[2].reason.code, 'ERR_INVALID_HTTP_TOKEN')
  assert.equal(outcomes[2].reason.index, 2)
})

test('a failed stream throws at the next turn of the loop; results still waiting are not yielded', async () => {
  const held = new Map()
  const own = await startHttpServer((req, res, url) => { held.set(url.pathname, res) })
  const client = new fetchpool.Client()
  try {
    const seen = []
    const consumer = (async () => {
      for await (const res of client.stream(['/0', '/1', '/2'].map((p) => own.url(p)), { concurrency: 3, failOnStatus: true })) {
        seen.push(res.index)
        if (seen.length > 1) continue
        // While the consumer is busy, result 1 comes in, then the error of 2
        // (rows reach JavaScript in the order the engine finished them).
        held.get('/1').end('one')
        await waitFor(() => client.stats().done === 2, 'result 1 in the engine')
        held.get('/2').writeHead(500).end()
        await waitFor(() => client._batches.size === 0, 'the error to end the call')
      }
    })().then(() => null, (err) => err)
    await waitFor(() => held.size === 3, 'all three requests in flight')
    held.get('/0').end('zero')
    const err = await consumer
    assert.equal(err && err.code, 'ERR_HTTP_STATUS')
    assert.equal(err.index, 2)
    assert.deepEqual(seen, [0])
  } finally {
    client.close()
    await own.close()
  }
})

test('an async source is never asked for an item while its last read is pending', async () => {
  const n = 6
  let reads = 0
  let pending = false
  let overlapped = false
  let release = null
  const source = {
    [Symbol.asyncIterator]: () => ({
      next () {
        if (pending) overlapped = true
        pending = true
        const k = reads++
        return new Promise((resolve) => {
          const answer = () => {
            pending = false
            resolve(k < n ? { done: false, value: server.url(`/read/${k}`) } : { done: true, value: undefined })
          }
          if (k === 0) answer()
          else release = answer
        })
      }
    })
  }
  const indices = []
  for await (const res of fetchpool.stream(source, { concurrency: 1 })) {
    indices.push(res.index)
    // The read in progress completes only after the loop has come back to
    // the stream for its next result.
    const answer = release
    release = null
    if (answer !== null) setImmediate(answer)
  }
  assert.deepEqual(indices, [0, 1, 2, 3, 4, 5])
  assert.equal(overlapped, false)
})

test('once the consumer has stopped, an async source is read no further', async () => {
  let reads = 0
  let returned = 0
  let release = null
  const source = {
    [Symbol.asyncIterator]: () => ({
      next () {
        const k = reads++
        const step = { done: false, value: server.url(`/further/${k}`) }
        return k === 0 ? Promise.resolve(step) : new Promise((resolve) => { release = () => resolve(step) })
      },
      return () {
        returned++
        return Promise.resolve({ done: true, value: undefined })
      }
    })
  }
  for await (const res of fetchpool.stream(source, { concurrency: 1 })) {
    assert.equal(res.index, 0)
    break
  }
  assert.equal(returned, 1)
  assert.equal(reads, 2)
  // The read that was pending when the consumer stopped completes now.
  release()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(reads, 2)
})

test('a stream over a source waiting on its own await ends at once on a break, an error or an abort', { timeout: 20000 }, async () => {
  // An async generator runs return() only once its pending next() settles,
  // and a Readable's iterator likewise: here, never. The stream must not
  // wait for it. (The timeout turns a regression into a failure, not a
  // hang: the test takes milliseconds.)
  const { PassThrough } = require('node:stream')
  const stuck = (first) => (async function * () {
    yield first
    await new Promise(() => {})
  })()
  const idleReadable = (first) => {
    const source = new PassThrough({ objectMode: true })
    source.write(first)
    return source
  }
  for (const make of [stuck, idleReadable]) {
    server.reset()
    for await (const res of fetchpool.stream(make(server.url('/x')))) {
      assert.equal(res.index, 0)
      break
    }
    await assert.rejects(async () => {
      for await (const res of fetchpool.stream(make(`http://127.0.0.1:${await refusedPort()}/`))) assert.fail(`no result: ${res.status}`)
    }, { code: 'ECONNREFUSED' })
    const ac = new AbortController()
    await assert.rejects(async () => {
      for await (const res of fetchpool.stream(make(server.url('/x')), { signal: ac.signal })) {
        assert.equal(res.status, 200)
        ac.abort()
      }
    }, { code: 'ABORT_ERR' })
    await assert.rejects(async () => {
      for await (const res of fetchpool.stream(make(server.url('/x')))) throw new Error(`the loop's own ${res.status}`)
    }, { message: "the loop's own 200" })
  }
})

test('an async source with no read pending is returned, and its cleanup done, before the loop ends', async () => {
  // Its items come at once, so the window is full and no read is pending
  // when the consumer stops: as with a plain for await, the generator's
  // finally has run, awaits and all, once the loop is left.
  let cleaned = false
  const source = (async function * () {
    try {
      for (let i = 0; i < 100; i++) yield server.url(`/cleanup/${i}`)
    } finally {
      await new Promise((resolve) => setImmediate(resolve))
      cleaned = true
    }
  })()
  for await (const res of fetchpool.stream(source, { concurrency: 2 })) {
    assert.equal(res.status, 200)
    break
  }
  assert.equal(cleaned, true)
})

test('with settle, each malformed item of an async source keeps its own error', async () => {
  // Each item of an async source crosses on its own, before any result of
  // the ones before it is back.
  async function * source () {
    yield 42
    yield server.url('/between')
    yield { url: 43 }
    yield { url: server.url('/'), method: 'B A D' }
  }
  const outcomes = []
  for await (const item of fetchpool.stream(source(), { settle: true })) outcomes.push(item)
  outcomes.sort((a, b) => a.index - b.index)
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'rejected', 'rejected'])
  assert.deepEqual(outcomes.map((o) => o.reason && o.reason.code), ['ERR_INVALID_ARG_TYPE', undefined, 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_HTTP_TOKEN'])
  assert.deepEqual(outcomes.map((o) => o.reason && o.reason.index), [0, undefined, 2, 3])
  assert.equal(outcomes[1].value.url, server.url('/between'))
})

test('a source that runs out just as the window fills yields exactly its results', async () => {
  // A consumer that takes each result at once leaves room for one more
  // request each time, so the source runs out with the window full.
  const n = 48
  for (const settle of [true, false]) {
    const indices = []
    for await (const item of fetchpool.stream(Array.from({ length: n }, (_, i) => server.url(`/edge/${i}`)), { concurrency: 1, settle })) {
      if (settle) assert.equal(item.status, 'fulfilled', `outcome ${item.index}`)
      indices.push(item.index)
    }
    assert.deepEqual(indices.sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `settle: ${settle}`)
  }
})

test('a request\'s own signal is let go once its result is in, while the stream runs on', async () => {
  // A long stream of requests that each carry a signal keeps none of the
  // finished ones' signals.
  const refs = []
  function * requests () {
    for (let i = 0; i < 200; i++) {
      const signal = new AbortController().signal
      refs.push(new WeakRef(signal))
      yield { url: server.url(`/x?i=${i}`), signal }
    }
  }
  let seen = 0
  let held = -1
  for await (const res of fetchpool.stream(requests(), { concurrency: 4 })) {
    assert.equal(res.status, 200)
    if (++seen === 150) {
      await collectGarbage()
      // The first 100 are long done; the stream has 50 results to go.
      held = refs.slice(0, 100).filter((ref) => ref.deref() !== undefined).length
    }
  }
  assert.equal(seen, 200)
  assert.equal(held, 0)
})
