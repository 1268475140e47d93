'use strict'

// An HTTP/2 server that closes a connection gracefully (GOAWAY with
// NO_ERROR) or refuses a stream (RST_STREAM REFUSED_STREAM) has not
// processed the requests it turned away: fetchpool sends them again on a
// new connection. nginx does the first after `keepalive_requests` requests
// on a connection; a scripted Node server does both exactly.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http2 = require('node:http2')
const path = require('node:path')
const { makeCerts } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { clientTracker } = require('./support/clients')

let certs
let nginx
const { client, closeAll } = clientTracker()

before(async () => {
  certs = makeCerts()
  nginx = await startNginx({
    http: "log_format conns '$connection $status';",
    servers: {
      tls: {
        ssl: certs.server,
        http2: true,
        config: [
          // Each connection turns away the requests in flight past its
          // 100th; more than the call's concurrency, so that a request
          // sent again is served by the next connection.
          'keepalive_requests 100;',
          'access_log access.log conns;',
          'location /n/ { return 200 "body of $uri\\n"; }'
        ].join('\n')
      },
      // Ten requests a connection, eight streams at once: at concurrency
      // 64 most requests wait pending open, and a request is turned away
      // again and again before a connection serves it.
      tight: {
        ssl: certs.server,
        http2: true,
        config: [
          'keepalive_requests 10;',
          'http2_max_concurrent_streams 8;',
          'access_log tight.log conns;',
          'location /n/ { return 200 "body of $uri\\n"; }'
        ].join('\n')
      }
    }
  })
})

after(async () => {
  closeAll()
  if (nginx) await nginx.stop()
  if (certs) certs.remove()
})

/** The connections nginx's access log names, and the lines it holds. */
function accessLog (name = 'access.log') {
  const lines = fs.readFileSync(path.join(nginx.dir, name), 'utf8').trim().split('\n')
  return { lines, connections: new Set(lines.map((l) => l.split(' ')[0])) }
}

describe('nginx closing connections after keepalive_requests', () => {
  test('1,000 requests at concurrency 64 all succeed across many connections', async () => {
    const urls = Array.from({ length: 1000 }, (_, i) => nginx.url('tls', `/n/${i}`))
    const results = await client({ ca: certs.ca.pem }).gather(urls, { concurrency: 64, settle: true })
    const failed = results.filter((r) => r.status === 'rejected')
    assert.deepEqual(failed.map((r) => r.reason.code), [])
    for (const [i, r] of results.entries()) {
      assert.equal(r.value.status, 200)
      assert.equal(r.value.httpVersion, '2')
      assert.equal(await r.value.text(), `body of /n/${i}\n`)
    }
    const log = accessLog()
    // Each request was served once: a resent one was never processed.
    assert.equal(log.lines.length, 1000)
    assert.ok(log.connections.size >= 1000 / 100, `${log.connections.size} connections`)
  })

  test('requests left pending open when a connection closes, and turned away many times, all succeed', async () => {
    const urls = Array.from({ length: 300 }, (_, i) => nginx.url('tight', `/n/${i}`))
    const results = await client({ ca: certs.ca.pem }).gather(urls, { concurrency: 64, settle: true })
    // Before: "dispatch task is gone" (ERR_FETCHPOOL_INTERNAL) for a stream
    // pending open, and ERR_HTTP_PROTOCOL after ten resends.
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => r.reason.code), [])
    for (const [i, r] of results.entries()) assert.equal(await r.value.text(), `body of /n/${i}\n`)
    // Each served once: none of those sent again had been processed.
    assert.equal(accessLog('tight.log').lines.length, 300)
  })
})

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants

/**
 * An h2c server whose `onStream(stream, session, arrival)` decides each
 * stream's fate; `arrivals` counts the streams it saw, `sessions` the
 * connections.
 */
