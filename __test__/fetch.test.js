'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const os = require('node:os')
const { performance } = require('node:perf_hooks')
const fetchpool = require('..')
const { startServer, refusedPort, delay } = require('./support/server')
const { freePorts } = require('./support/ports')
const { startGate } = require('./support/gate')
const { startHttpServer } = require('./support/http-server')
const { waitFor } = require('./support/wait')
const { collectGarbage } = require('./support/gc')

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('Response headers: copies out, forEach, toJSON and the string tag', async () => {
  const res = await fetchpool.fetch(server.url('/json'))
  const cookies = res.headers.getSetCookie()
  cookies.push('c=3')
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'], 'the caller gets a copy')
  const seen = []
  const self = {}
  res.headers.forEach(function (value, name, headers) {
    assert.equal(this, self)
    assert.equal(headers, res.headers)
    seen.push([name, value])
  }, self)
  assert.deepEqual(seen, [...res.headers.entries()])
  assert.ok(seen.some(([name, value]) => name === 'x-multi' && value === '1, 2'))
  assert.deepEqual(seen.filter(([name]) => name === 'set-cookie'), [['set-cookie', 'a=1'], ['set-cookie', 'b=2']])
  assert.deepEqual([...res.headers.keys()], seen.map(([name]) => name))
  assert.deepEqual([...res.headers.values()], seen.map(([, value]) => value))
  const json = res.headers.toJSON()
  assert.equal(json['x-multi'], '1, 2')
  assert.equal(json['set-cookie'], 'a=1, b=2')
  assert.equal(json['content-type'], 'application/json')
  assert.equal(Object.prototype.toString.call(res.headers), '[object Headers]')
})

test('fetch resolves a Response with the WHATWG fields', async () => {
  const before = performance.now()
  const res = await fetchpool.fetch(server.url('/json'))
  assert.equal(res.status, 200)
  assert.equal(res.statusText, 'OK')
  assert.equal(res.ok, true)
  assert.equal(res.url, server.url('/json'))
  assert.equal(res.redirected, false)
  assert.equal(res.httpVersion, '1.1')
  assert.equal(res.attempts, 1)
  assert.equal(res.index, 0)
  assert.equal(res.headers.get('Content-Type'), 'application/json')
  assert.equal(res.headers.has('content-type'), true)
  assert.equal(res.headers.has('x-missing'), false)
  assert.equal(res.headers.get('x-missing'), null)
  assert.equal(res.headers.get('x-multi'), '1, 2')
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'])
  assert.ok([...res.headers].some(([name]) => name === 'content-type'))
  assert.deepEqual(await res.json(), { hello: 'world', n: 42 })
  assert.equal(await res.text(), '{"hello":"world","n":42}')
  assert.ok(Buffer.isBuffer(res.buffer))
  assert.equal(res.buffer.toString(), '{"hello":"world","n":42}')
  const ab = await res.arrayBuffer()
  assert.ok(ab instanceof ArrayBuffer)
  assert.equal(ab.byteLength, res.buffer.length)
  const bytes = await res.bytes()
  assert.ok(bytes instanceof Uint8Array)
  assert.equal(bytes[0], '{'.charCodeAt(0))
  const t = res.timing
  assert.ok(t.queued >= before, 'queued is on the performance.now() clock')
  assert.ok(t.start >= t.queued && t.firstByte >= t.start && t.end >= t.firstByte)
  assert.ok(t.end <= performance.now())
})

test('arrayBuffer gives a large body\'s own memory where it can be transferred, and a copy of a small one', async () => {
  const [large, small] = await fetchpool.gather([server.url('/bytes?size=100000'), server.url('/bytes?size=100')])
  const whole = await large.arrayBuffer()
  assert.ok(whole instanceof ArrayBuffer)
  assert.equal(whole.byteLength, 100000)
  const ownMemoryTransfers = Number(process.versions.node.split('.')[0]) < 21
  assert.equal(whole === large.buffer.buffer, ownMemoryTransfers, 'the memory the body was read into, where Node can transfer it')
  assert.ok(new Uint8Array(whole).every((b) => b === 0x79))
  // As fetch's, what arrayBuffer() gives can be transferred to another thread.
  for (const res of [large, small]) {
    const ab = await res.arrayBuffer()
    const moved = structuredClone(ab, { transfer: [ab] })
    assert.equal(moved.byteLength, res.buffer.length)
    assert.ok(new Uint8Array(moved).every((b) => b === 0x79))
  }
  const copy = await small.arrayBuffer()
  assert.equal(copy.byteLength, 100)
  assert.notEqual(copy, small.buffer.buffer)
  assert.ok(new Uint8Array(copy).every((b) => b === 0x79))
  new Uint8Array(copy)[0] = 0
  assert.equal(small.buffer[0], 0x79, 'the copy does not write through to the shared chunk')
  const bytes = await large.bytes()
  assert.equal(bytes.length, 100000)
  assert.ok(bytes.every((b) => b === 0x79))
})

