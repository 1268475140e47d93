'use strict'

// What a URL's user info and a hostile server's answers can make fetchpool
// send or show: user info never reaches HTTP/2's :authority nor any error;
// an overlong Location is the server's fault with a short message, and the
// error names the hop that failed; ambiguous framing fields are refused
// before anything is sent.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http2 = require('node:http2')
const net = require('node:net')
const { clientTracker } = require('./support/clients')
const { startHttpServer } = require('./support/http-server')
const { freePorts } = require('./support/ports')

describe('method CONNECT', () => {
  test('is refused in any case before anything is sent: it asks for a tunnel', async () => {
    // A raw server: Node's http server would take CONNECT aside, out of
    // sight of a count of requests.
    let received = 0
    const raw = net.createServer((socket) => {
      socket.on('data', (data) => { received += data.length })
      socket.on('error', () => {})
    })
    await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${raw.address().port}/`
      for (const method of ['CONNECT', 'connect']) {
        await assert.rejects(clients.client().fetch({ url, method }), { code: 'ERR_INVALID_ARG_VALUE' })
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(received, 0)
    } finally {
      await new Promise((resolve) => raw.close(resolve))
    }
  })
})

let h2
let h2Port
let server
let closedPort
const clients = clientTracker()

before(async () => {
  h2 = http2.createServer((req, res) => res.end(JSON.stringify(req.headers)))
  await new Promise((resolve) => h2.listen(0, '127.0.0.1', resolve))
  h2Port = h2.address().port
  server = await startHttpServer((req, res, url) => {
    if (url.pathname === '/long') {
      res.writeHead(302, { location: `/${'a'.repeat(100 * 1024)}` })
      return res.end()
    }
    if (url.pathname === '/to-hang') {
      res.writeHead(302, { location: '/hang' })
      return res.end()
    }
    // Never answers; the server's close ends it.
    if (url.pathname === '/hang') return
    if (url.pathname === '/to-closed') {
      res.writeHead(302, { location: `http://127.0.0.1:${closedPort}/gone` })
      return res.end()
    }
    res.end('ok')
  })
  ;[closedPort] = await freePorts(1)
})

after(async () => {
  clients.closeAll()
  if (server) await server.close()
  if (h2) await new Promise((resolve) => h2.close(resolve))
})

async function errorOf (promise) {
  try {
    await (await promise).text()
    return null
  } catch (err) {
    return err
  }
}

describe('user info', () => {
  test('never reaches HTTP/2\'s :authority', async () => {
    const client = clients.client({ http2: 'prior-knowledge' })
    const res = await client.fetch(`http://user:secret@127.0.0.1:${h2Port}/`)
    const seen = await res.json()
    assert.equal(seen[':authority'], `127.0.0.1:${h2Port}`)
    assert.equal(seen.authorization, undefined)
    assert.equal(res.url, `http://127.0.0.1:${h2Port}/`)
  })

  test('is in neither err.url nor the message of a network error', async () => {
    const client = clients.client()
    for (const url of [
      `http://user:secret@127.0.0.1:${closedPort}/x`,
      `http://user:se/cret@127.0.0.1:${closedPort}/x`,
      `http://user:se@cret@127.0.0.1:${closedPort}/x`
    ]) {
      const err = await errorOf(client.fetch(url))
      assert.ok(err, url)
      assert.ok(!String(err.url).includes('cret'), `${url} -> ${err.url}`)
      assert.ok(!err.message.includes('cret'), err.message)
    }
  })

  test('is not in the errors of a batch either', async () => {
    const client = clients.client()
    const urls = [`http://user:secret@127.0.0.1:${closedPort}/x`, 'http://user:secret@/']
    const results = await client.gather(urls, { settle: true })
    for (const r of results) {
      assert.equal(r.status, 'rejected')
      assert.ok(!String(r.reason.url).includes('secret'), r.reason.url)
      assert.ok(!r.reason.message.includes('secret'), r.reason.message)
    }
  })
})

