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
const hostile = new Proxy({}, { get () { throw new Error('trap') }, has () { throw new Error('trap') } })
const throwingUrl = { get url () { throw new Error('getter') } }

function junkRequests () {
  return [
    null, undefined, true, 0, -1, NaN, Infinity, 12n, Symbol('s'), () => {}, [], [server.url('/')], {},
    '', ' ', '\u0000', 'http://', 'http://[::1', 'http://127.0.0.1:99999/', 'https://a b.test/', '//no-scheme',
    'x'.repeat(100000), `http://${'a'.repeat(70000)}.test/`, { url: null }, { url: {} }, { url: server.url('/'), method: '' },
    { url: server.url('/'), method: 42 }, { url: server.url('/'), method: 'GET\r\n' }, { url: server.url('/'), headers: 5 },
    { url: server.url('/'), headers: [['only-name']] }, { url: server.url('/'), headers: { '': 'v' } },
    { url: server.url('/'), headers: { 'x\u00e9': 'v' } }, { url: server.url('/'), headers: { x: 'a\u0000b' } },
    { url: server.url('/'), json: circular }, { url: server.url('/'), json: 1n }, { url: server.url('/'), json: undefined, body: {} },
    { url: server.url('/'), body: Symbol('b') }, { url: server.url('/'), timeout: -1 }, { url: server.url('/'), timeout: 'x' },
    { url: server.url('/'), signal: 'abort' }, { url: server.url('/'), saveTo: 42 }, { url: server.url('/'), maxBodySize: -3 },
    hostile, throwingUrl, Object.create(null)
  ]
}

const junkOptions = [
  42, 'x', true, { concurrency: -1 }, { concurrency: NaN }, { concurrency: '8' }, { timeout: NaN }, { timeout: { headers: -1 } },
  { retry: -1 }, { retry: { retries: 'x' } }, { redirect: 42 }, { maxRedirects: -1 }, { maxBodySize: 1.5 },
  { decompress: 'yes' }, { settle: 'yes' }, { signal: 42 }, { onProgress: 42 }, { failOnStatus: 1 }
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
  for (const [i, request] of junkRequests().entries()) {
    const outcome = await settlesQuickly(() => fetchpool.fetch(request, { timeout: 2000 }))
    assert.ok(outcome instanceof Error, `an error for junk request #${i}`)
  }
  for (const options of junkOptions) {
    const outcome = await settlesQuickly(() => fetchpool.fetch(server.url('/'), options))
    assert.ok(outcome instanceof Error)
  }
  assert.equal(server.stats.requests, 0)
})

test('gather settles a batch of junk item by item, and fails fast before sending', async () => {
  server.reset()
  const settled = await fetchpool.gather(junkRequests(), { settle: true, timeout: 2000 })
  assert.equal(settled.length, junkRequests().length)
  assert.ok(settled.every((s) => s.status === 'rejected'), 'every junk item is rejected')
  assert.ok(settled.every((s, i) => s.reason.index === i || s.reason.index === undefined))
  const err = await settlesQuickly(() => fetchpool.gather([server.url('/'), ...junkRequests()]))
  assert.ok(err instanceof Error)
  for (const options of junkOptions) {
    assert.ok(await settlesQuickly(() => fetchpool.gather([server.url('/')], options)) instanceof Error)
  }
  for (const list of [null, 42, 'abc', {}, hostile]) {
    assert.ok(await settlesQuickly(() => fetchpool.gather(list)) instanceof Error)
  }
  assert.equal(server.stats.requests, 0)
})

test('stream and the native map settle junk too', async () => {
  server.reset()
  const outcomes = []
  for await (const item of fetchpool.stream(junkRequests(), { settle: true })) outcomes.push(item)
  assert.equal(outcomes.length, junkRequests().length)
  assert.ok(outcomes.every((o) => o.status === 'rejected'))
  assert.ok(await settlesQuickly(() => fetchpool.map(junkRequests(), fetchpool.fetch)) instanceof Error)
  assert.ok(await settlesQuickly(() => fetchpool.mapLimit([42], 2, fetchpool.fetch)) instanceof Error)
  assert.equal(server.stats.requests, 0)
})