test('timing stays on the performance.now() clock for a client made earlier', async () => {
  // The clocks are paired when the client is built, which takes milliseconds:
  // times must not come out earlier than the call that produced them, nor
  // later than its end, beyond the pairing's own few microseconds. A client
  // whose pairing was preempted on a loaded machine is off by that pause, so
  // of five clients one must be within the slack: a wrong pairing puts all
  // five off.
  const slack = 0.5
  const misses = []
  for (let c = 0; c < 5; c++) {
    const client = new fetchpool.Client()
    try {
      const off = []
      for (let i = 0; i < 3; i++) {
        const before = performance.now()
        const [res] = await client.gather([server.url(`/json?c=${c}&i=${i}`)])
        const after = performance.now()
        if (res.timing.queued < before - slack) off.push(`queued ${res.timing.queued} before the call at ${before}`)
        if (res.timing.end > after + slack) off.push(`end ${res.timing.end} after the call returned at ${after}`)
      }
      if (off.length === 0) return
      misses.push(off.join('; '))
    } finally {
      client.close()
    }
  }
  assert.fail(`every client's timing was off: ${misses.join(' | ')}`)
})

test('timing.connected is set on a new connection and absent on a reused one', async () => {
  const client = new fetchpool.Client()
  try {
    const first = await client.fetch(server.url('/a'))
    assert.equal(typeof first.timing.connected, 'number')
    assert.ok(first.timing.connected >= first.timing.start)
    const second = await client.fetch(server.url('/b'))
    assert.equal('connected' in second.timing, false)
  } finally {
    client.close()
  }
})

test('fetch with a callback calls back asynchronously and returns undefined', async () => {
  let sync = true
  const result = await new Promise((resolve, reject) => {
    const ret = fetchpool.fetch(server.url('/cb'), (err, res) => {
      if (err) return reject(err)
      resolve({ res, sync, ret })
    })
    assert.equal(ret, undefined)
    sync = false
  })
  assert.equal(result.sync, false)
  assert.equal(result.res.status, 200)
  assert.equal(await result.res.text(), 'hello /cb')
})

test('fetch with options and a callback', (t, done) => {
  fetchpool.fetch(server.url('/x'), { timeout: 5000 }, (err, res) => {
    assert.equal(err, null)
    assert.equal(res.status, 200)
    done()
  })
})

test('null options, and a null signal or timeout false in them, are none', async () => {
  for (const options of [null, { signal: null }, { timeout: false }]) {
    assert.equal((await fetchpool.fetch(server.url('/x'), options)).status, 200)
    assert.equal((await fetchpool.gather([server.url('/x')], options))[0].status, 200)
  }
})

