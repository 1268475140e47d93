'use strict'

// The many-origins scenario of `npm run bench` (BENCH_SCENARIOS=origins): a
// crawl over many https origins on one nginx, each origin its own loopback
// address (127.0.0.2, 127.0.0.3, …; Linux routes all of 127/8 to lo), one
// private CA, one certificate naming every address. nginx closes a
// connection after BENCH_ORIGINS_KEEPALIVE requests, so clients keep
// re-opening connections to origins they have seen: its access log says, per
// client, how many TLS handshakes there were and how many resumed a session
// ($ssl_session_reused). Also reported: the sockets each client still holds
// after the run (its idle pool).

const fs = require('node:fs')
const path = require('node:path')
const { startNginx } = require('./nginx')
const { makeCerts, makeLeaf } = require('../__test__/support/certs')

/** The `count` loopback addresses from 127.0.0.2 on. */
function addresses (count) {
  const out = []
  for (let k = 2; out.length < count; k++) out.push(`127.0.${k >> 8}.${k & 255}`)
  return out
}

/** nginx, a CA and a certificate for `count` origins; `stop()` ends them. */
async function startOrigins ({ count, size, keepalive, workers }) {
  const ips = addresses(count)
  const certs = makeCerts()
  makeLeaf(certs.dir, 'origins', 'ca', ips)
  const tls = { cert: path.join(certs.dir, 'origins.pem'), key: path.join(certs.dir, 'origins.key') }
  const nginx = await startNginx({
    files: { 'origin.bin': size },
    workers,
    tls,
    extraListen: ips,
    keepaliveRequests: keepalive,
    accessLog: '$connection $connection_requests $ssl_session_reused'
  })
  const log = path.join(nginx.dir, 'access.log')
  return {
    nginx,
    caCert: certs.ca.cert,
    bases: ips.map((ip) => `https://${ip}:${nginx.port}/origin.bin`),
    /** Handshakes, full and resumed, logged after byte `from` of the log. */
    handshakes (from) {
      const text = fs.readFileSync(log).subarray(from).toString('latin1')
      let full = 0
      let resumed = 0
      for (const line of text.split('\n')) {
        const [, requests, reused] = line.split(' ')
        if (requests !== '1') continue
        if (reused === 'r') resumed++
        else full++
      }
      return { full, resumed }
    },
    logSize: () => (fs.existsSync(log) ? fs.statSync(log).size : 0),
    async stop () {
      await nginx.stop()
      certs.remove()
    }
  }
}

module.exports = { startOrigins }

/** Clients whose TLS reads NODE_EXTRA_CA_CERTS (impit and wreq-js do not). */
const ORIGIN_CLIENTS = ['fetchpool-gather', 'fetchpool-fetch', 'fetchpool-mapLimit', 'undici-request', 'node-fetch', 'async-http']

/**
 * Runs the scenario: each chosen client, `cfg.rounds` times in rotated
 * order, through `runChild(name, env, nginx)`. Returns, per client, the
 * rounds' results with the handshakes nginx logged during each.
 */
async function runOriginsScenario (scn, cfg, names, runChild, log) {
  const origins = await startOrigins({ count: scn.origins, size: scn.size, keepalive: scn.keepalive, workers: cfg.nginxWorkers })
  const runs = {}
  const order = names.filter((n) => ORIGIN_CLIENTS.includes(n))
  for (const name of order) runs[name] = []
  try {
    for (let round = 0; round < cfg.rounds; round++) {
      const k = round % Math.max(1, order.length)
      for (const name of order.slice(k).concat(order.slice(0, k))) {
        const from = origins.logSize()
        const result = await runChild(name, {
          BENCH_URL: origins.bases[0],
          BENCH_BASES: origins.bases.join(','),
          BENCH_COUNT: String(scn.count),
          BENCH_SIZE: String(scn.size),
          BENCH_CONCURRENCY: String(cfg.concurrency),
          BENCH_WARMUP: '0',
          NODE_EXTRA_CA_CERTS: origins.caCert
        }, origins.nginx)
        Object.assign(result, origins.handshakes(from))
        runs[name].push(result)
        log(name, round, result)
      }
    }
  } finally {
    await origins.stop()
  }
  return runs
}

const median = (v) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b)
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2) : NaN
}

/** The scenario's table: medians over the rounds that succeeded. */
function originsTable (scn, cfg, runs) {
  const rows = [
    `### ${scn.count.toLocaleString('en-US')} requests × ${scn.size} B over ${scn.origins} https origins, concurrency ${cfg.concurrency}, ${scn.keepalive} requests per connection`,
    '',
    'Handshakes are the connections nginx saw (full, and resumed with a session the client kept); CPU per handshake is the client\'s CPU over the run ÷ handshakes (requests included); sockets held is what the client still has open after the run (its idle pool).',
    '',
    '| client | req/s | handshakes/s | full | resumed | CPU s | CPU ms/handshake | peak RSS MiB | sockets held | |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|'
  ]
  for (const [name, list] of Object.entries(runs)) {
    const ok = list.filter((r) => !r.error)
    if (ok.length === 0) {
      rows.push(`| ${name} | | | | | | | | | ${list.length ? list[0].error.split('\n')[0].slice(0, 120) : 'not run'} |`)
      continue
    }
    const m = (f) => median(ok.map(f))
    const shakes = (r) => r.full + r.resumed
    rows.push(`| ${name} | ${Math.round(m((r) => r.rps))} | ${Math.round(m((r) => shakes(r) / r.seconds))} | ${m((r) => r.full)} | ${m((r) => r.resumed)} | ${m((r) => r.cpuSeconds).toFixed(2)} | ${m((r) => (r.cpuSeconds * 1000) / shakes(r)).toFixed(2)} | ${Math.round(m((r) => r.peakRssMiB))} | ${m((r) => r.openSockets)} | |`)
  }
  return rows.join('\n')
}

module.exports.runOriginsScenario = runOriginsScenario
module.exports.originsTable = originsTable
