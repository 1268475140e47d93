'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { FetchError } = fetchpool
const { startServer, startRawServer, refusedPort } = require('./support/server')
const { blackHole } = require('./support/black-hole')
const { waitFor } = require('./support/wait')

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('a refused connection is ECONNREFUSED with url, index and attempts', async () => {
  const port = await refusedPort()
  const url = `http://127.0.0.1:${port}/x`
  const err = await fetchpool.fetch(url).then(() => null, (e) => e)
  assert.ok(err instanceof FetchError)
  assert.equal(err.name, 'FetchError')
  assert.equal(err.code, 'ECONNREFUSED')
  assert.equal(err.url, url)
  assert.equal(err.index, 0)
  assert.equal(err.attempts, 1)
})

test('a connect that gets no answer is ERR_CONNECT_TIMEOUT', async (t) => {
  const port = await blackHole(t)
  const client = new fetchpool.Client({ timeout: { connect: 300, headers: 3000 } })
  t.after(() => client.close())
  await assert.rejects(client.fetch(`http://127.0.0.1:${port}/`), { code: 'ERR_CONNECT_TIMEOUT' })
})

test('each timeout has its own code', async () => {
  await assert.rejects(fetchpool.fetch(server.url('/headers-delay?ms=2000'), { timeout: { headers: 100 } }),
    { code: 'ERR_HEADERS_TIMEOUT', name: 'FetchError' })
  await assert.rejects(fetchpool.fetch(server.url('/body-stall'), { timeout: { body: 150 } }),
    { code: 'ERR_BODY_TIMEOUT' })
  // Never idle for more than 40 ms of a 1000 ms body timeout (room for a
  // loaded machine), but 50 × 40 ms in total, past the 400 ms total.
  await assert.rejects(fetchpool.fetch(server.url('/dribble?n=50&ms=40'), { timeout: { body: 1000, total: 400 } }),
    { code: 'ERR_TOTAL_TIMEOUT' })
  await assert.rejects(fetchpool.fetch(server.url('/headers-delay?ms=2000'), { timeout: 100 }),
    { code: 'ERR_TOTAL_TIMEOUT' })
  await assert.rejects(fetchpool.fetch({ url: server.url('/headers-delay?ms=2000'), timeout: 100 }),
    { code: 'ERR_TOTAL_TIMEOUT' })
  const ok = await fetchpool.fetch(server.url('/dribble?n=5&ms=20'), { timeout: { body: 500, total: 2000 } })
  assert.equal(ok.buffer.length, 5)
})

test('an AbortSignal cancels a fetch with ABORT_ERR', async () => {
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const started = Date.now()
  const err = await fetchpool.fetch(server.url('/slow?ms=3000'), { signal: ac.signal }).then(() => null, (e) => e)
  assert.equal(err.code, 'ABORT_ERR')
  assert.equal(err.name, 'AbortError')
  assert.ok(Date.now() - started < 2000)
  const pre = AbortSignal.abort()
  // Aborted before the call, it names its one request as an abort in flight does.
  const url = server.url('/x')
  await assert.rejects(fetchpool.fetch(url, { signal: pre }), { code: 'ABORT_ERR', url, index: 0 })
  await assert.rejects(fetchpool.fetch({ url: new URL(url) }, { signal: pre }), { code: 'ABORT_ERR', url, index: 0 })
  const viaCallback = await new Promise((resolve) => fetchpool.fetch(url, { signal: pre }, resolve))
  assert.deepEqual([viaCallback.code, viaCallback.url, viaCallback.index], ['ABORT_ERR', url, 0])
  const perRequest = new AbortController()
  setTimeout(() => perRequest.abort(), 50)
  await assert.rejects(fetchpool.fetch({ url: server.url('/slow?ms=3000'), signal: perRequest.signal }), { code: 'ABORT_ERR' })
})

