'use strict'

// Free loopback ports for servers that cannot listen on port 0 themselves
// (nginx, tinyproxy), and a wait until something listens on one.

const net = require('node:net')

// Ports are drawn below the kernel's ephemeral range (32768 and up on
// Linux, read from /proc when it is there). A port found free is released
// before the server binds it; a port from the ephemeral range could in that
// gap be handed to another test's listen(0) or to an outgoing connection, and
// the test would talk to the wrong server. Below the range nothing is handed
// out by the kernel, so only another freePorts() call could pick the same
// port, one in thousands.
const FIRST = 20000

function ephemeralStart () {
  try {
    const low = Number(require('node:fs').readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return low > FIRST + 1000 ? low : null
  } catch {
    return null
  }
}

function listenOn (port) {
  const server = net.createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** A server on a free port below the ephemeral range, or on port 0. */
async function holdOne (taken) {
  const end = ephemeralStart()
  for (let tries = 0; end !== null && tries < 50; tries++) {
    const port = FIRST + Math.floor(Math.random() * (end - FIRST))
    if (taken.has(port)) continue
    const server = await listenOn(port)
    if (server) return server
  }
  const server = await listenOn(0)
  if (!server) throw new Error('no free port on 127.0.0.1')
  return server
}

/** `count` distinct free ports on 127.0.0.1: held open together, then released. */
async function freePorts (count) {
  const servers = []
  try {
    const taken = new Set()
    for (let i = 0; i < count; i++) {
      const server = await holdOne(taken)
      taken.add(server.address().port)
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
