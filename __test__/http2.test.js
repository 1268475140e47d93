'use strict'

// HTTP/2 against nginx: ALPN in `auto` mode over TLS, prior knowledge (h2c)
// on plain http, `off`, and many requests multiplexed over one connection.
// nginx's `$connection` (its connection serial number) is echoed in a header
// so the tests can count the connections that served them.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const { Client } = require('..')
const { makeCerts } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { clientTracker } = require('./support/clients')

let certs
let nginx
const BIG = crypto.randomBytes(4 * 1024 * 1024 + 17)
const HUGE = crypto.randomBytes(64 * 1024 * 1024 + 3)
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex')

const { client, closeAll } = clientTracker()

before(async () => {
  certs = makeCerts()
  const routes = [
    'add_header X-Conn $connection always;',
    'location = /hello { return 200 "hello $server_protocol\\n"; }'
  ].join('\n')
  nginx = await startNginx({
    servers: {
      tls: { ssl: certs.server, http2: true, config: routes },
      tls1: { ssl: certs.server, config: routes },
      h2c: { http2: true, config: routes },
      plain: { config: routes },
      status: { config: 'location = /status { stub_status; }' }
    },
    files: { 'big.bin': BIG, 'huge.bin': HUGE }
  })
})

after(async () => {
  closeAll()
  if (nginx) await nginx.stop()
  if (certs) certs.remove()
})

const connOf = (res) => res.headers.get('x-conn')

/** Connections nginx has accepted so far, on all its servers. */
async function accepted () {
  const c = new Client()
  try {
    const text = await (await c.fetch(nginx.url('status', '/status'))).text()
    return Number(/^\s*(\d+)\s+\d+\s+\d+\s*$/m.exec(text)[1])
  } finally {
    c.close()
  }
}