test('a URL object and request objects with method, headers, body and json', async () => {
  const byUrl = await fetchpool.fetch(new URL(server.url('/u')))
  assert.equal(await byUrl.text(), 'hello /u')

  const res = await fetchpool.fetch({
    url: server.url('/echo'),
    method: 'PUT',
    headers: { 'x-one': '1', 'X-Two': 2, 'x-unset': undefined },
    body: 'payload'
  })
  const echo = await res.json()
  assert.equal(echo.method, 'PUT')
  assert.equal(echo.headers['x-one'], '1')
  assert.equal(echo.headers['x-two'], '2')
  assert.equal('x-unset' in echo.headers, false)
  assert.equal((await fetchpool.fetch({ url: server.url('/u'), headers: null })).status, 200)
  assert.equal(echo.body, 'payload')
  assert.match(echo.headers['user-agent'], /^fetchpool\//)

  const json = await (await fetchpool.fetch({ url: server.url('/echo'), json: { a: [1, 2] } })).json()
  assert.equal(json.method, 'POST')
  assert.equal(json.headers['content-type'], 'application/json')
  assert.deepEqual(JSON.parse(json.body), { a: [1, 2] })

  const buf = await (await fetchpool.fetch({ url: server.url('/echo'), method: 'post', body: Buffer.from('bin') })).json()
  assert.equal(buf.method, 'POST')
  assert.equal(buf.body, 'bin')

  const headers = new Headers([['x-h', 'v']])
  const viaHeaders = await (await fetchpool.fetch({ url: server.url('/echo'), headers })).json()
  assert.equal(viaHeaders.headers['x-h'], 'v')
})

test('fetch(url, init) takes method, headers, body and json as WHATWG\'s fetch does; other calls refuse them', async () => {
  const echo = async (url, init) => (await fetchpool.fetch(url, init)).json()
  const posted = await echo(server.url('/echo'), { method: 'POST', headers: { 'x-one': '1' }, body: 'payload', timeout: 5000, redirect: 'manual' })
  assert.equal(posted.method, 'POST')
  assert.equal(posted.headers['x-one'], '1')
  assert.equal(posted.body, 'payload')
  const json = await echo(new URL(server.url('/echo')), { json: { a: 1 } })
  assert.equal(json.method, 'POST')
  assert.equal(json.headers['content-type'], 'application/json')
  assert.equal(json.body, '{"a":1}')
  const called = await new Promise((resolve, reject) => fetchpool.fetch(server.url('/echo'), { method: 'PUT', body: 'cb' },
    (err, res) => (err ? reject(err) : resolve(res.json()))))
  assert.equal(called.method, 'PUT')
  assert.equal(called.body, 'cb')
  // Init is checked as a request is: a bad header name is refused before sending.
  await assert.rejects(fetchpool.fetch(server.url('/echo'), { headers: { 'a b': 'c' } }), { code: 'ERR_INVALID_HTTP_TOKEN' })
  await assert.rejects(fetchpool.fetch(server.url('/echo'), { body: 42 }), { code: 'ERR_INVALID_ARG_TYPE' })
  // Where the options cannot be one request's, a request's field in them
  // would do nothing: refused, and nothing is sent.
  server.reset()
  const url = server.url('/echo')
  await assert.rejects(fetchpool.fetch({ url }, { method: 'POST' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.method/ })
  assert.throws(() => fetchpool.fetch({ url }, { body: 'x' }, () => assert.fail('not called')), { code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(fetchpool.gather([url], { headers: { 'x-one': '1' } }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.headers/ })
  await assert.rejects(fetchpool.gather([url], { settle: true, method: 'POST' }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => fetchpool.stream([url], { json: {} }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.json/ })
  await assert.rejects(fetchpool.download([url], os.tmpdir(), { integrity: 'sha256-x', resume: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.integrity/ })
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(server.stats.requests, 0)
})

test('a fetch sends its request as it was when called, whatever the caller changes before the tick ends', async () => {
  const request = { url: '', headers: { 'x-id': '' } }
  const buf = Buffer.alloc(4)
  const payload = { id: 0 }
  const pairs = [['x-id', '0']]
  const calls = []
  for (let i = 0; i < 3; i++) {
    request.url = server.url(`/echo?n=${i}`)
    request.headers['x-id'] = String(i)
    calls.push(fetchpool.fetch(request))
    buf.write(`id=${i}`)
    calls.push(fetchpool.fetch(server.url('/echo'), { method: 'PUT', body: buf }))
    payload.id = i
    calls.push(fetchpool.fetch({ url: server.url('/echo'), json: payload, headers: pairs }))
    pairs[0][1] = String(i + 1)
  }
  const echoes = await Promise.all(calls.map(async (call) => (await call).json()))
  for (let i = 0; i < 3; i++) {
    const [byObject, byBuffer, byJson] = echoes.slice(3 * i, 3 * i + 3)
    assert.equal(byObject.url, `/echo?n=${i}`)
    assert.equal(byObject.headers['x-id'], String(i))
    assert.equal(byBuffer.body, `id=${i}`)
    assert.deepEqual(JSON.parse(byJson.body), { id: i })
    assert.equal(byJson.headers['x-id'], String(i))
  }
  // The other kinds of body, and a Request's headers, changed once sent.
  const array = new Uint8Array([0x61])
  const params = new URLSearchParams({ a: '1' })
  const whatwg = new Request(server.url('/echo'), { headers: { 'x-id': 'first' } })
  const sent = [
    fetchpool.fetch(server.url('/echo'), { method: 'PUT', body: array.buffer }),
    fetchpool.fetch(server.url('/echo'), { method: 'PUT', body: params }),
    fetchpool.fetch(whatwg)
  ]
  array[0] = 0x62
  params.set('a', '2')
  whatwg.headers.set('x-id', 'later')
  const [byArrayBuffer, byParams, byRequest] = await Promise.all(sent.map(async (call) => (await call).json()))
  assert.equal(byArrayBuffer.body, 'a')
  assert.equal(byParams.body, 'a=1')
  assert.equal(byRequest.headers['x-id'], 'first')
})

test('text() and json() read UTF-8 as WHATWG does: a leading byte order mark is dropped', async () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf])
  const bodies = {
    '/json': Buffer.concat([bom, Buffer.from('{"a":"\u00e9"}')]),
    '/twice': Buffer.concat([bom, bom, Buffer.from('x')]),
    '/bad': Buffer.from([0x61, 0xff]),
    '/only': bom,
    // Three bytes that are not a BOM, each close to one.
    '/near': Buffer.from([0xef, 0xbf, 0xbf, 0x61]),
    '/tail': Buffer.from([0x61, 0xbb, 0xbf]),
    '/third': Buffer.from('a\u00bf')
  }
  const own = await startHttpServer((req, res, url) => res.end(bodies[url.pathname]))
  try {
    const json = await fetchpool.fetch(own.url('/json'))
    assert.deepEqual(await json.json(), { a: '\u00e9' })
    assert.equal(json.buffer.length, bodies['/json'].length, 'the bytes keep it')
    assert.equal(await (await fetchpool.fetch(own.url('/twice'))).text(), '\ufeffx', 'only the first is dropped')
    assert.equal(await (await fetchpool.fetch(own.url('/bad'))).text(), 'a\ufffd')
    assert.equal(await (await fetchpool.fetch(own.url('/only'))).text(), '')
    assert.equal(await (await fetchpool.fetch(own.url('/near'))).text(), '\uffffa')
    assert.equal(await (await fetchpool.fetch(own.url('/tail'))).text(), 'a\ufffd\ufffd')
    assert.equal(await (await fetchpool.fetch(own.url('/third'))).text(), 'a\u00bf')
  } finally {
    await own.close()
  }
})

test('a WHATWG Request without a body is taken: its URL, method, headers and signal', async () => {
  const echo = await (await fetchpool.fetch(new Request(server.url('/echo?r'), { method: 'DELETE', headers: { 'x-one': '1' } }))).json()
  assert.equal(echo.method, 'DELETE')
  assert.equal(echo.url, '/echo?r')
  assert.equal(echo.headers['x-one'], '1')
  const [viaGather] = await fetchpool.gather([new Request(server.url('/echo?g'))])
  assert.equal((await viaGather.json()).url, '/echo?g')
  const ac = new AbortController()
  const aborted = fetchpool.fetch(new Request(server.url('/slow?ms=3000'), { signal: ac.signal }))
  ac.abort()
  await assert.rejects(aborted, { code: 'ABORT_ERR' })
  // Its body is a stream: refused, before anything is sent.
  server.reset()
  await assert.rejects(fetchpool.fetch(new Request(server.url('/echo'), { method: 'POST', body: 'x' })), { code: 'ERR_INVALID_ARG_VALUE' })
  await new Promise((resolve) => setTimeout(resolve, 20))
  // The aborted /slow request may still reach the server after the reset.
  assert.deepEqual(server.stats.paths.filter((path) => path.startsWith('/echo')), [])
})

test('request bodies of every kind send their bytes; a body makes a POST', async () => {
  const echo = async (request) => (await fetchpool.fetch({ url: server.url('/echo'), ...request })).json()
  const whole = new TextEncoder().encode('..view..')
  const view = await echo({ body: whole.subarray(2, 6) })
  assert.equal(view.method, 'POST')
  assert.equal(view.body, 'view')
  assert.equal((await echo({ body: new TextEncoder().encode('array buffer').buffer })).body, 'array buffer')
  assert.equal((await echo({ body: new URLSearchParams({ a: '1', b: 'x y' }) })).body, 'a=1&b=x+y')
  const none = await echo({ body: null, signal: null })
  assert.equal(none.method, 'GET')
  assert.equal(none.body, '')
  // A content type of the caller's, in any case, is the only one sent with json.
  const typed = await echo({ json: [1], headers: { 'Content-Type': 'application/vnd.x+json' } })
  const types = typed.rawHeaders.filter((_, k) => k % 2 === 0 && typed.rawHeaders[k].toLowerCase() === 'content-type')
  assert.equal(types.length, 1)
  assert.equal(typed.headers['content-type'], 'application/vnd.x+json')
})

test('json keeps the caller\'s method and gets its content type beside other headers', async () => {
  const echo = await (await fetchpool.fetch({ url: server.url('/echo'), method: 'PUT', headers: { 'x-other': '1' }, json: { a: 1 } })).json()
  assert.equal(echo.method, 'PUT')
  assert.equal(echo.headers['x-other'], '1')
  assert.equal(echo.headers['content-type'], 'application/json')
  assert.equal(echo.body, '{"a":1}')
  await assert.rejects(fetchpool.fetch({ url: server.url('/echo'), json: { a: 1 }, body: 'both' }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('tabs and newlines anywhere in a URL string are dropped, and each request keeps its place', async () => {
  const url = server.url('/clean')
  const given = [`h\n${url.slice(1)}`, `h\t${url.slice(1)}?t`, `h\r${url.slice(1)}?r`, `${url}?\n=1`]
  const results = await fetchpool.gather([...given, server.url('/last')])
  assert.deepEqual(results.map((r) => r.url), [url, `${url}?t`, `${url}?r`, `${url}?=1`, server.url('/last')])
  assert.deepEqual(await Promise.all(results.map((r) => r.text())), ['hello /clean', 'hello /clean', 'hello /clean', 'hello /clean', 'hello /last'])
})

test('json that cannot be sent, and an empty saveTo, are refused before sending', async () => {
  await assert.rejects(fetchpool.fetch({ url: server.url('/echo'), json: () => {} }), { code: 'ERR_INVALID_ARG_TYPE' })
  const cyclic = {}
  cyclic.self = cyclic
  const err = await fetchpool.fetch({ url: server.url('/echo'), json: cyclic }).then(() => null, (e) => e)
  assert.equal(err && err.code, 'ERR_INVALID_ARG_VALUE')
  assert.ok(err.cause instanceof TypeError, 'the serialiser\'s own error is the cause')
  await assert.rejects(fetchpool.fetch({ url: server.url('/echo'), saveTo: '' }), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('non-2xx statuses are responses, not errors', async () => {
  const res = await fetchpool.fetch(server.url('/status/404'))
  assert.equal(res.status, 404)
  assert.equal(res.ok, false)
  assert.equal(res.statusText, 'Not Found')
})

test('redirects are followed; url and redirected report the outcome', async () => {
  const res = await fetchpool.fetch(server.url('/redirect?n=3'))
  assert.equal(res.status, 200)
  assert.equal(res.redirected, true)
  assert.equal(res.url, server.url('/echo'))
  const manual = await fetchpool.fetch(server.url('/redirect?n=1'), { redirect: 'manual' })
  assert.equal(manual.status, 302)
  assert.equal(manual.headers.get('location'), '/echo')
  assert.equal(manual.redirected, false)
})

test('maxBodySize below the body size fails; at the size it passes', async () => {
  const ok = await fetchpool.fetch({ url: server.url('/bytes?size=100'), maxBodySize: 100 })
  assert.equal(ok.buffer.length, 100)
  await assert.rejects(fetchpool.fetch(server.url('/bytes?size=101'), { maxBodySize: 100 }), { code: 'ERR_BODY_TOO_LARGE' })
})

test('a large body arrives whole', async () => {
  const res = await fetchpool.fetch(server.url('/bytes?size=3000000'))
  assert.equal(res.buffer.length, 3000000)
  assert.equal(res.buffer[2999999], 'y'.charCodeAt(0))
})

test('saveTo streams the body to a file', async () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const os = require('node:os')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-'))
  const file = path.join(dir, 'out.bin')
  try {
    const res = await fetchpool.fetch({ url: server.url('/bytes?size=200000'), saveTo: file })
    assert.equal(res.savedBytes, 200000)
    assert.equal(res.buffer.length, 0)
    assert.equal(fs.statSync(file).size, 200000)
    await assert.rejects(
      fetchpool.fetch({ url: server.url('/bytes?size=10'), saveTo: path.join(dir, 'missing', 'x') }),
      { code: 'ENOENT' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('ESM entry point exports the same API', async () => {
  const esm = await import('../index.mjs')
  assert.equal(esm.fetch, fetchpool.fetch)
  assert.equal(esm.default.gather, fetchpool.gather)
  assert.equal(typeof esm.Client, 'function')
})

// Plain `fetch(request)` calls made in one tick cross into Rust together
// (lib/join.js); each must still behave as a lone call.
test('fetch calls made in one tick each settle on their own, as lone calls', async () => {
  const [closed] = await freePorts(1)
  const client = new fetchpool.Client()
  try {
    const calls = [
      client.fetch(server.url('/json')),
      client.fetch('not a url'),
      client.fetch(server.url('/status/404')),
      client.fetch(`http://127.0.0.1:${closed}/`),
      client.fetch({ url: server.url('/echo'), method: 'POST', body: 'x' }),
      client.fetch(42),
      client.fetch({ url: server.url('/json'), body: 42 })
    ]
    const [json, bad, missing, refused, echo, wrongType, wrongBody] = await Promise.allSettled(calls)
    assert.equal(json.value.status, 200)
    assert.equal(json.value.index, 0)
    assert.equal(bad.reason.code, 'ERR_INVALID_URL')
    assert.equal(bad.reason.index, 0)
    assert.equal(missing.value.status, 404)
    assert.equal(refused.reason.code, 'ECONNREFUSED')
    assert.equal(refused.reason.index, 0)
    assert.equal(echo.value.status, 200)
    assert.equal(wrongType.reason.code, 'ERR_INVALID_ARG_TYPE')
    assert.equal(wrongBody.reason.code, 'ERR_INVALID_ARG_TYPE')
    assert.equal(wrongBody.reason.index, 0)
  } finally {
    client.close()
  }
})

test('callback-style fetch calls of one tick each get their own outcome, called back later', async () => {
  const [closed] = await freePorts(1)
  const client = new fetchpool.Client()
  try {
    let sync = true
    const calls = [
      server.url('/json'),
      new URL(server.url('/u')),
      server.url('/status/404'),
      `http://127.0.0.1:${closed}/`,
      { url: server.url('/echo'), method: 'POST', body: 'x' }
    ].map((request) => new Promise((resolve) => {
      client.fetch(request, (err, res) => resolve({ err, res, sync }))
    }))
    sync = false
    const outcomes = await Promise.all(calls)
    const [json, byUrl, missing, refused, echo] = outcomes
    for (const o of outcomes) assert.equal(o.sync, false, 'never called back synchronously')
    assert.equal(json.err, null)
    assert.equal(json.res.status, 200)
    assert.equal(json.res.index, 0)
    assert.equal(await byUrl.res.text(), 'hello /u')
    assert.equal(missing.res.status, 404)
    assert.equal(refused.err.code, 'ECONNREFUSED')
    assert.equal(refused.err.index, 0)
    assert.equal(refused.res, undefined)
    assert.equal((await echo.res.json()).body, 'x')
  } finally {
    client.close()
  }
})

test('a callback-style fetch on a closed client throws; one in flight at close is called back with ABORT_ERR', async () => {
  // A server that never answers, so the first two are in flight at close.
  const silent = http.createServer(() => {})
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${silent.address().port}/`
  const client = new fetchpool.Client()
  try {
    const pending = [
      new Promise((resolve) => client.fetch(url, (err) => resolve(err))),
      new Promise((resolve) => client.fetch(url, (err) => resolve(err)))
    ]
    await delay(100)
    // This one is still waiting for the end of the tick when the client closes.
    pending.push(new Promise((resolve) => client.fetch(url, (err) => resolve(err))))
    client.close()
    for (const err of await Promise.all(pending)) assert.equal(err.code, 'ABORT_ERR')
    assert.throws(() => client.fetch(url, () => assert.fail('not called')), { code: 'ERR_INVALID_STATE' })
  } finally {
    silent.closeAllConnections()
    silent.close()
  }
})

test('every kind of call on a closed client fails with ERR_INVALID_STATE', async () => {
  const client = new fetchpool.Client()
  client.close()
  const url = server.url('/json')
  const state = { code: 'ERR_INVALID_STATE' }
  await assert.rejects(client.gather([url]), state)
  await assert.rejects(client.gather([url], { settle: true }), state)
  await assert.rejects(async () => { for await (const res of client.stream([url])) assert.fail(`got ${res.status}`) }, state)
  await assert.rejects(client.fetch({ url }), state)
  assert.throws(() => client.fetch({ url }, () => assert.fail('not called')), state)
})

test('options the engine refuses fail the calls that carry them, and no other', { timeout: 10000 }, async () => {
  // The checks in lib/options.js catch every option the engine would refuse
  // today; this stands in for one they miss.
  const client = new fetchpool.Client()
  try {
    const submit = client._native.submit.bind(client._native)
    client._native.submit = (...args) => {
      if (args[4] && args[4].totalTimeout === 1234) throw new Error('refused')
      return submit(...args)
    }
    const outcome = (request, options) => new Promise((resolve) => {
      client.fetch(request, options, (err, res) => resolve({ err, res }))
    })
    const [a, b, plain, other] = await Promise.all([
      outcome(server.url('/json'), { timeout: 1234 }),
      outcome(server.url('/json?b'), { timeout: 1234 }),
      outcome(server.url('/json')),
      outcome(server.url('/json'), { timeout: 5000 })
    ])
    assert.equal(a.err.code, 'ERR_INVALID_ARG_VALUE')
    assert.equal(b.err.code, 'ERR_INVALID_ARG_VALUE')
    assert.equal(plain.res.status, 200)
    assert.equal(other.res.status, 200)
    await assert.rejects(client.fetch(server.url('/json'), { timeout: 1234 }), { code: 'ERR_INVALID_ARG_VALUE' })
    await assert.rejects(client.gather([server.url('/a'), server.url('/b')], { timeout: 1234 }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => client.fetch({ url: server.url('/json') }, { timeout: 1234 }, () => assert.fail('not called')), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.equal(client._active, 0, 'nothing keeps the process alive')
    assert.equal(client._batches.size, 0, 'no batch is left behind')
  } finally {
    client.close()
  }
})

test('a later tick refused by the engine fails its own calls, not those still in flight', async () => {
  // As above, a stand-in for a refusal the checks in lib/options.js miss,
  // here of one tick's part on a joined batch that has a call in flight.
  const held = new Map()
  const own = await startHttpServer((req, res, url) => { held.set(url.pathname, res) })
  const client = new fetchpool.Client()
  try {
    const submit = client._native.submit.bind(client._native)
    client._native.submit = (...args) => {
      if (args[2].includes('/refused')) throw new Error('refused')
      return submit(...args)
    }
    const options = { timeout: 5000 }
    const first = client.fetch(own.url('/first'), options)
    await waitFor(() => held.has('/first'), 'the first call in flight')
    const refused = client.fetch(own.url('/refused'), options)
    await assert.rejects(refused, { code: 'ERR_INVALID_ARG_VALUE' })
    held.get('/first').end('first')
    assert.equal(await (await first).text(), 'first')
    assert.equal(client._active, 0)
  } finally {
    client.close()
    await own.close()
  }
})

test('fetch calls in one tick are not held to any concurrency: 150 run at once', async () => {
  const client = new fetchpool.Client()
  try {
    // The gate answers none until all 150 are in flight at once.
    const gate = await startGate()
    gate.arm(150)
    try {
      const all = await Promise.all(Array.from({ length: 150 }, (_, i) => client.fetch(gate.url(`/id/${i}`))))
      assert.deepEqual(await Promise.all(all.map((r) => r.text())), all.map((_, i) => `body /id/${i}`))
      assert.equal(gate.state.stalled, false, 'fewer than 150 in flight at once')
      assert.equal(gate.state.maxInFlight, 150)
    } finally {
      await gate.close()
    }
  } finally {
    client.close()
  }
})

test('fetch calls that follow one another keep their connections, and calls after a pause still run', async () => {
  const client = new fetchpool.Client()
  try {
    server.reset()
    // Eight loops, each starting its next call as its last one ends.
    await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      for (let i = 0; i < 25; i++) {
        const res = await client.fetch(server.url(`/slow?ms=1&id=${k}-${i}`))
        assert.equal(await res.text(), `slow ${k}-${i}`)
      }
    }))
    assert.equal(server.stats.requests, 200)
    assert.ok(server.stats.connections <= 8, `${server.stats.connections} connections for 8 loops`)
    // Long enough for every waiting lane to have ended.
    await delay(400)
    const later = await Promise.all([0, 1, 2].map((i) => client.fetch(server.url(`/slow?ms=1&id=later-${i}`))))
    assert.deepEqual(await Promise.all(later.map((r) => r.text())), ['slow later-0', 'slow later-1', 'slow later-2'])
    const stats = client.stats()
    assert.equal(stats.done, 203)
    assert.equal(stats.inFlight, 0)
    assert.equal(stats.queued, 0)
  } finally {
    client.close()
  }
})

test('fetch calls that follow one another to two origins open no more connections than they keep busy', async () => {
  const other = await startServer()
  const client = new fetchpool.Client()
  try {
    server.reset()
    // Four loops, each alternating between the two origins.
    await Promise.all(Array.from({ length: 4 }, async (_, k) => {
      for (let i = 0; i < 20; i++) {
        const target = i % 2 === 0 ? server : other
        const res = await client.fetch(target.url(`/slow?ms=1&id=${k}-${i}`))
        assert.equal(await res.text(), `slow ${k}-${i}`)
      }
    }))
    assert.ok(server.stats.connections <= 4, `${server.stats.connections} connections to the first origin`)
    assert.ok(other.stats.connections <= 4, `${other.stats.connections} connections to the second origin`)
  } finally {
    client.close()
    await other.close()
  }
})

test('response.url is the URL as WHATWG serializes it, in whatever form it was given', async () => {
  const normal = server.url('/json')
  const given = normal.replace('http://', 'HTTP://').replace('/json', '/a/../json')
  const res = await fetchpool.fetch(given)
  assert.equal(res.url, normal)
  assert.equal(res.redirected, false)
  const [first] = await fetchpool.gather([given])
  assert.equal(first.url, normal)
  assert.equal((await fetchpool.fetch(normal)).url, normal)
  const root = await fetchpool.fetch(`http://127.0.0.1:${server.port}`)
  assert.equal(root.url, `http://127.0.0.1:${server.port}/`)
  // Characters outside ASCII cross as UTF-8 and are percent-encoded.
  const unicode = server.url('/json?q=caf\u00e9&k=\u65e5')
  const encoded = server.url('/json?q=caf%C3%A9&k=%E6%97%A5')
  assert.equal((await fetchpool.fetch(unicode)).url, encoded)
  const [viaGather] = await fetchpool.gather([unicode])
  assert.equal(viaGather.url, encoded)
  assert.ok(server.stats.paths.includes('/json?q=caf%C3%A9&k=%E6%97%A5'))
  // The fragment is left out, as WHATWG leaves it; it is never sent either.
  assert.equal((await fetchpool.fetch(`${normal}?q#part`)).url, `${normal}?q`)
  assert.equal((await fetchpool.fetch(`${normal}#a#b`)).url, normal)
  const moved = await fetchpool.fetch(server.url('/redirect?n=1&to=/json%23x#frag')) // Location: /json#x
  assert.equal(moved.redirected, true)
  assert.equal(moved.url, normal)
})

test('fetch calls joined in one tick: an aborted one fails alone; close fails the rest', async () => {
  const client = new fetchpool.Client()
  const controller = new AbortController()
  const slow = client.fetch({ url: server.url('/slow?ms=2000&id=a'), signal: controller.signal })
  const fine = client.fetch(server.url('/slow?ms=50&id=b'))
  const held = client.fetch(server.url('/slow?ms=2000&id=c'))
  setTimeout(() => controller.abort(), 20)
  await assert.rejects(slow, { code: 'ABORT_ERR' })
  assert.equal(await (await fine).text(), 'slow b')
  client.close()
  await assert.rejects(held, { code: 'ABORT_ERR' })
  // Calls made in the same tick as close never start.
  const client2 = new fetchpool.Client()
  const same = client2.fetch(server.url('/json'))
  client2.close()
  await assert.rejects(same, { code: 'ABORT_ERR' })
  await assert.rejects(client2.fetch(server.url('/json')), { code: 'ERR_INVALID_STATE' })
})

test('both send paths write the same length: an empty POST says 0, a caller\'s length gives way', async () => {
  // connectionsPerHost keeps requests off the HTTP/1.1 fast path, on hyper's.
  for (const options of [{}, { connectionsPerHost: 4 }]) {
    const client = new fetchpool.Client(options)
    try {
      const empty = await (await client.fetch({ url: server.url('/echo'), method: 'POST' })).json()
      assert.equal(empty.headers['content-length'], '0', JSON.stringify(options))
      const get = await (await client.fetch(server.url('/echo'))).json()
      assert.equal(get.headers['content-length'], undefined)
      const labelled = await (await client.fetch({ url: server.url('/echo'), method: 'PUT', body: 'abc', headers: { 'content-length': '10' } })).json()
      assert.equal(labelled.headers['content-length'], '3')
      assert.equal(labelled.body, 'abc')
    } finally {
      client.close()
    }
  }
})

test('fetch calls with options join by equal options, and each keeps its own', async () => {
  const client = new fetchpool.Client()
  try {
    server.reset()
    const follow = { redirect: 'follow' }
    const manual = { redirect: 'manual' }
    const calls = [
      client.fetch(server.url('/redirect?n=1'), follow),
      client.fetch(server.url('/redirect?n=1'), { redirect: 'manual' }),
      client.fetch(server.url('/redirect?n=1'), manual),
      client.fetch(server.url('/status/500'), { failOnStatus: true }),
      client.fetch(server.url('/json'), { timeout: 5000 }),
      client.fetch(server.url('/json'))
    ]
    const [followed, manualA, manualB, failed, timed, plain] = await Promise.allSettled(calls)
    assert.equal(followed.value.status, 200)
    assert.equal(followed.value.redirected, true)
    assert.equal(manualA.value.status, 302)
    assert.equal(manualB.value.status, 302)
    assert.equal(failed.reason.code, 'ERR_HTTP_STATUS')
    assert.equal(failed.reason.index, 0)
    assert.equal(timed.value.status, 200)
    assert.equal(plain.value.index, 0)
    // A call-level signal cancels its call.
    const controller = new AbortController()
    const pending = client.fetch(server.url('/slow?ms=2000'), { signal: controller.signal })
    controller.abort()
    await assert.rejects(pending, { code: 'ABORT_ERR' })
  } finally {
    client.close()
  }
})

test('a call-level signal on a URL joins, cancels only its call, and keeps its reason', async () => {
  const client = new fetchpool.Client()
  try {
    server.reset()
    const controller = new AbortController()
    const reason = new Error('stop that one')
    const calls = [
      client.fetch(server.url('/slow?ms=2000&id=a'), { signal: controller.signal }),
      client.fetch(server.url('/slow?ms=50&id=b'), { signal: new AbortController().signal }),
      client.fetch(server.url('/slow?ms=50&id=c'))
    ]
    setTimeout(() => controller.abort(reason), 20)
    const [a, b, c] = await Promise.allSettled(calls)
    assert.equal(a.reason.code, 'ABORT_ERR')
    assert.equal(a.reason.cause, reason)
    assert.equal(a.reason.index, 0)
    assert.equal(await b.value.text(), 'slow b')
    assert.equal(await c.value.text(), 'slow c')
    // Aborted before the call: rejected with the reason, nothing sent.
    const gone = new AbortController()
    gone.abort(reason)
    const before = server.stats.requests
    const done = client.stats().done
    await assert.rejects(client.fetch(server.url('/json'), { signal: gone.signal }), (err) => err.code === 'ABORT_ERR' && err.cause === reason)
    assert.equal(client.stats().done, done, 'the pool ran nothing for it')
    // Aborted in the same tick as the call.
    const late = new AbortController()
    const pending = client.fetch(server.url('/slow?ms=2000&id=d'), { signal: late.signal })
    late.abort(reason)
    await assert.rejects(pending, (err) => err.code === 'ABORT_ERR' && err.cause === reason)
    await delay(30)
    assert.ok(server.stats.requests - before <= 1)
    assert.equal(client.stats().inFlight, 0)
  } finally {
    client.close()
  }
})

test('a signal aborted before the call fails every other form of fetch, and the pool runs nothing', async () => {
  const client = new fetchpool.Client()
  try {
    const reason = new Error('too late')
    const signal = AbortSignal.abort(reason)
    const url = server.url('/json')
    const aborted = (err) => err.code === 'ABORT_ERR' && err.cause === reason
    await assert.rejects(client.fetch(new URL(url), { signal }), aborted)
    await assert.rejects(client.fetch({ url }, { signal }), aborted)
    for (const request of [url, { url }]) {
      const err = await new Promise((resolve) => client.fetch(request, { signal }, (err) => resolve(err)))
      assert.ok(err && aborted(err), `callback style, ${typeof request}: ${err}`)
    }
    assert.equal(client.stats().done, 0)
  } finally {
    client.close()
  }
})

test('a joined call with a signal that fails on the network keeps its own code', async () => {
  const port = await refusedPort()
  const err = await fetchpool.fetch(`http://127.0.0.1:${port}/`, { signal: new AbortController().signal }).then(() => null, (e) => e)
  assert.equal(err.code, 'ECONNREFUSED')
})

test('calls joined with equal options: one failing fails no other', async () => {
  const port = await refusedPort()
  const options = { timeout: 5000 }
  const [refused, slow] = await Promise.allSettled([
    fetchpool.fetch(`http://127.0.0.1:${port}/`, options),
    fetchpool.fetch(server.url('/slow?ms=100&id=kept'), options)
  ])
  assert.equal(refused.reason.code, 'ECONNREFUSED')
  assert.equal(await slow.value.text(), 'slow kept')
})

test('call-level signals of later ticks on one joined batch keep their own reasons', async () => {
  const client = new fetchpool.Client()
  try {
    const first = new AbortController()
    const second = new AbortController()
    const a = client.fetch(server.url('/slow?ms=3000&id=a'), { signal: first.signal })
    await delay(0)
    const c = client.fetch(server.url('/slow?ms=3000&id=c'), { signal: new AbortController().signal })
    const b = client.fetch(server.url('/slow?ms=3000&id=b'), { signal: second.signal })
    await delay(0)
    const reasonA = new Error('a')
    const reasonB = new Error('b')
    first.abort(reasonA)
    second.abort(reasonB)
    await assert.rejects(a, (err) => err.code === 'ABORT_ERR' && err.cause === reasonA)
    await assert.rejects(b, (err) => err.code === 'ABORT_ERR' && err.cause === reasonB)
    client.close()
    await assert.rejects(c, { code: 'ABORT_ERR' })
  } finally {
    client.close()
  }
})

test('calls of later ticks on one joined batch each keep their own URL', async () => {
  // Each request is held, so the calls of the second tick join the batch
  // the first one still runs on.
  const held = new Map()
  const own = await startHttpServer((req, res, url) => { held.set(url.pathname, res) })
  const client = new fetchpool.Client()
  try {
    const a = client.fetch(own.url('/a'))
    await waitFor(() => held.has('/a'), 'the first call in flight')
    const b = client.fetch(own.url('/b'))
    const c = client.fetch(own.url('/c'))
    await waitFor(() => held.size === 3, 'all three in flight')
    for (const res of held.values()) res.end('x')
    const results = await Promise.all([a, b, c])
    assert.deepEqual(results.map((r) => r.url), ['/a', '/b', '/c'].map((p) => own.url(p)))
    assert.deepEqual(results.map((r) => r.index), [0, 0, 0])
  } finally {
    client.close()
    await own.close()
  }
})

test('fetch calls whose options differ every time hold nothing once settled', async () => {
  // Calls of one tick with equal options share a batch; a batch that has
  // drained is let go with its options. The heap is compared after a full
  // GC: 12,000 calls that each kept theirs would hold some 12 MB more.
  const client = new fetchpool.Client()
  const url = server.url('/x')
  const calls = async (from, count) => {
    for (let i = from; i < from + count; i += 100) {
      const tick = []
      for (let k = i; k < i + 100; k++) tick.push(client.fetch(url, { timeout: { total: 100000 + k } }))
      for (const res of await Promise.all(tick)) assert.equal(res.status, 200)
    }
  }
  const heapAfterGc = async () => {
    await collectGarbage()
    return process.memoryUsage().heapUsed
  }
  try {
    await calls(0, 2000)
    const before = await heapAfterGc()
    await calls(2000, 12000)
    const grown = (await heapAfterGc()) - before
    assert.ok(grown < 4 * 1024 * 1024, `the heap grew by ${grown} bytes`)
  } finally {
    client.close()
  }
})
