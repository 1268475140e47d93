'use strict'

// The server behind `--demo`: on 127.0.0.1, in the same process, with a
// latency and body size that vary by item and a few non-2xx statuses, so the
// summary and the report have something to show without any network.

const http = require('node:http')

function handle (req, res) {
  const n = Number(/^\/item\/(\d+)$/.exec(req.url)?.[1])
  if (!Number.isInteger(n)) {
    res.writeHead(404)
    return res.end('not found')
  }
  const status = n % 97 === 13 ? 500 : n % 41 === 7 ? 404 : 200
  const delay = 2 + ((n * 7919) % 23)
  setTimeout(() => {
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end('x'.repeat(256 + ((n * 131) % 4096)))
  }, delay)
}

/** Starts the server; resolves to `{ urls(count), close() }`. */
async function startDemo () {
  const server = http.createServer(handle)
  server.keepAliveTimeout = 5000
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const base = `http://127.0.0.1:${server.address().port}`
  return {
    urls: (count) => Array.from({ length: count }, (_, i) => `${base}/item/${i}`),
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(resolve)
    })
  }
}

module.exports = { startDemo }