describe('auto (the default): HTTP/2 when ALPN offers it', () => {
  test('HTTP/2 over TLS when the server offers h2', async () => {
    const res = await client({ ca: certs.ca.pem }).fetch(nginx.url('tls', '/hello'))
    assert.equal(res.status, 200)
    assert.equal(res.httpVersion, '2')
    assert.equal(await res.text(), 'hello HTTP/2.0\n')
  })

  test('HTTP/1.1 over TLS when the server does not offer h2', async () => {
    const res = await client({ ca: certs.ca.pem }).fetch(nginx.url('tls1', '/hello'))
    assert.equal(res.httpVersion, '1.1')
    assert.equal(await res.text(), 'hello HTTP/1.1\n')
  })

  test('HTTP/1.1 on plain http', async () => {
    const res = await client().fetch(nginx.url('plain', '/hello'))
    assert.equal(res.httpVersion, '1.1')
  })

  test('many requests share one connection once it is up', async () => {
    const c = client({ ca: certs.ca.pem })
    const first = await c.fetch(nginx.url('tls', '/hello'))
    assert.equal(first.httpVersion, '2')
    assert.match(connOf(first), /^\d+$/)
    const urls = Array.from({ length: 100 }, (_, i) => nginx.url('tls', `/hello?i=${i}`))
    const results = await c.gather(urls, { concurrency: 100, timeout: 20000 })
    assert.equal(results.length, 100)
    assert.ok(results.every((r) => r.status === 200 && r.httpVersion === '2'))
    assert.deepEqual(new Set(results.map(connOf)), new Set([connOf(first)]))
    assert.ok(results.every((r) => r.timing.connected === undefined), 'no request opened a connection')
  })

  test('a cold burst opens one connection: the first request to an origin goes alone', async () => {
    const c = client({ ca: certs.ca.pem })
    const before = await accepted()
    const urls = Array.from({ length: 64 }, (_, i) => nginx.url('tls', `/hello?i=${i}`))
    const results = await c.gather(urls, { concurrency: 64, timeout: 20000 })
    assert.ok(results.every((r) => r.httpVersion === '2'))
    // One for the burst, one for the status request itself.
    assert.equal((await accepted()) - before, 2)
  })

  test('the requests behind the first wait for its connection, not its response', async () => {
    // A Node HTTP/2 server whose first route answers after 1.5 s.
    const http2 = require('node:http2')
    let sessions = 0
    const h2 = http2.createSecureServer({ cert: certs.server.pem, key: fs.readFileSync(certs.server.key) })
    h2.on('session', () => { sessions++ })
    h2.on('stream', (stream, headers) => {
      const slow = headers[':path'] === '/slow'
      const timer = setTimeout(() => {
        stream.respond({ ':status': 200 })
        stream.end(slow ? 'slow' : 'fast')
      }, slow ? 1500 : 0)
      stream.on('close', () => clearTimeout(timer))
    })
    await new Promise((resolve) => h2.listen(0, '127.0.0.1', resolve))
    try {
      const base = `https://127.0.0.1:${h2.address().port}`
      const c = client({ ca: certs.ca.pem })
      const start = performance.now()
      const urls = [`${base}/slow`, ...Array.from({ length: 10 }, (_, i) => `${base}/fast?i=${i}`)]
      const results = await c.gather(urls, { concurrency: 11, timeout: 10000 })
      assert.equal(await results[0].text(), 'slow')
      const fastEnds = results.slice(1).map((r) => r.timing.end - start)
      assert.ok(Math.max(...fastEnds) < 1000, `fast ones ended at ${fastEnds.map((t) => t.toFixed(0))} ms`)
      assert.equal(sessions, 1)
    } finally {
      h2.close()
    }
  })

  test('an HTTP/1.1-only origin still gets parallel connections after the first', async () => {
    const c = client({ ca: certs.ca.pem })
    const before = await accepted()
    const urls = Array.from({ length: 16 }, () => nginx.url('tls1', '/big.bin'))
    const results = await c.gather(urls, { concurrency: 16, timeout: 30000 })
    assert.ok(results.every((r) => r.httpVersion === '1.1' && r.buffer.length === BIG.length))
    assert.ok((await accepted()) - before - 1 > 2)
  })

  test('the connection that found out an HTTP/1.1-only origin\'s version serves its later requests', async () => {
    // A Node https server (ALPN: http/1.1 only) that counts the connections
    // open on it, and closes none itself while the test runs.
    const https = require('node:https')
    const open = new Set()
    let opened = 0
    const srv = https.createServer({ cert: certs.server.pem, key: fs.readFileSync(certs.server.key) }, (req, res) => res.end('ok'))
    srv.keepAliveTimeout = 60000
    srv.on('secureConnection', (socket) => {
      opened++
      open.add(socket)
      socket.on('close', () => open.delete(socket))
    })
    await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
    try {
      const url = `https://127.0.0.1:${srv.address().port}/`
      const c = client({ ca: certs.ca.pem })
      for (let i = 0; i < 3; i++) {
        const res = await c.fetch(url)
        assert.equal(res.httpVersion, '1.1')
        assert.equal(await res.text(), 'ok')
      }
      // The first request found out what the origin speaks on the
      // connection that then carried all three.
      assert.equal(opened, 1)
      assert.equal(open.size, 1)
    } finally {
      srv.closeAllConnections()
      srv.close()
    }
  })

  test('large bodies arrive whole over HTTP/2', async () => {
    const res = await client({ ca: certs.ca.pem }).fetch(nginx.url('tls', '/big.bin'))
    assert.equal(res.httpVersion, '2')
    assert.equal(res.buffer.length, BIG.length)
    assert.ok(res.buffer.equals(BIG))
  })
})

