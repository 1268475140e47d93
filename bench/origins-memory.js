'use strict'

// Memory after many distinct origins: one fetchpool client fetches once from
// each of ORIGINS origins (host names o<i>.test mapped to one loopback
// server by the `resolve` option, so each is an origin of its own to the
// idle store and the ALPN table), in gathers of 1,000, and prints its RSS
// after each. The server runs in a child process, so the figures are the
// client's. BENCH_TLS=1 uses https (HTTP/2 in auto mode, so every origin is
// probed and remembered as HTTP/1.1).
//
//   node bench/origins-memory.js            # 10,000 origins over http
//   BENCH_TLS=1 node bench/origins-memory.js

const { fork } = require('node:child_process')

const ORIGINS = Number(process.env.ORIGINS || 10000)
const STEP = 1000
const tls = process.env.BENCH_TLS === '1'

function serve () {
  const { makeCerts } = require('../__test__/support/certs')
  const body = Buffer.alloc(1024, 'a')
  const handler = (req, res) => res.end(body)
  let server
  let certs
  if (tls) {
    const fs = require('node:fs')
    certs = makeCerts()
    server = require('node:https').createServer({ key: fs.readFileSync(certs.server.key), cert: certs.server.pem }, handler)
  } else {
    server = require('node:http').createServer(handler)
  }
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
  process.on('disconnect', () => {
    certs?.remove()
    process.exit(0)
  })
}

const mb = (n) => (n / 1048576).toFixed(1)

async function main () {
  const child = fork(__filename, ['--serve'], { env: { ...process.env } })
  const port = await new Promise((resolve) => child.once('message', resolve))
  const resolve = {}
  for (let i = 0; i < ORIGINS; i++) resolve[`o${i}.test:${port}`] = `127.0.0.1:${port}`
  const { Client } = require('..')
  const client = new Client({ resolve, rejectUnauthorized: false })
  const scheme = tls ? 'https' : 'http'
  const url = (i) => `${scheme}://o${i}.test:${port}/`
  // Warm up on one origin so the runtime and the pool exist.
  await client.gather(Array.from({ length: 64 }, () => url(0)), { concurrency: 64 })
  global.gc?.()
  const base = process.memoryUsage()
  console.log(`${scheme}, ${ORIGINS} origins; rss at start ${mb(base.rss)} MB`)
  console.log('origins\trss MB\t+MB\theap MB\texternal MB')
  for (let done = 0; done < ORIGINS; done += STEP) {
    const urls = Array.from({ length: Math.min(STEP, ORIGINS - done) }, (_, i) => url(done + i))
    const results = await client.gather(urls, { concurrency: 64, settle: true })
    const failed = results.filter((r) => r.status !== 'fulfilled')
    if (failed.length) throw new Error(`${failed.length} failed: ${failed[0].reason.code}`)
    global.gc?.()
    const m = process.memoryUsage()
    console.log(`${done + urls.length}\t${mb(m.rss)}\t${mb(m.rss - base.rss)}\t${mb(m.heapUsed)}\t${mb(m.external)}`)
  }
  client.close()
  child.disconnect()
}

if (process.argv.includes('--serve')) {
  serve()
} else {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