async function scriptedServer (onStream) {
  const server = http2.createServer()
  const seen = { arrivals: 0, sessions: 0 }
  const open = new Set()
  server.on('session', (session) => {
    seen.sessions++
    open.add(session)
  })
  server.on('stream', (stream) => {
    seen.arrivals++
    // A stream the script resets with an error code reports it here.
    stream.on('error', () => {})
    stream.resume()
    onStream(stream, stream.session, seen.arrivals)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  seen.url = `http://127.0.0.1:${server.address().port}/x`
  // A session that sent a GOAWAY keeps the stream it turned away open.
  seen.close = () => new Promise((resolve) => {
    for (const session of open) session.destroy()
    server.close(resolve)
  })
  return seen
}

const answer = (stream) => stream.respond({ ':status': 200 }) || stream.end('done')

/** Sends a POST to `server` with prior-knowledge HTTP/2. */
const post = (server) => client({ http2: 'prior-knowledge' }).fetch({ url: server.url, method: 'POST', body: 'payload' })

describe('a scripted HTTP/2 server turning requests away', () => {
  const servers = []
  after(() => Promise.all(servers.map((s) => s.close())))
  const start = async (onStream) => {
    const s = await scriptedServer(onStream)
    servers.push(s)
    return s
  }

  test('a stream refused with REFUSED_STREAM goes again, even a POST', async () => {
    const server = await start((stream, _, arrival) => {
      if (arrival === 1) stream.close(NGHTTP2_REFUSED_STREAM)
      else answer(stream)
    })
    const res = await post(server)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'done')
    assert.equal(res.attempts, 1)
    assert.equal(server.arrivals, 2)
  })

  // Node sends a GOAWAY's last stream id as given only when it is above 0,
  // so the stream turned away is the connection's second.
  test('a stream above a graceful GOAWAY\'s last stream id goes again on a new connection', async () => {
    const server = await start((stream, session, arrival) => {
      if (arrival === 2) session.goaway(NGHTTP2_NO_ERROR, 1)
      else answer(stream)
    })
    const c = client({ http2: 'prior-knowledge' })
    assert.equal((await c.fetch(server.url)).status, 200)
    const res = await c.fetch({ url: server.url, method: 'POST', body: 'payload' })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'done')
    assert.equal(res.attempts, 1)
    assert.equal(server.arrivals, 3)
    assert.equal(server.sessions, 2)
  })

  test('a stream at or below a graceful GOAWAY\'s last stream id completes on its connection', async () => {
    const server = await start((stream, session) => {
      session.goaway(NGHTTP2_NO_ERROR, stream.id)
      answer(stream)
    })
    const res = await post(server)
    assert.equal(res.status, 200)
    assert.equal(server.arrivals, 1)
    assert.equal(server.sessions, 1)
  })

  test('a GOAWAY with an error code still fails the request', async () => {
    const server = await start((stream, session, arrival) => {
      if (arrival === 2) session.goaway(NGHTTP2_INTERNAL_ERROR, 1)
      else answer(stream)
    })
    const c = client({ http2: 'prior-knowledge' })
    assert.equal((await c.fetch(server.url)).status, 200)
    await assert.rejects(c.fetch(server.url), { code: 'ERR_HTTP_PROTOCOL' })
    assert.equal(server.arrivals, 2)
    assert.equal(server.sessions, 1)
  })

  test('a stream reset with another code still fails the request', async () => {
    const server = await start((stream) => stream.close(NGHTTP2_INTERNAL_ERROR))
    await assert.rejects(post(server), { code: 'ERR_HTTP_PROTOCOL' })
    assert.equal(server.arrivals, 1)
  })

  test('a server that refuses every stream fails the request after 64 resends', async () => {
    const server = await start((stream) => stream.close(NGHTTP2_REFUSED_STREAM))
    await assert.rejects(post(server), { code: 'ERR_HTTP_PROTOCOL' })
    assert.equal(server.arrivals, 65)
  })
})