describe('prior knowledge (h2c)', () => {
  test('speaks HTTP/2 on plain http without negotiation', async () => {
    const res = await client({ http2: 'prior-knowledge' }).fetch(nginx.url('h2c', '/hello'))
    assert.equal(res.status, 200)
    assert.equal(res.httpVersion, '2')
    assert.equal(await res.text(), 'hello HTTP/2.0\n')
  })

  test('a cold burst is multiplexed over one connection', async () => {
    const c = client({ http2: 'prior-knowledge' })
    const urls = Array.from({ length: 64 }, (_, i) => nginx.url('h2c', `/hello?i=${i}`))
    const results = await c.gather(urls, { concurrency: 64, timeout: 20000 })
    assert.ok(results.every((r) => r.status === 200 && r.httpVersion === '2'))
    assert.equal(new Set(results.map(connOf)).size, 1)
  })

  test('is also used over TLS', async () => {
    const res = await client({ http2: 'prior-knowledge', ca: certs.ca.pem }).fetch(nginx.url('tls', '/hello'))
    assert.equal(res.httpVersion, '2')
  })

  test('fails against a server that only speaks HTTP/1.1', async () => {
    const err = await client({ http2: 'prior-knowledge' })
      .fetch(nginx.url('plain', '/hello'), { timeout: 5000 })
      .then(() => null, (e) => e)
    assert.ok(err, 'expected a rejection')
    // nginx answers the h2 preface with an HTTP/1.1 400 and closes: the client
    // reads either that reply (not HTTP/2) or, when the close wins the race,
    // the reset.
    assert.ok(['ERR_HTTP_PROTOCOL', 'ECONNRESET'].includes(err.code), err.code)
  })
})

describe('off', () => {
  test('HTTP/1.1 even when the server offers h2', async () => {
    const res = await client({ http2: 'off', ca: certs.ca.pem }).fetch(nginx.url('tls', '/hello'))
    assert.equal(res.httpVersion, '1.1')
    assert.equal(await res.text(), 'hello HTTP/1.1\n')
  })

  test('a burst needs several HTTP/1.1 connections (the counting above can tell)', async () => {
    const c = client({ http2: false, ca: certs.ca.pem })
    const urls = Array.from({ length: 32 }, () => nginx.url('tls', '/big.bin'))
    const results = await c.gather(urls, { concurrency: 32, timeout: 30000 })
    assert.ok(results.every((r) => r.httpVersion === '1.1' && r.buffer.length === BIG.length))
    assert.ok(new Set(results.map(connOf)).size > 1)
  })
})

describe('large files (64 MiB) arrive whole', () => {
  const cases = [
    ['HTTP/1.1, plain', 'plain', {}, '1.1'],
    ['HTTP/1.1 over TLS', 'tls1', { ca: true }, '1.1'],
    ['HTTP/2 over TLS', 'tls', { ca: true }, '2'],
    ['HTTP/2, h2c', 'h2c', { http2: 'prior-knowledge' }, '2']
  ]
  for (const [name, server, options, version] of cases) {
    test(name, async (t) => {
      const c = client({ ...options, ca: options.ca ? certs.ca.pem : undefined })
      const start = performance.now()
      const res = await c.fetch(nginx.url(server, '/huge.bin'), { timeout: 60000, maxBodySize: Infinity })
      const ms = performance.now() - start
      assert.equal(res.httpVersion, version)
      assert.equal(res.buffer.length, HUGE.length)
      assert.equal(sha256(res.buffer), sha256(HUGE))
      t.diagnostic(`${name}: ${(HUGE.length / 1048576 / (ms / 1000)).toFixed(0)} MiB/s`)
    })
  }

  test('saveTo streams it to a file, over HTTP/2', async () => {
    const os = require('node:os')
    const path = require('node:path')
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-save-')), 'huge.bin')
    try {
      const res = await client({ ca: certs.ca.pem }).fetch({ url: nginx.url('tls', '/huge.bin'), saveTo: file }, { timeout: 60000 })
      assert.equal(res.status, 200)
      assert.equal(res.buffer.length, 0)
      assert.equal(sha256(fs.readFileSync(file)), sha256(HUGE))
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
  })

  test('maxBodySize refuses it from its Content-Length', async () => {
    const err = await client().fetch(nginx.url('plain', '/huge.bin'), { maxBodySize: 1024 * 1024 }).then(() => null, (e) => e)
    assert.ok(err, 'expected a rejection')
    assert.equal(err.code, 'ERR_BODY_TOO_LARGE')
  })
})

test('an unknown http2 mode is refused', () => {
  assert.throws(() => new Client({ http2: 'maybe' }), { code: 'ERR_INVALID_ARG_VALUE' })
})
