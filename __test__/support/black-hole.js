'use strict'

// A port whose handshakes get no answer, for connect timeouts: a listener
// in a child process whose event loop is blocked, so it never accepts, with
// its accept queue filled.

const { spawn } = require('node:child_process')
const net = require('node:net')

/** The port; test `t` kills the child and the fillers when it ends. */
async function blackHole (t) {
  const child = spawn(process.execPath, ['-e', `
    const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      console.log(s.address().port)
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000), 50)
    })`], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
  await new Promise((resolve) => setTimeout(resolve, 200))
  // Fill the accept queue so that further handshakes get no answer.
  const fillers = []
  for (let i = 0; i < 8; i++) {
    const s = net.connect(port, '127.0.0.1')
    s.on('error', () => {})
    fillers.push(s)
  }
  t.after(() => fillers.forEach((s) => s.destroy()))
  await new Promise((resolve) => setTimeout(resolve, 200))
  return port
}

module.exports = { blackHole }
