'use strict'

// A crawl over many https origins on one nginx: 40 loopback addresses, one
// private CA, one certificate naming them all. The connection that finds out
// what an origin speaks is the one that serves it, whether HTTP/1.1 or
// HTTP/2, and `poolMaxIdle` bounds the idle connections kept across origins.
// Connections made are counted by nginx (stub_status's accepts); connections
// held, by this process's own sockets to nginx's port.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Client } = require('..')
const { makeCerts, makeLeaf } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { freePorts } = require('./support/ports')
const { clientTracker } = require('./support/clients')
const { waitFor } = require('./support/wait')

const ORIGINS = 40
const H2_ORIGINS = 10
// Requests nginx serves on a connection before closing it.
const PER_CONNECTION = 5
const ips = Array.from({ length: ORIGINS }, (_, k) => `127.0.0.${k + 2}`)
let certs
let nginx
let h1Port
let h2Port

const { client, closeAll } = clientTracker()

/**
 * One server block listening on `port` of each address in `on`, closing a
 * connection after `requests`.
 */
function originServer (on, port, flags, requests) {
  const listens = on.map((ip) => `listen ${ip}:${port} ${flags};`).join(' ')
  return `server {
    ${listens}
    ssl_certificate ${path.join(certs.dir, 'origins.pem')};
    ssl_certificate_key ${path.join(certs.dir, 'origins.key')};
    keepalive_requests ${requests};
    location / { return 200 "ok"; }
  }`
}

before(async () => {
  certs = makeCerts()
  makeLeaf(certs.dir, 'origins', 'ca', ips)
  ;[h1Port, h2Port] = await freePorts(2)
  nginx = await startNginx({
    servers: { status: { config: 'location = /status { stub_status; }' } },
    http: originServer(ips, h1Port, 'ssl', PER_CONNECTION) +
      originServer(ips.slice(0, H2_ORIGINS), h2Port, 'ssl http2', 1000)
  })
})

after(async () => {
  closeAll()
  if (nginx) await nginx.stop()
  if (certs) certs.remove()
})

/** Connections nginx has accepted so far, the status request's own included. */
async function accepted () {
  const c = new Client()
  try {
    const text = await (await c.fetch(nginx.url('status', '/status'))).text()
    return Number(/^\s*(\d+)\s+\d+\s+\d+\s*$/m.exec(text)[1])
  } finally {
    c.close()
  }
}

/** TCP sockets this process holds open to `port` on any address. */
function socketsTo (port) {
  const inodes = new Set()
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))
      if (m) inodes.add(m[1])
    } catch { /* closed meanwhile */ }
  }
  let n = 0
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'latin1').trim().split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const remotePort = parseInt(fields[2].split(':')[1], 16)
      if (remotePort === port && inodes.has(fields[9])) n++
    }
  }
  return n
}

/** `rounds` requests to each origin in `on`, origin after origin. */
function crawl (on, port, rounds) {
  const urls = []
  for (let r = 0; r < rounds; r++) for (const ip of on) urls.push(`https://${ip}:${port}/?r=${r}`)
  return urls
}

test('each of 40 HTTP/1.1 origins is served by the one connection that found out its version', async () => {
  const c = client({ ca: certs.ca.pem })
  const start = await accepted()
  // Five requests an origin, one at a time: each origin's connection is
  // idle in the pool when the crawl comes back to it, and serves all five.
  const responses = await c.gather(crawl(ips, h1Port, PER_CONNECTION), { concurrency: 1 })
  assert.ok(responses.every((r) => r.status === 200 && r.httpVersion === '1.1'))
  // One connection an origin, and one for the status request.
  assert.equal((await accepted()) - start - 1, ORIGINS)
  const opened = responses.filter((r) => r.timing.connected !== undefined)
  assert.deepEqual(opened.map((r) => r.url), crawl(ips, h1Port, 1))
})

test('poolMaxIdle: 10 holds at most 10 idle connections after a crawl over 40 origins', async () => {
  const urls = crawl(ips, h1Port, 2)
  const uncapped = client({ ca: certs.ca.pem })
  await uncapped.gather(urls, { concurrency: 1 })
  // Every origin's connection is still open (nginx closes one after five).
  assert.equal(socketsTo(h1Port), ORIGINS)
  uncapped.close()
  assert.equal(socketsTo(h1Port), 0)

  const capped = client({ ca: certs.ca.pem, poolMaxIdle: 10 })
  const responses = await capped.gather(urls, { concurrency: 1 })
  assert.ok(responses.every((r) => r.status === 200))
  // The call's one lane hands its last connection back once the call has
  // answered: wait for that, not for any time.
  await waitFor(() => socketsTo(h1Port) <= 10, 'at most 10 sockets held')
  assert.equal(socketsTo(h1Port), 10)
})

test('a burst over 10 HTTP/2 origins opens one connection an origin, shared by its requests', async () => {
  const c = client({ ca: certs.ca.pem })
  const start = await accepted()
  const on = ips.slice(0, H2_ORIGINS)
  const responses = await c.gather(crawl(on, h2Port, 10), { concurrency: 40 })
  assert.ok(responses.every((r) => r.status === 200 && r.httpVersion === '2'))
  assert.equal((await accepted()) - start - 1, H2_ORIGINS)
  // The connection each origin's first request opened is the one used.
  const opened = responses.filter((r) => r.timing.connected !== undefined)
  assert.equal(opened.length, H2_ORIGINS)
})

test('poolMaxIdle is a whole number of connections, checked before anything is sent', () => {
  assert.throws(() => new Client({ poolMaxIdle: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Client({ poolMaxIdle: 1.5 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Client({ poolMaxIdle: 2 ** 32 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Client({ poolMaxIdle: '10' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Client({ poolMaxIdle: NaN }), { code: 'ERR_INVALID_ARG_TYPE' })
  new Client({ poolMaxIdle: 0 }).close()
})
