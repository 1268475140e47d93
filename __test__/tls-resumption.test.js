'use strict'

// TLS session resumption across many origins: a connection re-opened to an
// origin seen before resumes its session, even when a crawl goes round more
// origins than a small session cache would hold. Each origin is its own
// loopback address on one nginx, which closes every connection after one
// request and logs, per connection, whether the session was reused.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { makeCerts, makeLeaf } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { freePorts } = require('./support/ports')
const { clientTracker } = require('./support/clients')

// More origins than rustls's default cache holds sessions for (32).
const ORIGINS = 40
const ips = Array.from({ length: ORIGINS }, (_, k) => `127.0.0.${k + 2}`)
let certs
let nginx
let port
let logFile

const { client, closeAll } = clientTracker()

before(async () => {
  certs = makeCerts()
  makeLeaf(certs.dir, 'origins', 'ca', ips)
  ;[port] = await freePorts(1)
  logFile = path.join(certs.dir, 'access.log')
  const listens = ips.map((ip) => `listen ${ip}:${port} ssl;`).join(' ')
  nginx = await startNginx({
    servers: { ready: { ssl: certs.server, config: 'return 200;' } },
    http: `log_format resumed '$server_addr $ssl_session_reused';
  server {
    ${listens}
    ssl_certificate ${path.join(certs.dir, 'origins.pem')};
    ssl_certificate_key ${path.join(certs.dir, 'origins.key')};
    keepalive_requests 1;
    access_log ${logFile} resumed;
    location / { return 200 "ok"; }
  }`
  })
})

after(async () => {
  closeAll()
  if (nginx) await nginx.stop()
  if (certs) certs.remove()
})

test('a connection re-opened to each of 40 origins resumes its TLS session', { timeout: 60_000 }, async () => {
  const c = client({ ca: certs.ca.pem })
  const round = ips.map((ip) => `https://${ip}:${port}/`)
  // One request at a time, round after round: every origin is re-opened
  // only after all the others have been visited.
  const responses = await c.gather([...round, ...round], { concurrency: 1 })
  assert.deepEqual(responses.map((r) => r.status), Array(2 * ORIGINS).fill(200))
  const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => l.split(' '))
  assert.equal(lines.length, 2 * ORIGINS)
  const second = lines.slice(ORIGINS)
  assert.deepEqual(second.map(([addr]) => addr), ips)
  assert.deepEqual(second.map(([, reused]) => reused), Array(ORIGINS).fill('r'))
})
