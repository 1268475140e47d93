'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const path = require('node:path')
const { startServer } = require('./support/server')

let server
before(async () => { server = await startServer() })
after(() => server.close())

const fixture = (name) => path.join(__dirname, 'fixtures', name)

function runNode (args, timeout = 20000) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, signal: error ? error.signal : null, stdout, stderr })
    })
  })
}

for (const mode of ['promise', 'callback', 'gather', 'client']) {
  test(`the process exits promptly once nothing is in flight (${mode})`, async () => {
    const { code, stdout, stderr } = await runNode([fixture('fetch-then-exit.js'), server.url('/slow?ms=300'), mode])
    assert.equal(code, 0, stderr)
    assert.match(stdout, /done 200 /, `work in flight kept the process alive until it finished: ${stdout} ${stderr}`)
    assertExitedPromptly(stdout)
  })
}

// The fixture's unreferenced timer prints `still running` only if the event
// loop is alive 3 s after the last result (the pool keeps idle connections
// for 30 s). A process that lets go of the loop exits however loaded the
// machine, before such a timer can fire: no wall clock decides this.
function assertExitedPromptly (stdout) {
  assert.doesNotMatch(stdout, /still running/, 'the process lingered after its last result')
}

test('a refused fetch also lets the process exit promptly', async () => {
  const { code, stdout } = await runNode([fixture('fetch-then-exit.js'), 'http://127.0.0.1:1/'])
  assert.equal(code, 0)
  assert.match(stdout, /done ECONNREFUSED/)
  assertExitedPromptly(stdout)
})

test('a closed client lets go of its descriptors, and of itself', { skip: process.platform !== 'linux' && 'reads /proc/self/fd' }, async () => {
  const { code, stdout, stderr } = await runNode(['--expose-gc', fixture('closed-clients.js'), server.url('/a')], 60000)
  assert.equal(code, 0, stderr)
  const left = JSON.parse(stdout)
  // Each client's runtime has an epoll and a wake-up descriptor; none is
  // kept once it is closed and its workers have ended, without waiting for
  // the collector (before, all 180 stayed until it ran).
  assert.equal(left.afterClose, 0, stdout)
  // Nothing on the native side holds a closed client's JavaScript object.
  assert.equal(left.collected, left.clients, stdout)
})

test('the addon loads and fetches in several worker_threads at once', async () => {
  const workers = Array.from({ length: 3 }, (_, w) => {
    const urls = Array.from({ length: 200 }, (_, i) => server.url(`/w${w}/${i}`))
    return new Worker(fixture('worker-gather.js'), { workerData: { urls } })
  })
  const results = await Promise.all(workers.map((worker) => new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })))
  results.forEach((r, w) => {
    assert.equal(r.count, 200)
    assert.equal(r.ok, true)
    assert.equal(r.first, `hello /w${w}/0`)
  })
  await Promise.all(workers.map((w) => w.terminate()))
})

test('terminating workers mid-batch does not crash the process', async () => {
  const { code, signal, stdout, stderr } = await runNode([fixture('terminate-workers.js'), server.url('')], 30000)
  assert.equal(signal, null, `crashed with ${signal}: ${stderr}`)
  assert.equal(code, 0, stderr)
  assert.match(stdout, /survived 200/)
})