test('an ABORT_ERR names the request its own signal cancelled; the call\'s names none', async () => {
  const url = server.url('/slow?ms=30000')
  const own = new AbortController()
  const settled = fetchpool.gather([server.url('/a'), { url, signal: own.signal }], { settle: true })
  const why = new Error('the caller gave up')
  own.abort(why)
  const { reason } = (await settled)[1]
  assert.deepEqual([reason.code, reason.url, reason.index, reason.attempts], ['ABORT_ERR', url, 1, 0])
  assert.equal(reason.cause, why, "the signal's reason is the cause, as for a call's signal")
  // Two requests cancelled by their own signals: each keeps its own reason.
  const [one, two] = [new AbortController(), new AbortController()]
  const both = fetchpool.gather([{ url, signal: one.signal }, { url, signal: two.signal }], { settle: true })
  one.abort('first')
  two.abort('second')
  assert.deepEqual((await both).map((o) => o.reason.cause), ['first', 'second'])
  // Aborted once on the wire, by a signal without a reason of its own.
  const late = new AbortController()
  const started = fetchpool.fetch({ url: `${url}&late`, signal: late.signal }).then(() => null, (e) => e)
  await waitFor(() => server.stats.paths.includes('/slow?ms=30000&late'), 'the request on the wire')
  late.abort()
  const lateErr = await started
  assert.deepEqual([lateErr.code, lateErr.cause && lateErr.cause.name], ['ABORT_ERR', 'AbortError'])
  const whole = new AbortController()
  const failed = fetchpool.gather([url], { signal: whole.signal }).then(() => null, (e) => e)
  whole.abort()
  const err = await failed
  assert.deepEqual([err.code, err.url, err.index, err.attempts], ['ABORT_ERR', undefined, undefined, 0])
})

test('a request that failed on its own before its signal fired keeps its own error and cause', async () => {
  const client = new fetchpool.Client()
  try {
    const url = `http://127.0.0.1:${await refusedPort()}/`
    const own = new AbortController()
    const before = client.stats().done
    const pending = client.fetch({ url, signal: own.signal }).then(() => null, (e) => e)
    // The request goes to the engine in a microtask. The JavaScript thread is
    // then held until the engine has failed it, so its result waits in the
    // queue while the signal fires.
    await new Promise((resolve) => queueMicrotask(resolve))
    const deadline = Date.now() + 10_000
    while (client.stats().done === before && Date.now() < deadline);
    assert.equal(client.stats().done, before + 1, 'the engine failed the request')
    const reason = new Error('too late')
    own.abort(reason)
    const err = await pending
    assert.equal(err.code, 'ECONNREFUSED')
    assert.notEqual(err.cause, reason)
  } finally {
    client.close()
  }
})

test('malformed responses are ERR_HTTP_PROTOCOL; a reset is ECONNRESET', async (t) => {
  const raw = await startRawServer('HELLO THERE\r\n\r\n')
  t.after(() => raw.close())
  await assert.rejects(fetchpool.fetch(raw.url('/')), { code: 'ERR_HTTP_PROTOCOL' })
  await assert.rejects(fetchpool.fetch(server.url('/truncated')), { code: 'ERR_HTTP_PROTOCOL' })
  await assert.rejects(fetchpool.fetch(server.url('/reset')), { code: 'ECONNRESET' })
})

test('redirect limits: ERR_TOO_MANY_REDIRECTS', async () => {
  await assert.rejects(fetchpool.fetch(server.url('/loop')), { code: 'ERR_TOO_MANY_REDIRECTS' })
  await assert.rejects(fetchpool.fetch(server.url('/redirect?n=3'), { maxRedirects: 2 }), { code: 'ERR_TOO_MANY_REDIRECTS' })
  await assert.rejects(fetchpool.fetch(server.url('/redirect?n=1'), { redirect: 'error' }), { code: 'ERR_TOO_MANY_REDIRECTS' })
})

test('failOnStatus turns non-2xx into ERR_HTTP_STATUS', async () => {
  const err = await fetchpool.fetch(server.url('/status/503'), { failOnStatus: true }).then(() => null, (e) => e)
  assert.equal(err.code, 'ERR_HTTP_STATUS')
  assert.equal(err.status, 503)
  // The status is the whole story: there is no underlying error.
  assert.equal(err.cause, undefined)
  assert.equal('cause' in err, false)
})

