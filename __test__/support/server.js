'use strict'

// A small HTTP server for tests, on 127.0.0.1 port 0, with routes for each
// behaviour the tests need. It counts requests and tracks concurrency so tests
// can assert what was (not) sent.

const http = require('node:http')
const net = require('node:net')

function delay (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// A wait inside a handler, cut short when the response closes: a request the
// client cancelled must not keep its timer, and with it the test process,
// alive for the rest of a long delay.
function hold (res, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    res.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function handle (server, req, res, url) {
  const q = url.searchParams
  const path = url.pathname
  if (path === '/slow') {
    await hold(res, Number(q.get('ms') || 200))
    return res.end(`slow ${q.get('id') || ''}`)
  }
  if (path.startsWith('/status/')) {
    res.writeHead(Number(path.slice(8)), { 'content-type': 'text/plain' })
    return res.end(`status ${path.slice(8)}`)
  }
  if (path === '/echo') {
    const chunks = []
    for await (const c of req) chunks.push(c)
    res.writeHead(200, { 'content-type': 'application/json' })
    return res.end(JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString()
    }))
  }
  if (path === '/json') {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-multi': ['1', '2'] })
    return res.end(JSON.stringify({ hello: 'world', n: 42 }))
  }
  if (path === '/bytes') {
    const size = Number(q.get('size') || 1024)
    res.writeHead(200, { 'content-length': size })
    return res.end(Buffer.alloc(size, 'y'))
  }
  if (path === '/redirect') {
    const n = Number(q.get('n') || 1)
    const code = Number(q.get('code') || 302)
    res.writeHead(code, { location: n > 1 ? `/redirect?n=${n - 1}&code=${code}` : (q.get('to') || '/echo') })
    return res.end()
  }
  if (path === '/loop') {
    res.writeHead(302, { location: '/loop' })
    return res.end()
  }
  if (path === '/headers-delay') {
    await hold(res, Number(q.get('ms') || 1000))
    return res.end('late')
  }
  if (path === '/body-stall') {
    // Headers and part of the body, then nothing.
    res.writeHead(200, { 'content-length': 100 })
    res.write('0123456789')
    return
  }
  if (path === '/dribble') {
    // A byte every `ms`, for `n` bytes: never idle long, but slow in total.
    const n = Number(q.get('n') || 20)
    const ms = Number(q.get('ms') || 50)
    res.writeHead(200, { 'content-length': n })
    for (let i = 0; i < n && !res.destroyed; i++) {
      await hold(res, ms)
      res.write('x')
    }
    return res.end()
  }
  if (path === '/truncated') {
    res.writeHead(200, { 'content-length': 100 })
    res.write('only ten b')
    return res.socket.destroy()
  }
  if (path === '/reset') {
    // After `ms`, if given: a failure that takes time.
    if (q.has('ms')) await hold(res, Number(q.get('ms')))
    return req.socket.resetAndDestroy()
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'x-path': path })
  res.end(`hello ${path}`)
}

/**
 * Starts the test server. Returns `{ url, port, stats, reset(), close() }`;
 * `stats` has `requests`, `inFlight`, `maxInFlight`, `paths` and
 * `connections` (opened).
 */
function startServer () {
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0, paths: [], connections: 0 }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost')
    stats.requests++
    stats.paths.push(req.url)
    stats.inFlight++
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
    let counted = true
    const done = () => {
      if (counted) {
        counted = false
        stats.inFlight--
      }
    }
    res.on('close', done)
    handle(server, req, res, url).catch((err) => {
      res.destroy(err)
    })
  })
  server.keepAliveTimeout = 30000
  server.on('connection', () => { stats.connections++ })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port
      resolve({
        port,
        url: (path = '/') => `http://127.0.0.1:${port}${path}`,
        stats,
        reset () {
          stats.requests = 0
          stats.inFlight = 0
          stats.maxInFlight = 0
          stats.paths = []
          stats.connections = 0
        },
        close () {
          server.closeAllConnections()
          return new Promise((resolve) => server.close(resolve))
        }
      })
    })
  })
}

/** A raw TCP server that answers every connection with `reply` bytes. */
function startRawServer (reply) {
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.end(reply)
    })
    socket.on('error', () => {})
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: (path = '/') => `http://127.0.0.1:${server.address().port}${path}`,
        close: () => new Promise((resolve) => server.close(resolve))
      })
    })
  })
}

/** A port that refuses connections: bound, then closed. */
async function refusedPort () {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve))
  return port
}

module.exports = { startServer, startRawServer, refusedPort, delay }
