'use strict'

// Wrong input of every shape: each call settles (or throws) quickly with an
// error, and nothing crashes or hangs. The server must see no request.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { startServer } = require('./support/server')

let server
before(async () => { server = await startServer() })
after(() => server.close())

const circular = {}
circular.self = circular
// What the caller's own traps and getters throw comes back as it is.
const trap = new Error('trap')
const getter = new Error('getter')
const hostile = new Proxy({}, { get () { throw trap }, has () { throw trap } })
const throwingUrl = { get url () { throw getter } }

function junkRequests () {
  return [
    null, undefined, true, 0, -1, NaN, Infinity, 12n, Symbol('s'), () => {}, [], [server.url('/')], {},
    '', ' ', '\u0000', 'http://', 'http://[::1', 'http://127.0.0.1:99999/', 'https://a b.test/', '//no-scheme',
    'x'.repeat(100000), `http://${'a'.repeat(70000)}.test/`, { url: null }, { url: {} }, { url: server.url('/'), method: '' },
    { url: server.url('/'), method: 42 }, { url: server.url('/'), method: 'GET\r\n' }, { url: server.url('/'), headers: 5 },
    { url: server.url('/'), headers: [['only-name']] }, { url: server.url('/'), headers: ['ab'] }, { url: server.url('/'), headers: { '': 'v' } },
    { url: server.url('/'), headers: { 'x\u00e9': 'v' } }, { url: server.url('/'), headers: { x: 'a\u0000b' } },
    { url: server.url('/'), json: circular }, { url: server.url('/'), json: 1n }, { url: server.url('/'), json: undefined, body: {} },
    { url: server.url('/'), body: Symbol('b') }, { url: server.url('/'), timeout: -1 }, { url: server.url('/'), timeout: 'x' },
    { url: server.url('/'), signal: 'abort' }, { url: server.url('/'), saveTo: 42 }, { url: server.url('/'), maxBodySize: -3 },
    hostile, throwingUrl, Object.create(null)
  ]
}

// The error each of junkRequests() fails with, in order.
const T = 'ERR_INVALID_ARG_TYPE'
const U = 'ERR_INVALID_URL'
const H = 'ERR_INVALID_HTTP_TOKEN'
const V = 'ERR_INVALID_ARG_VALUE'
const R = 'ERR_OUT_OF_RANGE'
const junkCodes = [
  T, T, T, T, T, T, T, T, T, T, T, T, T,
  U, U, U, U, U, U, U, U,
  U, U, T, T, H,
  T, H, T,
  V, V, H,
  H, 'ERR_INVALID_CHAR',
  V, V, T,
  T, R, T,
  T, T, R,
  trap, getter, T
]

/** Checks that `outcome` is the input error `expected` (a code, or the caller's own error). */
function assertInput (outcome, expected, what) {
  if (expected instanceof Error) return assert.equal(outcome, expected, what)
  assert.ok(outcome instanceof Error, `${what}: ${outcome}`)
  assert.equal(outcome.code, expected, `${what}: ${outcome.stack}`)
  assert.equal(outcome.name, expected === R ? 'RangeError' : 'TypeError', what)
}

// The code each of junkOptions fails with, in order. A string concurrency
// other than 'auto' is of an accepted type with a value that is not.
const optionCodes = [T, T, T, R, T, V, T, R, R, T, V, R, R, T, T, T, T, T, T, T, T, R, T, T]

const junkOptions = [
  42, 'x', true, { concurrency: -1 }, { concurrency: NaN }, { concurrency: '8' }, { timeout: NaN }, { timeout: { headers: -1 } },
  { retry: -1 }, { retry: { retries: 'x' } }, { redirect: 42 }, { maxRedirects: -1 }, { maxBodySize: 1.5 },
  { decompress: 'yes' }, { settle: 'yes' }, { signal: 42 }, { onProgress: 42 }, { failOnStatus: 1 },
  { timeout: null }, { retry: null }, { retry: { statuses: 503 } }, { retry: { minDelay: -1 } },
  { signal: { aborted: false } }, { signal: { addEventListener () {} } }
]

async function settlesQuickly (fn) {
  let result
  try {
    result = fn()
  } catch (err) {
    return err
  }
  const timer = new Promise((resolve, reject) => setTimeout(() => reject(new Error('did not settle in 5 s')), 5000).unref())
  return Promise.race([Promise.resolve(result).then(() => null, (e) => e), timer])
}

test('fetch settles every junk request with an error, sending nothing', async () => {
  server.reset()
  assert.equal(junkCodes.length, junkRequests().length)
  for (const [i, request] of junkRequests().entries()) {
    const outcome = await settlesQuickly(() => fetchpool.fetch(request, { timeout: 2000 }))
    assertInput(outcome, junkCodes[i], `junk request #${i}`)
  }
  assert.equal(optionCodes.length, junkOptions.length)
  for (const [i, options] of junkOptions.entries()) {
    const outcome = await settlesQuickly(() => fetchpool.fetch(server.url('/'), options))
    assertInput(outcome, optionCodes[i], `junk options #${i}`)
  }
  assert.equal(server.stats.requests, 0)
})

test('gather settles a batch of junk item by item, and fails fast before sending', async () => {
  server.reset()
  const settled = await fetchpool.gather(junkRequests(), { settle: true, timeout: 2000 })
  assert.equal(settled.length, junkRequests().length)
  assert.ok(settled.every((s) => s.status === 'rejected'), 'every junk item is rejected')
  settled.forEach((s, i) => {
    assertInput(s.reason, junkCodes[i], `junk item #${i}`)
    if (!(junkCodes[i] instanceof Error)) assert.equal(s.reason.index, i)
  })
  const err = await settlesQuickly(() => fetchpool.gather([server.url('/'), ...junkRequests()]))
  assertInput(err, T, 'the first malformed item')
  assert.equal(err.index, 1)
  for (const [i, options] of junkOptions.entries()) {
    assertInput(await settlesQuickly(() => fetchpool.gather([server.url('/')], options)), optionCodes[i], `options #${i}`)
  }
  for (const list of [null, 42, 'abc', {}]) {
    assertInput(await settlesQuickly(() => fetchpool.gather(list)), T, `list ${String(list)}`)
  }
  assert.equal(await settlesQuickly(() => fetchpool.gather(hostile)), trap)
  assert.equal(server.stats.requests, 0)
})

test('stream and the native map settle junk too', async () => {
  server.reset()
  const outcomes = []
  for await (const item of fetchpool.stream(junkRequests(), { settle: true })) outcomes.push(item)
  assert.equal(outcomes.length, junkRequests().length)
  assert.ok(outcomes.every((o) => o.status === 'rejected'))
  outcomes.forEach((o) => assertInput(o.reason, junkCodes[o.index], `streamed junk item #${o.index}`))
  const mapped = await settlesQuickly(() => fetchpool.map(junkRequests(), fetchpool.fetch))
  assertInput(mapped, T, 'map')
  assert.equal(mapped.index, 0)
  const limited = await settlesQuickly(() => fetchpool.mapLimit([server.url('/'), 42], 2, fetchpool.fetch))
  assertInput(limited, T, 'mapLimit')
  assert.equal(limited.index, 1)
  assert.equal(server.stats.requests, 0)
})
