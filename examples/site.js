'use strict'

// A small local site the examples run against when started on their own,
// and the tests use too: pages that link to each other (a few links broken),
// JSON endpoints (one slow, one failing), files to download, and a page
// that asks for patience once with 429 and Retry-After.

const http = require('node:http')

const PAGES = 12

function page (n) {
  const links = [`/page/${(n + 1) % PAGES}`, `/page/${(n + 5) % PAGES}`]
  if (n % 4 === 3) links.push(`/missing/${n}`)
  if (n === 7) links.push('http://127.0.0.1:1/unreachable')
  if (n === 5) links.push('/busy')
  return `<html><body><h1>page ${n}</h1>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</body></html>`
}

/** Deterministic bytes for the file `name` of `size` bytes. */
function fileBytes (name, size) {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + name.length * 7) & 0xff
  return out
}

function startSite () {
  const stats = { requests: 0, busyAnswered: 0 }
  const server = http.createServer((req, res) => {
    stats.requests++
    const url = new URL(req.url, 'http://site')
    const parts = url.pathname.split('/').filter(Boolean)
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (url.pathname === '/') return res.end(page(0))
    if (parts[0] === 'page') return res.end(page(Number(parts[1])))
    if (url.pathname === '/busy') {
      // The first visit is turned away with a time to come back.
      if (stats.busyAnswered++ === 0) {
        res.writeHead(429, { 'retry-after': '1' })
        return res.end('slow down')
      }
      return res.end(page(PAGES))
    }
    if (url.pathname === '/api/users') return json(200, [{ id: 1, name: 'ada' }, { id: 2, name: 'lin' }])
    if (url.pathname === '/api/orders') return json(200, [{ id: 10, user: 1, total: 42 }])
    if (url.pathname === '/api/stock') return json(200, { widgets: 7 })
    if (url.pathname === '/api/broken') return json(500, { error: 'database down' })
    if (url.pathname === '/api/slow') return setTimeout(() => json(200, { late: true }), 3000).unref()
    if (parts[0] === 'files') {
      const size = Number(url.searchParams.get('size') || 65536)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
      return res.end(fileBytes(parts[1], size))
    }
    res.writeHead(404)
    res.end('not found')
  })
  server.keepAliveTimeout = 5000
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    server.base = `http://127.0.0.1:${server.address().port}`
    server.stats = stats
    resolve(server)
  }))
}

/** Runs `fn(base)` against a fresh site, prints its result, and stops the site. */
async function runAgainstSite (fn) {
  const site = await startSite()
  try {
    console.log(JSON.stringify(await fn(site.base), null, 2))
  } finally {
    site.close()
  }
}

module.exports = { startSite, runAgainstSite, fileBytes, PAGES }
