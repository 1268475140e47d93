'use strict'

// concurrency: 'auto' against fixed limits, on a local server whose latency
// grows once more than N requests are in flight: BASE ms up to N, then
// BASE × (inFlight / N)^1.5, so throughput peaks near N and falls past it.
// Each setting fetches the same URLs; the figure is req/s and errors, and
// auto's ratio to the best fixed setting.
//
//   node bench/auto-concurrency.js          (BENCH_N, BENCH_BASE_MS, BENCH_REQUESTS)

const { fork } = require('node:child_process')
const { performance } = require('node:perf_hooks')
const { Client } = require('..')

const N = Number(process.env.BENCH_N || 32)
const BASE_MS = Number(process.env.BENCH_BASE_MS || 10)
const REQUESTS = Number(process.env.BENCH_REQUESTS || 4000)
const FIXED = (process.env.BENCH_FIXED || '8,16,24,32,48,64,128,256').split(',').map(Number)

if (process.argv[2] === 'serve') serve()
else main().catch((err) => { console.error(err); process.exitCode = 1 })

/** The server, in a child process of its own so that it does not share the client's thread. */
function serve () {
  const http = require('node:http')
  let inFlight = 0
  const server = http.createServer((req, res) => {
    inFlight++
    const delay = BASE_MS * Math.max(1, inFlight / N) ** 1.5
    res.on('close', () => { inFlight-- })
    setTimeout(() => res.end('ok'), delay)
  })
  server.keepAliveTimeout = 30000
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
}

async function run (port, concurrency, trajectory) {
  const client = new Client({ concurrency, ...(concurrency === 'auto' ? { maxConcurrency: 512 } : {}) })
  const urls = Array.from({ length: REQUESTS }, (_, i) => `http://127.0.0.1:${port}/${i}`)
  const began = performance.now()
  const timer = trajectory && setInterval(() => {
    const limit = Object.values(client.stats().limits)[0]
    if (limit !== undefined) trajectory.push([Math.round(performance.now() - began), limit])
  }, 100)
  const outcomes = await client.gather(urls, { settle: true })
  const seconds = (performance.now() - began) / 1000
  if (timer) clearInterval(timer)
  client.close()
  const errors = outcomes.filter((o) => o.status === 'rejected' || o.value.status !== 200).length
  return { rate: REQUESTS / seconds, errors }
}

async function main () {
  const child = fork(__filename, ['serve'], { env: { ...process.env } })
  const port = await new Promise((resolve) => child.once('message', resolve))
  try {
    console.log(`server: ${BASE_MS} ms up to ${N} in flight, then × (inFlight/${N})^1.5; ${REQUESTS} requests per setting`)
    const fixed = []
    for (const c of FIXED) {
      const r = await run(port, c)
      fixed.push({ c, ...r })
      console.log(`concurrency ${String(c).padStart(4)}: ${r.rate.toFixed(0).padStart(6)} req/s, ${r.errors} errors`)
    }
    const trajectory = []
    const auto = await run(port, 'auto', trajectory)
    const best = fixed.reduce((a, b) => (b.rate > a.rate ? b : a))
    console.log(`concurrency auto: ${auto.rate.toFixed(0).padStart(6)} req/s, ${auto.errors} errors`)
    console.log(`auto ÷ best fixed (${best.c}): ${(auto.rate / best.rate).toFixed(3)}; errors ${auto.errors} vs ${best.errors}`)
    console.log(`auto's limit every 100 ms: ${trajectory.map(([, l]) => l).join(' ')}`)
  } finally {
    child.kill()
  }
}
