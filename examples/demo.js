'use strict'

// The main job, on an embedded server: start a local HTTP server in this
// process, gather 10,000 URLs from it on fetchpool's pool, and summarise.
// No network needed. Tune with DEMO_COUNT and DEMO_CONCURRENCY.

const http = require('node:http')
const { performance } = require('node:perf_hooks')
const fetchpool = require('..')

const COUNT = Number(process.env.DEMO_COUNT || 10000)
const CONCURRENCY = Number(process.env.DEMO_CONCURRENCY || 64)

function startServer () {
  const payload = Buffer.alloc(1024, 'x')
  const server = http.createServer((req, res) => {
    const n = Number(req.url.slice(req.url.lastIndexOf('/') + 1))
    // Every 50th page is missing, every 500th fails: something to summarise.
    if (n % 500 === 499) {
      res.writeHead(503, { 'retry-after': '1' })
      return res.end('busy')
    }
    if (n % 50 === 49) {
      res.writeHead(404)
      return res.end('not found')
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': payload.length })
    res.end(payload)
  })
  server.keepAliveTimeout = 10000
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function percentile (sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function main () {
  const server = await startServer()
  const base = `http://127.0.0.1:${server.address().port}`
  const urls = Array.from({ length: COUNT }, (_, i) => `${base}/page/${i}`)

  console.log(`fetchpool demo: gathering ${COUNT} URLs from ${base} at concurrency ${CONCURRENCY}`)
  const started = performance.now()
  const responses = await fetchpool.gather(urls, { concurrency: CONCURRENCY })
  const seconds = (performance.now() - started) / 1000

  const byStatus = new Map()
  let bytes = 0
  const latencies = []
  for (const res of responses) {
    byStatus.set(res.status, (byStatus.get(res.status) || 0) + 1)
    bytes += res.buffer.length
    latencies.push(res.timing.end - res.timing.start)
  }
  latencies.sort((a, b) => a - b)

  console.log(`responses:   ${responses.length}`)
  console.log(`throughput:  ${Math.round(responses.length / seconds)} requests/s (${seconds.toFixed(2)} s, ${(bytes / 1024 / 1024).toFixed(1)} MiB)`)
  console.log(`statuses:    ${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}`)
  console.log(`latency:     p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms`)
  const stats = fetchpool.stats()
  const workers = fetchpool.defaultClient.workers
  console.log(`pool:        ${workers} worker${workers === 1 ? '' : 's'}, ${stats.done} done, ${stats.failed} failed`)
  server.closeAllConnections()
  server.close()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
