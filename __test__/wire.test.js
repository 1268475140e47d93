'use strict'

// fetchpool's own HTTP/1.1 on the fast path (src/engine/wire.rs), against a
// raw TCP server that answers each request with exactly the bytes a test
// scripts: body framing by length, chunks and close; informational heads;
// keep-alive rules; connections closed under an idle request; and what the
// request looks like on the wire. Every case runs on plain TCP and again on
// TLS (https origins that speak HTTP/1.1 take the same path).

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const tls = require('node:tls')
const zlib = require('node:zlib')
const { Client, mapLimit } = require('..')
const { delay } = require('./support/server')
const { makeCerts } = require('./support/certs')

// pooled-path.test.js runs this file again with FETCHPOOL_H1_PATH=pooled, on
// hyper's HTTP/1.1: the few places where hyper differs on purpose, or a test
// counts the fast path's own connections, say so where they are.
const POOLED = process.env.FETCHPOOL_H1_PATH === 'pooled'

for (const kind of ['tcp', 'tls']) {
  describe(`over ${kind}`, () => {
    let server
    let port
    let certs
    // path → async (socket, request) => writes one response
    const routes = new Map()
    const seen = []
    let connections = 0

    function onRequest (socket, head, body) {
      const [line, ...fields] = head.split('\r\n')
      const [method, target] = line.split(' ')
      const headers = {}
      for (const f of fields) {
        const at = f.indexOf(':')
        headers[f.slice(0, at).toLowerCase()] = f.slice(at + 1).trim()
      }
      const request = { method, target, headers, head, body: body.toString('latin1') }
      seen.push(request)
      const path = target.split('?')[0]
      const route = routes.get(path)
      if (!route) return socket.destroy()
      return route(socket, request)
    }

    before(async () => {
      const onConnection = (socket) => {
        connections++
        let buf = Buffer.alloc(0)
        let busy = Promise.resolve()
        socket.on('error', () => {})
        socket.on('data', (data) => {
          buf = Buffer.concat([buf, data])
          for (;;) {
            const end = buf.indexOf('\r\n\r\n')
            if (end < 0) return
            const head = buf.subarray(0, end).toString('latin1')
            const length = Number((/\r\ncontent-length: *(\d+)/i.exec(head) || [])[1] || 0)
            if (buf.length < end + 4 + length) return
            const body = buf.subarray(end + 4, end + 4 + length)
            buf = buf.subarray(end + 4 + length)
            busy = busy.then(() => onRequest(socket, head, body))
          }
        })
      }
      if (kind === 'tls') {
        certs = makeCerts()
        server = tls.createServer({ key: fs.readFileSync(certs.server.key), cert: certs.server.pem }, onConnection)
      } else {
        server = net.createServer(onConnection)
      }
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = server.address().port
    })

    after(async () => {
      await new Promise((resolve) => server.close(resolve))
      if (certs) certs.remove()
    })

    const url = (path) => `${kind === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}${path}`

    // HTTP/2 is off on TLS so that no first request goes through the pooled
    // client to learn what the origin speaks: the counts below are the lanes'.
    const newClient = () => new Client(kind === 'tls' ? { ca: certs.ca.pem, http2: 'off' } : {})

    function route (path, respond) {
      routes.set(path, respond)
      return url(path)
    }

    /** Runs `fn(client)` on a fresh client and counts the connections it opened. */
    async function counting (fn) {
      const client = newClient()
      const before = connections
      try {
        await fn(client)
      } finally {
        client.close()
      }
      return connections - before
    }

    test('chunked bodies, split anywhere, with extensions and trailers; the connection is reused', async () => {
      const target = route('/chunked', async (socket) => {
        const parts = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel', 'lo\r\n6\r\n', ' world\r\n0\r\nX-Trailer: t\r\n', '\r\n']
        for (const p of parts) {
          socket.write(p)
          await delay(2)
        }
      })
      const opened = await counting(async (c) => {
        for (let i = 0; i < 3; i++) {
          const res = await c.fetch(target)
          assert.equal(await res.text(), 'hello world')
        }
      })
      assert.equal(opened, 1)
    })

    test('header fields as sent: any case, spaces and tabs around values, repeats, bare LF line ends', async () => {
      const target = route('/fields', (socket) => socket.write(
        'HTTP/1.1 200 OK\r\nX-Mixed-Case:  one \t\r\nx-mixed-case:two\nSet-Cookie: a=1\r\nSET-COOKIE: b=2; Path=/\r\n' +
        'Empty:\r\nX-Latin: caf\xe9\r\nContent-Length: 2\n\r\nok', 'latin1'))
      const gzipped = zlib.gzipSync('decoded')
      const coded = route('/coded', (socket) => socket.write(Buffer.concat([
        Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nX-Kept: yes\r\ncontent-length: ${gzipped.length}\r\n\r\n`), gzipped])))
      const c = newClient()
      try {
        const res = await c.fetch(target)
        assert.equal(await res.text(), 'ok')
        assert.equal(res.headers.get('x-mixed-case'), 'one, two')
        assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2; Path=/'])
        assert.equal(res.headers.get('empty'), '')
        assert.equal(res.headers.get('x-latin'), 'caf\xe9')
        assert.equal(res.headers.get('Content-Length'), '2')
        assert.deepEqual([...res.headers.keys()], ['content-length', 'empty', 'set-cookie', 'set-cookie', 'x-latin', 'x-mixed-case'])
        const dec = await c.fetch(coded)
        assert.equal(await dec.text(), 'decoded')
        assert.equal(dec.headers.get('content-encoding'), null)
        assert.equal(dec.headers.get('content-length'), null)
        assert.equal(dec.headers.get('x-kept'), 'yes')
      } finally {
        c.close()
      }
    })

    test('a one-character field name on the first line; no Set-Cookie gives an empty list', async () => {
      const target = route('/short-name', (socket) => socket.write('HTTP/1.1 200 OK\r\nA: first\r\nContent-Length: 2\r\n\r\nok'))
      const c = newClient()
      try {
        const res = await c.fetch(target)
        assert.equal(await res.text(), 'ok')
        assert.equal(res.headers.get('a'), 'first')
        assert.deepEqual([...res.headers], [['a', 'first'], ['content-length', '2']])
        assert.deepEqual(res.headers.getSetCookie(), [])
      } finally {
        c.close()
      }
    })

    test('a body without length or chunks runs to the close; HTTP/1.0 closes unless kept alive', async () => {
      const eof = route('/eof', (socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end'))
      const old = route('/old', (socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold'))
      const kept = route('/kept', (socket) => socket.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nkept'))
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 3; i++) assert.equal(await (await c.fetch(eof)).text(), 'until the end')
      }), 3)
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 3; i++) assert.equal(await (await c.fetch(old)).text(), 'old')
      }), 3)
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 3; i++) assert.equal(await (await c.fetch(kept)).text(), 'kept')
      }), 1)
    })

    test('informational heads are skipped; HEAD, 204 and 304 have no body and keep the connection', async () => {
      const early = route('/early', (socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
      const head = route('/head', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'))
      const none = route('/none', (socket) => socket.write('HTTP/1.1 204 No Content\r\n\r\n'))
      const same = route('/same', (socket) => socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n'))
      const opened = await counting(async (c) => {
        const res = await c.fetch(early)
        assert.equal(res.status, 200)
        assert.equal(await res.text(), 'ok')
        const h = await c.fetch({ url: head, method: 'HEAD' })
        assert.equal(h.headers.get('content-length'), '1000')
        assert.equal(h.buffer.length, 0)
        assert.equal((await c.fetch(none)).status, 204)
        assert.equal((await c.fetch(same)).status, 304)
        assert.equal(await (await c.fetch(early)).text(), 'ok')
      })
      assert.equal(opened, 1)
    })

    test('malformed framing is ERR_HTTP_PROTOCOL, and the next request goes on a new connection', async () => {
      const conflicting = route('/conflict', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'))
      const badChunk = route('/bad-chunk', (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))
      const cut = route('/cut', (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'))
      const short = route('/short', (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this'))
      const ok = route('/ok', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
      const c = newClient()
      try {
        for (const target of [conflicting, badChunk, cut, short]) {
          await assert.rejects(c.fetch(target, { retry: 0 }), { code: 'ERR_HTTP_PROTOCOL' }, target)
          assert.equal(await (await c.fetch(ok)).text(), 'ok')
        }
      } finally {
        c.close()
      }
    })

    test('RFC 9112 framing: chunk-size lines, mixed framing, HTTP/1.0 transfer coding, head size', async () => {
      const chunked = (body) => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`
      const rejected = {
        'empty-size': chunked('5\r\nhello\r\n\r\n\r\n'),
        // hyper accepts whitespace after a chunk size; the fast path does not
        // (docs/http1-framing.md).
        ...(POOLED ? {} : { 'space-after-size': chunked('5 \r\nhello\r\n0\r\n\r\n') }),
        'lf-in-extension': chunked('5;a\nXX\r\nhello\r\n0\r\n\r\n'),
        'bare-lf-size': chunked('5\nhello\r\n0\r\n\r\n'),
        'http10-chunked': 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        // 50 fields of 8.3 KB: over the 400 KiB head limit, within the field
        // count. hyper bounds a head by its read buffer, which a head this
        // size still fits (docs/http1-framing.md).
        ...(POOLED
          ? {}
          : {
              'head-too-large': 'HTTP/1.1 200 OK\r\n' +
                Array.from({ length: 50 }, (_, i) => `X-F${i}: ${'v'.repeat(8300)}\r\n`).join('') + 'Content-Length: 2\r\n\r\nok'
            })
      }
      const ok = route('/ok-after', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
      const c = newClient()
      try {
        for (const [name, bytes] of Object.entries(rejected)) {
          const target = route(`/rejected-${name}`, (socket) => socket.write(bytes))
          await assert.rejects(c.fetch(target, { retry: 0 }), { code: 'ERR_HTTP_PROTOCOL' }, name)
          assert.equal(await (await c.fetch(ok)).text(), 'ok', name)
        }
        const padded = route('/padded', (socket) => socket.write(chunked('00000000000000005\r\nhello\r\n0\r\n\r\n')))
        assert.equal(await (await c.fetch(padded)).text(), 'hello')
      } finally {
        c.close()
      }
      // Transfer-Encoding with Content-Length: the chunks frame the body, and
      // the connection is not reused after it (hyper reuses it:
      // docs/http1-framing.md).
      const mixed = route('/mixed', (socket) =>
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n'))
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 3; i++) assert.equal(await (await c.fetch(mixed)).text(), 'hello')
      }), POOLED ? 1 : 3)
    })

    test('the unread body of a failOnStatus error frees its connection when small', async () => {
      const ok = route('/after-unread', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
      const missing = (size) => route(`/unread-${size}`, (socket) =>
        socket.write(`HTTP/1.1 404 Not Found\r\nContent-Length: ${size}\r\n\r\n${'n'.repeat(size)}`))
      const failThenFetch = (size) => counting(async (c) => {
        await assert.rejects(c.fetch(missing(size), { retry: 0, failOnStatus: true }), { code: 'ERR_HTTP_STATUS' })
        // The pooled path reads the unread body in the background, which
        // takes microseconds once its bytes are in; the margin is for a
        // loaded machine. A connection that is given up closes either way.
        if (POOLED) await delay(200)
        assert.equal(await (await c.fetch(ok)).text(), 'ok')
      })
      // The body came with its head: read out of the way, so one connection.
      assert.equal(await failThenFetch(9), 1)
      if (POOLED && kind === 'tcp') {
        // The pooled path reads up to 64 KiB of such a body, not more.
        assert.equal(await failThenFetch(32 * 1024), 1)
        assert.equal(await failThenFetch(100 * 1024), 2)
      }
    })

    test('after 101 Switching Protocols the connection is not reused', async () => {
      const upgrade = route('/upgrade', (socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: upgrade\r\n\r\n'))
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 2; i++) assert.equal((await c.fetch(upgrade)).status, 101)
      }), 2)
    })

    test('bytes after a complete response: the connection is not reused', async () => {
      const extra = route('/extra', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n'))
      assert.equal(await counting(async (c) => {
        for (let i = 0; i < 3; i++) assert.equal(await (await c.fetch(extra)).text(), 'ok')
      }), 3)
    })

    describe('bytes beyond a response never become the next response', () => {
      // A body of 16 KiB or more is read straight from the socket into its
      // own buffer, so what follows it is not in the shared read buffer: the
      // socket itself must be found empty before the connection is reused.
      const smuggled = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED'
      const withExtra = (status, size, extra, fields = '') =>
        `HTTP/1.1 ${status}\r\nContent-Length: ${size}\r\n${fields}\r\n${'a'.repeat(size)}${extra}`
      let fresh
      before(() => {
        fresh = route('/fresh', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh'))
      })
      const cases = [
        ['a whole response', 16384, smuggled],
        ['one stray byte', 16384, 'x'],
        ['a whole response', 100000, smuggled],
        ['a whole response', 16383, smuggled]
      ]
      for (const [what, size, extra] of cases) {
        test(`${what} after ${size} bytes: gather, stream and mapLimit at concurrency 1`, async () => {
          const leaky = route(`/leaky-${size}-${extra.length}`, (socket) => socket.write(withExtra('200 OK', size, extra)))
          const body = 'a'.repeat(size)
          const c = newClient()
          try {
            const all = await c.gather([leaky, fresh, leaky, fresh], { concurrency: 1, retry: 0 })
            assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200])
            assert.deepEqual(all.map((r) => r.buffer.toString()), [body, 'fresh', body, 'fresh'])
            const streamed = []
            for await (const r of c.stream([leaky, fresh, leaky, fresh], { concurrency: 1, retry: 0 })) {
              streamed.push(r.buffer.toString())
            }
            assert.deepEqual(streamed, [body, 'fresh', body, 'fresh'])
            const mapped = await mapLimit([leaky, fresh, fresh], 1, c.fetch)
            assert.deepEqual(mapped.map((r) => r.buffer.toString().slice(0, 5)), ['aaaaa', 'fresh', 'fresh'])
          } finally {
            c.close()
          }
        })
      }

      test('a redirect\'s target, and the request after a failOnStatus 404, go on a clean connection', async () => {
        const redirect = route('/leaky-redirect', (socket) =>
          socket.write(withExtra('302 Found', 16384, smuggled, `Location: ${fresh}\r\n`)))
        const missing = route('/leaky-404', (socket) => socket.write(withExtra('404 Not Found', 16384, smuggled)))
        const c = newClient()
        try {
          const res = await c.fetch(redirect, { retry: 0 })
          assert.equal(res.status, 200)
          assert.equal(res.redirected, true)
          assert.equal(res.buffer.toString(), 'fresh')
          const all = await c.gather([missing, fresh], { concurrency: 1, retry: 0, failOnStatus: true, settle: true })
          assert.equal(all[0].status, 'rejected')
          assert.equal(all[0].reason.code, 'ERR_HTTP_STATUS')
          assert.equal(all[1].value.buffer.toString(), 'fresh')
        } finally {
          c.close()
        }
      })
    })

    test('a large body arriving slowly: the body timeout is between pieces, not for the whole body', async () => {
      const size = 200 * 1024
      const slow = route('/slow-large', async (socket) => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`)
        for (let sent = 0; sent < size; sent += 20 * 1024) {
          socket.write(Buffer.alloc(20 * 1024, 'a'))
          await delay(40)
        }
      })
      const stalls = route('/stalls', async (socket) => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`)
        socket.write(Buffer.alloc(30 * 1024, 'a'))
        await delay(600)
        socket.destroy()
      })
      const c = newClient()
      try {
        const res = await c.fetch(slow, { timeout: { body: 200 } })
        assert.equal(res.buffer.length, size)
        assert.ok(res.buffer.every((b) => b === 97))
        await assert.rejects(c.fetch(stalls, { timeout: { body: 200 }, retry: 0 }), { code: 'ERR_BODY_TIMEOUT' })
      } finally {
        c.close()
      }
    })

    test('a kept-alive connection the server closed while idle: the request goes again on a new one', async () => {
      const closes = route('/closes', (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        setTimeout(() => socket.end(), 20)
      })
      const c = newClient()
      try {
        for (let i = 0; i < 4; i++) {
          const res = await c.fetch(closes, { retry: 0 })
          assert.equal(await res.text(), 'ok')
          assert.equal(res.attempts, 1)
          await delay(60)
        }
        // Within one batch, a lane's connection may close between requests too.
        const all = await c.gather(Array.from({ length: 20 }, () => closes), { concurrency: 2, retry: 0 })
        assert.ok(all.every((r) => r.status === 200))
      } finally {
        c.close()
      }
    })

    test('requests on the wire: origin form, Host, Content-Length, and the caller\'s fields', async () => {
      const echo = route('/echo', (socket, req) => {
        const body = JSON.stringify(req)
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
      })
      const c = newClient()
      try {
        const post = await (await c.fetch({ url: `${echo}?q=1`, method: 'POST', body: 'payload', headers: { 'x-one': 'a' } })).json()
        assert.match(post.head, /^POST \/echo\?q=1 HTTP\/1\.1\r\n/)
        assert.equal(post.headers.host, `127.0.0.1:${port}`)
        assert.equal(post.headers['content-length'], '7')
        assert.equal(post.headers['x-one'], 'a')
        assert.equal(post.body, 'payload')
        const empty = await (await c.fetch({ url: echo, method: 'PUT' })).json()
        assert.equal(empty.headers['content-length'], '0')
        const get = await (await c.fetch({ url: echo, headers: { host: 'example.test' } })).json()
        assert.equal(get.headers.host, 'example.test')
        assert.equal(get.headers['content-length'], undefined)
        // The body's own length goes out, whatever the caller set.
        const mislabelled = await (await c.fetch({ url: echo, method: 'POST', body: 'four', headers: { 'content-length': '99' } })).json()
        assert.equal(mislabelled.headers['content-length'], '4')
        assert.equal(mislabelled.body, 'four')
        // A large body goes out after the head, whole.
        const big = Buffer.alloc(300 * 1024)
        for (let i = 0; i < big.length; i++) big[i] = i % 251
        const put = await (await c.fetch({ url: echo, method: 'PUT', body: big })).json()
        assert.equal(put.headers['content-length'], String(big.length))
        assert.equal(Buffer.from(put.body, 'latin1').equals(big), true)
      } finally {
        c.close()
      }
    })

    if (kind === 'tls') {
      // hyper's TLS path treats a close without close_notify as an error of
      // its own (docs/http1-framing.md).
      const ownTls = { skip: POOLED && 'the fast path\'s own TLS close handling' }
      test('a peer that closes without close_notify: a body to the close is whole, a short one is ERR_HTTP_PROTOCOL', ownTls, async () => {
        const abrupt = (text) => (socket) => socket.write(text, () => socket.destroy())
        const eof = route('/abrupt-eof', abrupt('HTTP/1.1 200 OK\r\n\r\nuntil the end'))
        const short = route('/abrupt-short', abrupt('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly this'))
        const c = newClient()
        try {
          assert.equal(await (await c.fetch(eof)).text(), 'until the end')
          await assert.rejects(c.fetch(short, { retry: 0 }), { code: 'ERR_HTTP_PROTOCOL' })
        } finally {
          c.close()
        }
      })

      const ownLanes = { skip: POOLED && 'counts the fast path\'s own connections' }
      test('with HTTP/2 in auto mode, an origin that answers in HTTP/1.1 takes a burst after its first request', ownLanes, async () => {
        const ok = route('/auto', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
        const before = connections
        const c = new Client({ ca: certs.ca.pem })
        try {
          const first = await c.fetch(ok)
          assert.equal(first.httpVersion, '1.1')
          const rest = await c.gather(Array.from({ length: 40 }, () => ok), { concurrency: 4 })
          assert.ok(rest.every((r) => r.status === 200 && r.httpVersion === '1.1'))
          // The first request's connection, then at most one per lane.
          assert.ok(connections - before <= 1 + 4, `${connections - before} connections`)
        } finally {
          c.close()
        }
      })
    }
  })
}
