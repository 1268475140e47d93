'use strict'

// Splitting a batch across worker threads or cluster processes, each with a
// Client of its own: each pool counts only its own requests, and the server
// sees every request once.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const cluster = require('node:cluster')
const { Worker } = require('node:worker_threads')
const { startServer } = require('./support/server')

const FIXTURE = path.join(__dirname, 'fixtures', 'scale-part.js')

let server
before(async () => { server = await startServer() })
after(() => server.close())

function parts (count, each) {
  return Array.from({ length: count }, (_, p) => ({
    workers: 1,
    concurrency: 8,
    urls: Array.from({ length: each }, (_, i) => server.url(`/hello?part=${p}&i=${i}`))
  }))
}

function runThread (part) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(FIXTURE, { workerData: part })
    worker.once('message', resolve)
    worker.once('error', reject)
  })
}

function runProcess (part) {
  return new Promise((resolve, reject) => {
    cluster.setupPrimary({ exec: FIXTURE, silent: true })
    const worker = cluster.fork({ FETCHPOOL_PART: JSON.stringify(part) })
    worker.once('message', (m) => { resolve(m); worker.kill() })
    worker.once('error', reject)
  })
}

for (const [kind, run] of [['worker threads', runThread], ['cluster processes', runProcess]]) {
  test(`${kind}: each Client's stats count its own part`, async () => {
    server.reset()
    const split = parts(3, 120)
    const reports = await Promise.all(split.map(run))
    for (const report of reports) {
      assert.equal(report.error, undefined)
      assert.equal(report.ok, true)
      assert.equal(report.workers, 1)
      const { queued, inFlight, done, failed, bytes } = report.stats
      assert.deepEqual({ queued, inFlight, done, failed }, { queued: 0, inFlight: 0, done: 120, failed: 0 })
      assert.equal(bytes, 120 * 'hello /hello'.length)
    }
    assert.equal(server.stats.requests, 360)
    const pids = new Set(reports.map((r) => r.pid))
    assert.equal(pids.size, kind === 'worker threads' ? 1 : 3)
  })
}