describe('user info in a refused request', () => {
  // Every call refuses a malformed request before sending anything, and
  // names its URL as given, less its user info: a fail-fast gather and a
  // callback-style fetch in JavaScript, a settling gather and a Promise
  // fetch in the engine.
  const cases = [
    ['ftp://user:secret@host/x', 'ftp://host/x'],
    ['ftp://tok3n@host/x', 'ftp://host/x'],
    ['ftp://:pa55@host/x', 'ftp://host/x'],
    // It parses and has none: as given, `@` in its path and all.
    ['gopher://host/a@b', 'gopher://host/a@b'],
    ['GOPHER://host/a/../b@c', 'GOPHER://host/a/../b@c'],
    // It does not parse: cut at the last `@` before any query or fragment.
    ['http://user:secret@/', 'http:///'],
    ['http://us:er@/p?q=a@b#f@g', 'http:///p?q=a@b#f@g'],
    ['http://us:er@/p#f@g', 'http:///p#f@g'],
    ['http://us:er@[bad/p@q', 'http://q'],
    ['http://[bad/p?q=a@b', 'http://[bad/p?q=a@b'],
    // No `//`: cut from the start. `user:pass@host` written without a
    // scheme parses, as the scheme `user:` with no host.
    ['u:QQ@127.0.0.1:1/p', '127.0.0.1:1/p'],
    ['admin:hunter2@api.test/x?q=a@b', 'api.test/x?q=a@b'],
    ['mailto:user@x.test', 'x.test'],
    ['us er:secret@host/p', 'host/p'],
    ['no scheme@all', 'all'],
    ['no scheme@', ''],
    ['no scheme, no at sign', 'no scheme, no at sign']
  ]

  test('is cut from err.url, exactly', async () => {
    const client = clients.client()
    for (const [url, shown] of cases) {
      const err = await errorOf(client.gather([url]))
      assert.match(err.code, /^ERR_INVALID_URL/, url)
      assert.equal(err.url, shown, url)
      assert.throws(() => client.fetch(url, () => {}), (thrown) => thrown.url === shown, url)
      // A settling gather and a Promise fetch leave the refusal to the engine.
      const [outcome] = await client.gather([url], { settle: true })
      assert.match(outcome.reason.code, /^ERR_INVALID_URL/, url)
      assert.equal(outcome.reason.url, shown, url)
      assert.equal((await errorOf(client.fetch(url))).url, shown, url)
      // Nor does the message show a password.
      for (const secret of ['secret', 'pa55', 'QQ', 'hunter2']) {
        if (url.includes(secret)) assert.ok(!outcome.reason.message.includes(secret), `${url}: ${outcome.reason.message}`)
      }
    }
  })
})

describe('a hostile Location', () => {
  test('an overlong one is ERR_HTTP_PROTOCOL with a short message', async () => {
    const err = await errorOf(clients.client().fetch(server.url('/long')))
    assert.equal(err && err.code, 'ERR_HTTP_PROTOCOL')
    assert.ok(err.message.length < 1024, `message of ${err.message.length} chars`)
  })

  test('the error names the hop that failed', async () => {
    const err = await errorOf(clients.client().fetch(server.url('/to-closed')))
    assert.equal(err && err.code, 'ECONNREFUSED')
    assert.equal(err.url, `http://127.0.0.1:${closedPort}/gone`)
  })

  test('a total timeout names the hop under way too', async () => {
    for (const timeout of [300, { total: 300 }]) {
      const err = await errorOf(clients.client().fetch(server.url('/to-hang'), { timeout }))
      assert.equal(err && err.code, 'ERR_TOTAL_TIMEOUT')
      assert.equal(err.url, server.url('/hang'))
    }
    // With retries, the hop of the attempt that ran out of time.
    const [outcome] = await clients.client().gather([server.url('/to-hang')], { settle: true, timeout: 300, retry: 1 })
    assert.equal(outcome.reason.code, 'ERR_TOTAL_TIMEOUT')
    assert.equal(outcome.reason.url, server.url('/hang'))
  })
})

describe('framing fields from the caller', () => {
  for (const [name, headers] of [
    ['Transfer-Encoding other than one chunked', [['transfer-encoding', 'chunked, identity']]],
    ['Transfer-Encoding given twice', [['transfer-encoding', 'chunked'], ['transfer-encoding', 'chunked']]],
    ['two Host fields', [['host', 'a.test'], ['host', 'b.test']]]
  ]) {
    test(`${name} is refused before anything is sent`, async () => {
      const before = server.requests.length
      const request = { url: server.url('/echo'), method: 'POST', body: 'x', headers }
      await assert.rejects(clients.client().fetch(request), { code: 'ERR_INVALID_ARG_VALUE' })
      assert.equal(server.requests.length, before)
    })
  }

  test('a lone chunked is sent as chunked', async () => {
    const before = server.requests.length
    const request = { url: server.url('/echo'), method: 'POST', body: 'x', headers: { 'transfer-encoding': 'chunked' } }
    assert.equal(await (await clients.client().fetch(request)).text(), 'ok')
    assert.equal(server.requests[before].headers['transfer-encoding'], 'chunked')
  })
})
