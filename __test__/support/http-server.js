'use strict'

// A bare Node HTTP server on 127.0.0.1 port 0 for what nginx cannot do
// (scripted failures, br/zstd/deflate, corrupt bodies). `handler(req, res,
// url)` may be async; the server records every request it sees.

const http = require('node:http')

async function startHttpServer (handler) {
  const requests = []
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost')
    requests.push({ method: req.method, url: req.url, headers: req.headers, at: performance.now() })
    Promise.resolve(handler(req, res, url)).catch((err) => res.destroy(err))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    port,
    server,
    requests,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    close () {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    }
  }
}

/** Reads a request body. */
async function readBody (req) {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks)
}

module.exports = { startHttpServer, readBody }
