'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { startServer, refusedPort, delay } = require('./support/server')
const { waitFor } = require('./support/wait')
const { startHttpServer } = require('./support/http-server')
const { getEventListeners } = require('node:events')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('gather returns responses in input order, whatever order they finish in', async () => {
  // Earlier items are slower, so they finish last.
  const urls = Array.from({ length: 20 }, (_, i) => server.url(`/slow?ms=${(20 - i) * 5}&id=${i}`))
  const results = await fetchpool.gather(urls, { concurrency: 20 })
  assert.equal(results.length, 20)
  for (let i = 0; i < 20; i++) {
    assert.equal(results[i].index, i)
    assert.equal(await results[i].text(), `slow ${i}`)
  }
})

test('gather of many URLs, and of mixed request kinds', async () => {
  const urls = Array.from({ length: 3000 }, (_, i) => server.url(`/p/${i}`))
  const results = await fetchpool.gather(urls)
  assert.equal(results.length, 3000)
  assert.ok(results.every((r, i) => r.status === 200 && r.buffer.toString() === `hello /p/${i}`))
  const mixed = await fetchpool.gather([
    server.url('/a'),
    new URL(server.url('/b')),
    { url: server.url('/echo'), method: 'DELETE' }
  ])
  assert.equal(await mixed[0].text(), 'hello /a')
  assert.equal(await mixed[1].text(), 'hello /b')
  assert.equal((await mixed[2].json()).method, 'DELETE')
})

test('tabs and newlines inside URLs are dropped, as WHATWG\'s parser drops them', async () => {
  // A newline must not split a URL in two on its way into the engine, in a
  // part of its own or among plain URLs.
  const odd = [server.url('/p/a\nb'), server.url('/p/\tc\r'), server.url('/p/d\r\ne'), `\n${server.url('/p/f')}\t`]
  const urls = Array.from({ length: 1500 }, (_, i) => server.url(`/p/${i}`))
  urls.splice(3, 0, ...odd)
  urls.push(odd[0])
  for (const list of [odd, urls]) {
    const results = await fetchpool.gather(list)
    assert.equal(results.length, list.length)
    for (let i = 0; i < list.length; i++) {
      const path = new URL(list[i]).pathname
      assert.equal(results[i].status, 200)
      assert.equal(results[i].buffer.toString(), `hello ${path}`)
      assert.equal(results[i].url, new URL(list[i]).href)
    }
  }
  assert.equal((await fetchpool.fetch(odd[2])).url, server.url('/p/de'))
})

test('gather and the native map fetch the list as it was when called, though the caller refills it', async () => {
  // Over 1,024 items a call reads its list in parts, over later turns.
  const n = 3000
  const list = (tag) => Array.from({ length: n }, (_, i) => server.url(`/${tag}/${i}`))
  const first = list('first')
  const gathered = fetchpool.gather(first)
  first.length = 0
  first.push(...list('later'))
  const second = list('second')
  const mapped = fetchpool.mapLimit(second, 64)
  second.length = 1
  for (const [call, tag] of [[gathered, 'first'], [mapped, 'second']]) {
    const responses = await call
    assert.equal(responses.length, n)
    assert.deepEqual(responses.map((r) => new URL(r.url).pathname), list(tag).map((u) => new URL(u).pathname))
  }
})

test('gather accepts any iterable and an empty list', async () => {
  const set = new Set([server.url('/s1'), server.url('/s2')])
  const results = await fetchpool.gather(set)
  assert.deepEqual(results.map((r) => r.status), [200, 200])
  assert.deepEqual(await fetchpool.gather([]), [])
})

test('concurrency bounds the requests in flight', async () => {
  server.reset()
  const urls = Array.from({ length: 40 }, () => server.url('/slow?ms=20'))
  await fetchpool.gather(urls, { concurrency: 3 })
  assert.equal(server.stats.requests, 40)
  assert.ok(server.stats.maxInFlight <= 3, `max in flight ${server.stats.maxInFlight}`)
  assert.ok(server.stats.maxInFlight >= 2)
  server.reset()
  await fetchpool.gather(urls, { concurrency: 16 })
  assert.ok(server.stats.maxInFlight > 3 && server.stats.maxInFlight <= 16, `max in flight ${server.stats.maxInFlight}`)
})

