'use strict'

// Runs a server program (nginx, tinyproxy) in the foreground for a test file:
// waits until its ports accept connections, kills it if the test process
// exits first, and stops it (then removes its folder) on `stop()`.

const fs = require('node:fs')
const { spawn } = require('node:child_process')
const { waitForPorts } = require('./ports')

/**
 * @param {{ name: string, bin: string, args: string[], dir: string, ports: number[], log?: () => string }} spec
 * @returns {Promise<{ stop(): Promise<void> }>}
 */
async function startDaemon ({ name, bin, args, dir, ports, log = () => '' }) {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  let exited = null
  const exitedPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = { code, signal }
    resolve()
  }))
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  try {
    await waitForPorts(ports, {
      failed: () => exited && new Error(`${name} exited (${exited.code ?? exited.signal}): ${stderr}${log()}`)
    })
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    async stop () {
      process.removeListener('exit', killOnExit)
      if (exited === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exitedPromise
        clearTimeout(timer)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A file's text, or '' while it does not exist. */
function readText (file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

module.exports = { startDaemon, readText }
