'use strict'

// Free loopback ports for servers that cannot listen on port 0 themselves
// (nginx, tinyproxy), and a wait until something listens on one.

const net = require('node:net')

/** `count` distinct free ports on 127.0.0.1: held open together, then released. */
async function freePorts (count) {
  const servers = []
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer()
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', resolve)
      })
      servers.push(server)
    }
    return servers.map((s) => s.address().port)
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  }
}

function canConnect (port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Resolves once every port accepts connections; rejects after `timeoutMs`, or
 * as soon as `failed()` returns an error (the server process died).
 */
async function waitForPorts (ports, { timeoutMs = 10000, failed = () => null } = {}) {
  const deadline = Date.now() + timeoutMs
  for (const port of ports) {
    for (;;) {
      const problem = failed()
      if (problem) throw problem
      if (await canConnect(port)) break
      if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

module.exports = { freePorts, waitForPorts }