test('the first error rejects, stops launching and cancels what is in flight', async () => {
  const port = await refusedPort()
  server.reset()
  const urls = [
    ...Array.from({ length: 4 }, () => server.url('/slow?ms=3000')),
    `http://127.0.0.1:${port}/refused`,
    ...Array.from({ length: 50 }, () => server.url('/slow?ms=3000'))
  ]
  const started = Date.now()
  const err = await fetchpool.gather(urls, { concurrency: 5 }).then(() => null, (e) => e)
  assert.equal(err.code, 'ECONNREFUSED')
  assert.equal(err.index, 4)
  assert.ok(Date.now() - started < 2000, 'rejected without waiting for the slow ones')
  await delay(100)
  assert.ok(server.stats.requests <= 5, `launched ${server.stats.requests}`)
  assert.equal(server.stats.inFlight, 0, 'in-flight requests were cancelled')
})

test('settle: true gives allSettled-shaped outcomes and fetches the rest', async () => {
  const port = await refusedPort()
  const results = await fetchpool.gather([
    server.url('/one'),
    `http://127.0.0.1:${port}/`,
    'not a url',
    42,
    server.url('/two')
  ], { settle: true })
  assert.equal(results[0].status, 'fulfilled')
  assert.equal(await results[0].value.text(), 'hello /one')
  assert.equal(results[1].status, 'rejected')
  assert.equal(results[1].reason.code, 'ECONNREFUSED')
  assert.equal(results[1].reason.index, 1)
  assert.equal(results[2].reason.code, 'ERR_INVALID_URL')
  assert.equal(results[2].reason.index, 2)
  assert.equal(results[3].reason.code, 'ERR_INVALID_ARG_TYPE')
  assert.equal(results[3].reason.index, 3)
  assert.equal(results[4].value.status, 200)
})

test('a malformed item fails a fail-fast gather before anything is sent', async () => {
  for (const bad of ['not a url', 42, { url: server.url('/'), method: 'B A D' }, 'gopher://x/']) {
    server.reset()
    const err = await fetchpool.gather([server.url('/a'), server.url('/b'), bad, server.url('/c')]).then(() => null, (e) => e)
    assert.ok(err, `rejected for ${bad}`)
    assert.equal(err.index, 2)
    assert.match(err.code, /^ERR_INVALID_/)
    await delay(30)
    assert.equal(server.stats.requests, 0)
  }
})

test('a fail-fast call the engine refuses leaves nothing held', async () => {
  const client = new fetchpool.Client()
  try {
    await assert.rejects(client.gather([server.url('/a'), 'not a url']), { code: 'ERR_INVALID_URL', index: 1 })
    // What keeps the process alive counts requests in flight: none are.
    assert.equal(client._active, 0)
    assert.equal(client._batches.size, 0)
    const [res] = await client.gather([server.url('/after')])
    assert.equal(res.status, 200)
    assert.equal(client._active, 0)
  } finally {
    client.close()
  }
})

// Long lists cross into the engine in parts, one per turn of the event loop
// (lib/batch.js `submitAll`); the call still starts as one.
test('a long list: a malformed item in a late part still fails it before anything is sent', async () => {
  for (const bad of ['not a url', 42, 'gopher://x/']) {
    server.reset()
    const urls = Array.from({ length: 5000 }, (_, i) => server.url(`/p/${i}`))
    urls[4321] = bad
    const err = await fetchpool.gather(urls).then(() => null, (e) => e)
    assert.ok(err, `rejected for ${bad}`)
    assert.equal(err.index, 4321)
    assert.match(err.code, /^ERR_INVALID_/)
    await delay(30)
    assert.equal(server.stats.requests, 0)
    assert.equal(fetchpool.stats().queued, 0)
  }
})