// Bad input: rejected in Promise style, thrown in callback style, nothing sent.
const badInputs = [
  ['a number as the request', () => [42], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['no request', () => [undefined], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a non-URL string', () => ['not a url'], 'ERR_INVALID_URL', TypeError],
  ['a relative URL', () => ['/relative'], 'ERR_INVALID_URL', TypeError],
  ['an ftp URL', () => ['ftp://127.0.0.1/'], 'ERR_INVALID_URL_SCHEME', TypeError],
  ['a file URL', () => [new URL('file:///etc/passwd')], 'ERR_INVALID_URL_SCHEME', TypeError],
  ['a bad method', () => [{ url: server.url('/'), method: 'GE T' }], 'ERR_INVALID_HTTP_TOKEN', TypeError],
  ['a bad header name', () => [{ url: server.url('/'), headers: { 'a b': 'c' } }], 'ERR_INVALID_HTTP_TOKEN', TypeError],
  ['a header value with CRLF', () => [{ url: server.url('/'), headers: { a: 'b\r\nx: y' } }], 'ERR_INVALID_CHAR', TypeError],
  ['a body of the wrong type', () => [{ url: server.url('/'), body: 42 }], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a url of the wrong type', () => [{ url: 42 }], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a GET with a body', () => [{ url: server.url('/'), method: 'GET', body: 'x' }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['options that are not an object', () => [server.url('/'), 'fast'], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a zero timeout', () => [server.url('/'), { timeout: 0 }], 'ERR_OUT_OF_RANGE', RangeError],
  ['a negative timeout', () => [server.url('/'), { timeout: -5 }], 'ERR_OUT_OF_RANGE', RangeError],
  ['a timeout of the wrong type', () => [server.url('/'), { timeout: '1s' }], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a zero concurrency', () => [server.url('/'), { concurrency: 0 }], 'ERR_OUT_OF_RANGE', RangeError],
  ['a fractional concurrency', () => [server.url('/'), { concurrency: 1.5 }], 'ERR_OUT_OF_RANGE', RangeError],
  ['an unknown redirect mode', () => [server.url('/'), { redirect: 'sometimes' }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['a signal that is not an AbortSignal', () => [server.url('/'), { signal: {} }], 'ERR_INVALID_ARG_TYPE', TypeError],
  ['a per-call connect timeout', () => [server.url('/'), { timeout: { connect: 5 } }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['a retry method that is not a token', () => [server.url('/'), { retry: { methods: ['GET', 'GE T'] } }], 'ERR_INVALID_HTTP_TOKEN', TypeError],
  // Options that are none of fetchpool's, misspelt or another library's.
  ['a misspelt option', () => [server.url('/'), { timout: 5 }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ["another library's option", () => [server.url('/'), { data: { a: 1 } }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['an unknown timeout', () => [server.url('/'), { timeout: { request: 300 } }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['an unknown retry key', () => [server.url('/'), { retry: { limit: 2 } }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['onProgress on a lone fetch, which would never call it', () => [server.url('/'), { onProgress: () => {} }], 'ERR_INVALID_ARG_VALUE', TypeError],
  ['an unknown minSpeed key', () => [server.url('/'), { minSpeed: { bytes: 2 } }], 'ERR_INVALID_ARG_VALUE', TypeError]
]

for (const [what, args, code, Ctor] of badInputs) {
  test(`bad input (${what}) is ${code} before anything is sent`, async () => {
    server.reset()
    const err = await fetchpool.fetch(...args()).then(() => null, (e) => e)
    assert.ok(err instanceof Ctor, `${err} is a ${Ctor.name}`)
    assert.equal(err.code, code)
    let thrown = null
    try {
      fetchpool.fetch(...args(), () => assert.fail('callback must not be called'))
    } catch (e) {
      thrown = e
    }
    assert.ok(thrown, 'callback style throws synchronously')
    assert.equal(thrown.code, code)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(server.stats.requests, 0)
  })
}

test('a callback that is not a function is ERR_INVALID_ARG_TYPE', () => {
  assert.throws(() => fetchpool.fetch(server.url('/'), {}, 'cb'), { code: 'ERR_INVALID_ARG_TYPE' })
  // A function in the place of options is not taken for the callback when a callback follows.
  assert.throws(() => fetchpool.fetch(server.url('/'), () => {}, () => assert.fail('not called')), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('client options are checked', () => {
  assert.throws(() => new fetchpool.Client({ workers: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new fetchpool.Client({ workers: 'many' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new fetchpool.Client({ http2: 'maybe' }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new fetchpool.Client('x'), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new fetchpool.Client({ timeout: { connect: 0 } }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new fetchpool.Client({ userAgent: 5 }), { code: 'ERR_INVALID_ARG_TYPE' })
  // Default headers by the rule of a request's, in every form they take.
  assert.throws(() => new fetchpool.Client({ headers: [[' x ', 'y']] }), { code: 'ERR_INVALID_HTTP_TOKEN' })
  assert.throws(() => new fetchpool.Client({ headers: { '': 'y' } }), { code: 'ERR_INVALID_HTTP_TOKEN' })
  assert.throws(() => new fetchpool.Client({ headers: { a: 'b\r\nx: y' } }), { code: 'ERR_INVALID_CHAR' })
  assert.throws(() => new fetchpool.Client({ headers: { a: 'b\u0001c' } }), { code: 'ERR_INVALID_CHAR' })
  assert.throws(() => new fetchpool.Client({ headers: { a: 'b\u007fc' } }), { code: 'ERR_INVALID_CHAR' })
  assert.throws(() => new fetchpool.Client({ userAgent: 'a\nb' }), { code: 'ERR_INVALID_CHAR', message: /options\.userAgent/ })
  // As a request's, other characters are taken (and sent as UTF-8).
  new fetchpool.Client({ headers: { 'x-a': ' spaced\tvalue ', 'x-b': 'caf\u00e9 \u4e2d' }, userAgent: 'agent/1 (x)' }).close()
  // What only the engine can tell, a certificate that does not parse, has its code too.
  assert.throws(() => new fetchpool.Client({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
    (err) => err instanceof TypeError && err.code === 'ERR_INVALID_ARG_VALUE' && /^Invalid ca/.test(err.message))
  // An option that is none of a client's, or one only a call takes.
  assert.throws(() => new fetchpool.Client({ concurency: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.concurency/ })
  assert.throws(() => new fetchpool.Client({ settle: true }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new fetchpool.Client({ timeout: { connect: 5, idle: 5 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.timeout\.idle/ })
  // An undefined value is no option at all, as everywhere else.
  new fetchpool.Client({ concurency: undefined, timeout: { connect: 5, headers: 5 } }).close()
  // null is no options; true is HTTP/2 where the server offers it.
  new fetchpool.Client(null).close()
  new fetchpool.Client({ http2: true }).close()
})

test('numeric options: NaN, Infinity where it is no limit, and the edges of each range', () => {
  const make = (options) => new fetchpool.Client(options).close()
  assert.throws(() => make({ concurrency: NaN }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => make({ rateLimit: NaN }), { code: 'ERR_INVALID_ARG_TYPE' })
  // Infinity means "no limit" only where the option says so.
  assert.throws(() => make({ retry: { retries: Infinity } }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => make({ maxRedirects: Infinity }), { code: 'ERR_OUT_OF_RANGE' })
  make({ rateLimit: Infinity, rateLimitPerHost: false, timeout: Infinity, maxBodySize: Infinity, maxSaveSize: Infinity, connectionsPerHost: Infinity })
  // The top of a range is in it; one past is not.
  make({ retry: 1000, maxRedirects: 1000, workers: 1 })
  assert.throws(() => make({ retry: 1001 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => make({ rateLimit: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => make({ rateLimitPerHost: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  make({ retry: { statuses: [100, 999] } })
  assert.throws(() => make({ retry: { statuses: [99] } }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => make({ retry: { codes: ['ECONNRESET', 5] } }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('a timeout of any size is a limit that is never reached, not an engine error', async () => {
  const huge = 1e300
  const client = new fetchpool.Client({ timeout: { connect: huge, headers: huge, body: huge }, poolIdleTimeout: huge, retry: { retries: 1, maxDelay: Number.MAX_SAFE_INTEGER } })
  try {
    const res = await client.fetch(server.url('/'), { timeout: huge, minSpeed: { limit: 1, time: huge } })
    assert.equal(res.status, 200)
    assert.equal((await client.fetch({ url: server.url('/'), timeout: Number.MAX_VALUE })).status, 200)
  } finally {
    client.close()
  }
})

test('concurrency: Infinity runs every request of a call at once', async () => {
  const { startGate } = require('./support/gate')
  const gate = await startGate()
  const client = new fetchpool.Client({ concurrency: Infinity })
  try {
    const n = 100
    gate.arm(n, n, () => client.stats().inFlight)
    const responses = await client.gather(Array.from({ length: n }, (_, i) => gate.url(`/all/${i}`)))
    assert.equal(responses.length, n)
    assert.equal(gate.state.stalled, false)
    assert.equal(gate.state.maxInFlight, n)
  } finally {
    client.close()
    await gate.close()
  }
})