test('a long list with settle: a malformed item in a late part is that item\'s error', async () => {
  const urls = Array.from({ length: 3000 }, (_, i) => server.url(`/p/${i}`))
  urls[2500] = 'not a url'
  const results = await fetchpool.gather(urls, { settle: true })
  assert.equal(results[2500].status, 'rejected')
  assert.equal(results[2500].reason.code, 'ERR_INVALID_URL')
  assert.equal(results[2500].reason.index, 2500)
  assert.ok(results.every((r, i) => i === 2500 || (r.status === 'fulfilled' && r.value.buffer.toString() === `hello /p/${i}`)))
})

test('a long list aborted while it crosses: nothing is sent and nothing stays queued', async () => {
  server.reset()
  const controller = new AbortController()
  const urls = Array.from({ length: 5000 }, (_, i) => server.url(`/p/${i}`))
  const pending = fetchpool.gather(urls, { signal: controller.signal })
  setImmediate(() => controller.abort())
  await assert.rejects(pending, { code: 'ABORT_ERR' })
  await delay(30)
  assert.equal(server.stats.requests, 0)
  assert.equal(fetchpool.stats().queued, 0)
  assert.equal(fetchpool.stats().inFlight, 0)
})

test('gather with a callback', async () => {
  const results = await new Promise((resolve, reject) => {
    const ret = fetchpool.gather([server.url('/c1'), server.url('/c2')], { concurrency: 2 }, (err, res) => (err ? reject(err) : resolve(res)))
    assert.equal(ret, undefined)
  })
  assert.deepEqual(results.map((r) => r.index), [0, 1])
  const err = await new Promise((resolve) => fetchpool.gather([server.url('/status/500'), 'x://'], (e) => resolve(e)))
  assert.equal(err.code, 'ERR_INVALID_URL_SCHEME')
  assert.throws(() => fetchpool.gather('not a list', () => {}), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(fetchpool.gather(42), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('an AbortSignal cancels the whole gather', async () => {
  server.reset()
  const ac = new AbortController()
  const urls = Array.from({ length: 30 }, () => server.url('/slow?ms=30000'))
  const pending = fetchpool.gather(urls, { concurrency: 10, signal: ac.signal }).then(() => null, (e) => e)
  // Aborted once the first ten are in flight, long before any answers.
  await waitFor(() => server.stats.inFlight === 10, 'ten requests in flight')
  ac.abort(new Error('enough'))
  const err = await pending
  assert.equal(err.code, 'ABORT_ERR')
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause.message, 'enough')
  await waitFor(() => server.stats.inFlight === 0, 'the server to see every request cancelled')
  assert.equal(server.stats.requests, 10)
})

test('a signal two calls share still cancels the one left after the other ends', async () => {
  server.reset()
  const ac = new AbortController()
  const left = fetchpool.gather([held()], { signal: ac.signal }).then(() => null, (e) => e)
  await fetchpool.gather([server.url('/a')], { signal: ac.signal })
  await waitFor(() => server.stats.inFlight === 1, 'the held request in flight')
  ac.abort()
  await waitFor(() => server.stats.inFlight === 0, 'the server to see the held request cancelled')
  assert.equal((await left).code, 'ABORT_ERR')
})

test('a request object signal cancels that request only', async () => {
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const results = await fetchpool.gather([
    { url: server.url('/slow?ms=3000'), signal: ac.signal },
    server.url('/slow?ms=100&id=kept')
  ], { settle: true })
  assert.equal(results[0].reason.code, 'ABORT_ERR')
  assert.equal(results[0].reason.index, 0)
  // Shaped as the abort of a whole call: an AbortError that counts no
  // attempt, even once the request has gone out.
  assert.equal(results[0].reason.name, 'AbortError')
  assert.equal(results[0].reason.attempts, 0)
  assert.equal(await results[1].value.text(), 'slow kept')
})

test('a request whose own signal is already aborted fails alone with ABORT_ERR', async () => {
  const gone = new AbortController()
  gone.abort()
  const results = await fetchpool.gather([
    server.url('/slow?ms=20&id=kept'),
    { url: server.url('/slow?ms=3000&id=gone'), signal: gone.signal }
  ], { settle: true })
  assert.equal(await results[0].value.text(), 'slow kept')
  assert.equal(results[1].status, 'rejected')
  assert.equal(results[1].reason.code, 'ABORT_ERR')
  assert.equal(results[1].reason.index, 1)
})

test('a request\'s own signal is let go when its request ends, and when the call ends early', async () => {
  const held = new Map()
  const own = await startHttpServer((req, res, url) => { held.set(url.pathname, res) })
  try {
    const listeners = (signal) => getEventListeners(signal, 'abort').length
    const first = new AbortController()
    const pending = fetchpool.gather([{ url: own.url('/a'), signal: first.signal }, own.url('/b')], { settle: true })
    await waitFor(() => held.size === 2, 'both requests in flight')
    assert.equal(listeners(first.signal), 1)
    held.get('/a').end('a')
    // The call runs on with /b held: the signal of /a is let go all the same.
    await waitFor(() => listeners(first.signal) === 0, 'the listener of /a removed')
    held.get('/b').end('b')
    const results = await pending
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled'])

    // A fail-fast call that fails lets go of the signals of the requests it cancels.
    const port = await refusedPort()
    const second = new AbortController()
    await assert.rejects(fetchpool.gather([{ url: own.url('/c'), signal: second.signal }, `http://127.0.0.1:${port}/`]), { code: 'ECONNREFUSED' })
    assert.equal(listeners(second.signal), 0)

    // A call whose requests cross in several parts (a stream of an async
    // source) lets go of the signals of every part.
    const third = [new AbortController(), new AbortController()]
    async function * source () {
      for (const c of third) yield { url: server.url('/part'), signal: c.signal }
    }
    for await (const res of fetchpool.stream(source())) assert.equal(res.status, 200)
    assert.deepEqual(third.map((c) => listeners(c.signal)), [0, 0])
  } finally {
    await own.close()
  }
})

test('a call\'s signal is let go once the call settles', async () => {
  // A signal that lives on (one for the whole program, say) keeps no
  // listener, nor anything of the calls it was given to.
  const listeners = (signal) => getEventListeners(signal, 'abort').length
  const app = new AbortController()
  const urls = [server.url('/a'), server.url('/b')]
  const all = await fetchpool.gather(urls, { signal: app.signal })
  assert.deepEqual(all.map((r) => r.status), [200, 200])
  assert.equal(listeners(app.signal), 0)
  await assert.rejects(fetchpool.gather([server.url('/a'), `http://127.0.0.1:${await refusedPort()}/`], { signal: app.signal }),
    { code: 'ECONNREFUSED' })
  assert.equal(listeners(app.signal), 0)
  let streamed = 0
  for await (const res of fetchpool.stream(urls, { signal: app.signal })) streamed += res.status === 200 ? 1 : 0
  assert.equal(streamed, 2)
  assert.equal(listeners(app.signal), 0)
  assert.equal(app.signal.aborted, false)
})

test('onProgress reports counts, ending with the total', async () => {
  const reports = []
  const urls = Array.from({ length: 50 }, (_, i) => server.url(`/slow?ms=5&id=${i}`))
  await fetchpool.gather(urls, { concurrency: 5, onProgress: (p) => reports.push(p) })
  assert.ok(reports.length >= 1)
  const last = reports[reports.length - 1]
  assert.equal(last.done, 50)
  assert.equal(last.failed, 0)
  assert.equal(last.total, 50)
  assert.equal(last.inFlight, 0)
  assert.ok(last.bytes > 0)
  // The end is reported once.
  assert.equal(reports.filter((r) => r.done === 50).length, 1)
})

test('the native map leaves partial results as async does: up to the last finished, the failed slot undefined', async () => {
  const port = await refusedPort()
  const urls = [server.url('/a'), server.url('/b'), `http://127.0.0.1:${port}/`, server.url('/slow?ms=3000'), server.url('/e')]
  const [err, results] = await new Promise((resolve) => fetchpool.mapSeries(urls, fetchpool.fetch, (e, r) => resolve([e, r])))
  assert.equal(err.code, 'ECONNREFUSED')
  assert.equal(results.length, 3)
  assert.equal(results[0].status, 200)
  assert.equal(results[1].status, 200)
  assert.ok(2 in results)
  assert.equal(results[2], undefined)
})

// A request the server holds until it is cancelled.
const held = () => server.url('/slow?ms=30000')

// Progress reports the first result once PROGRESS_INTERVAL_MS (100 ms) have
// passed on the performance clock, whose origin is the start of the process;
// the tests that read the first report wait for that mark first.
const pastFirstInterval = () => waitFor(() => performance.now() >= 100, 'the first progress interval')

test('onProgress: the last report comes before the call settles, with nothing in flight, when it fails too', async () => {
  const port = await refusedPort()
  const ac = new AbortController()
  const calls = [
    { urls: [server.url('/a'), server.url('/b')], done: 2, failed: 0 },
    // Fails on its first result: the other two are cancelled, never counted.
    { urls: [`http://127.0.0.1:${port}/`, held(), held()], done: 1, failed: 1 },
    // Aborted with nothing finished: the only report is the last one.
    { urls: [held(), held()], done: 0, failed: 0, abort: ac }
  ]
  for (const call of calls) {
    const reports = []
    let settled = false
    const pending = fetchpool.gather(call.urls, {
      concurrency: 3,
      signal: call.abort && call.abort.signal,
      onProgress: (p) => reports.push({ ...p, settled })
    }).then(() => { settled = true }, () => { settled = true })
    if (call.abort) call.abort.abort()
    await pending
    assert.ok(reports.length >= 1, `${call.urls.length} requests: no report`)
    assert.deepEqual(reports.map((r) => r.settled), reports.map(() => false), 'a report after the call settled')
    const last = reports[reports.length - 1]
    assert.deepEqual([last.done, last.failed, last.inFlight, last.total], [call.done, call.failed, 0, call.urls.length])
  }
})

test("onProgress reports the call's concurrency in flight, else the client's", async () => {
  const port = await refusedPort()
  const client = new fetchpool.Client({ concurrency: 3 })
  try {
    await pastFirstInterval()
    // The first result is the refused request's: nine others are left, as
    // many of them in flight as the concurrency allows.
    const urls = [`http://127.0.0.1:${port}/`, ...Array.from({ length: 9 }, held)]
    // Nine left under a concurrency of 20: all nine are in flight, no more.
    for (const [options, inFlight] of [[{}, 3], [{ timeout: 60000 }, 3], [{ concurrency: 2 }, 2], [{ concurrency: 5 }, 5],
      [{ concurrency: 20 }, 9]]) {
      const reports = []
      const err = await client.gather(urls, { ...options, onProgress: (p) => reports.push(p) }).then(() => null, (e) => e)
      assert.equal(err.code, 'ECONNREFUSED')
      assert.equal(reports.length, 2, JSON.stringify(options))
      assert.deepEqual([reports[0].done, reports[0].inFlight], [1, inFlight], JSON.stringify(options))
      assert.equal(reports[1].inFlight, 0)
    }
  } finally {
    client.close()
  }
})

// async 3.2.6's map sets each result as it comes in, the failed one's to
// undefined, and calls back at the first error: the array runs to the last
// index that finished. Checked against async itself, with the same orders.
test('the native map leaves a partial result of one when the first request fails first', async () => {
  const port = await refusedPort()
  const client = new fetchpool.Client()
  try {
    const urls = [`http://127.0.0.1:${port}/`, held(), held()]
    const [err, results] = await new Promise((resolve) => fetchpool.mapLimit(urls, 3, client.fetch, (e, r) => resolve([e, r])))
    assert.equal(err.code, 'ECONNREFUSED')
    assert.equal(err.index, 0)
    assert.equal(results.length, 1)
    assert.ok(0 in results)
    assert.equal(results[0], undefined)
  } finally {
    client.close()
  }
})

test('the native map leaves partial results to the last that finished, when they finish out of order', async () => {
  const client = new fetchpool.Client()
  try {
    const ac = new AbortController()
    // The first request fails once the twenty after it have finished; the
    // last one never finishes.
    const urls = [{ url: held(), signal: ac.signal }, ...Array.from({ length: 20 }, (_, i) => server.url(`/p/${i + 1}`)), held()]
    const pending = new Promise((resolve) => fetchpool.mapLimit(urls, 22, client.fetch, (e, r) => resolve([e, r])))
    await waitFor(() => client.stats().done === 20, 'twenty requests done')
    ac.abort()
    const [err, results] = await pending
    assert.equal(err.code, 'ABORT_ERR')
    assert.equal(err.index, 0)
    // The engine counts a request done just before it hands the result on,
    // so the twenty reach JavaScript before the abort; the assertions allow
    // for the last of them being overtaken all the same.
    assert.ok(results.length >= 2 && results.length <= 21, `length ${results.length}`)
    assert.ok(0 in results)
    assert.equal(results[0], undefined)
    assert.equal(results[results.length - 1].status, 200)
    for (let i = 1; i < results.length; i++) {
      if (results[i] !== undefined) assert.equal(results[i].buffer.toString(), `hello /p/${i}`)
    }
  } finally {
    client.close()
  }
})

test('gather with a signal already aborted rejects with its reason and sends nothing', async () => {
  server.reset()
  const client = new fetchpool.Client()
  try {
    const reason = new Error('not wanted')
    const err = await client.gather([server.url('/a'), server.url('/b')], { signal: AbortSignal.abort(reason) })
      .then(() => null, (e) => e)
    assert.equal(err.code, 'ABORT_ERR')
    assert.equal(err.cause, reason)
    const { queued, inFlight, done, batches } = client.stats()
    assert.deepEqual({ queued, inFlight, done, batches }, { queued: 0, inFlight: 0, done: 0, batches: 0 })
    assert.equal(server.stats.requests, 0)
  } finally {
    client.close()
  }
})

test('a native map whose final callback closes the client is called back once', async () => {
  const client = new fetchpool.Client()
  const outcomes = []
  await new Promise((resolve) => {
    fetchpool.map([server.url('/a'), server.url('/b')], client.fetch, (err, results) => {
      outcomes.push([err, results.length])
      client.close()
      setImmediate(resolve)
    })
  })
  assert.deepEqual(outcomes, [[null, 2]])
})

test('a signal aborted from the last onProgress report settles a gather once', async () => {
  const ac = new AbortController()
  const outcomes = []
  await new Promise((resolve) => {
    const onProgress = (p) => { if (p.done === p.total) ac.abort() }
    fetchpool.gather([server.url('/a')], { signal: ac.signal, onProgress }, (err) => {
      outcomes.push(err)
      setImmediate(resolve)
    })
  })
  assert.equal(outcomes.length, 1)
})

test('an onProgress that throws: the error is uncaught, the call still resolves', async () => {
  // In a child: the throw is an uncaught exception, which the test runner
  // would count against this file.
  const script = `
    const fetchpool = require(${JSON.stringify(require.resolve('..'))})
    const uncaught = []
    process.on('uncaughtException', (err) => uncaught.push(err.message))
    fetchpool.gather(${JSON.stringify([server.url('/a'), server.url('/b')])}, {
      onProgress: () => { throw new Error('progress threw') }
    }).then((results) => setImmediate(() => {
      console.log(JSON.stringify({ statuses: results.map((r) => r.status), uncaught: [...new Set(uncaught)] }))
      fetchpool.defaultClient.close()
    }))`
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 20000 })
  assert.deepEqual(JSON.parse(stdout), { statuses: [200, 200], uncaught: ['progress threw'] })
})

test('results queued for a call that has ended meanwhile are let go', async () => {
  const client = new fetchpool.Client()
  try {
    const url = `http://127.0.0.1:${await refusedPort()}/`
    const controller = new AbortController()
    const settled = client.gather(Array.from({ length: 20 }, () => url), { settle: true, signal: controller.signal })
      .then(() => null, (e) => e)
    // The JavaScript thread is held until the engine has failed all twenty,
    // so their results wait in the queue while the call is aborted.
    const deadline = Date.now() + 10_000
    while (client.stats().done < 20 && Date.now() < deadline);
    assert.equal(client.stats().done, 20, 'the engine failed every request')
    controller.abort()
    assert.equal((await settled).code, 'ABORT_ERR')
    // The queued results reach a client that no longer knows their call.
    await delay(50)
    assert.equal(client.stats().inFlight, 0)
  } finally {
    client.close()
  }
})
