'use strict'

const { performance } = require('node:perf_hooks')

const PROGRESS_INTERVAL_MS = 100

/** Calls `onProgress` at most every PROGRESS_INTERVAL_MS, and once at the end. */
class Progress {
  constructor (fn, total) {
    this.fn = fn
    this.total = total
    this.done = 0
    this.failed = 0
    this.bytes = 0
    this.last = 0
  }

  count (err, res, concurrency) {
    this.done++
    if (err) this.failed++
    // A body saved to a file counts as much as one held in memory.
    else this.bytes += res.savedBytes === undefined ? res.buffer.length : res.savedBytes
    const now = performance.now()
    if (now - this.last >= PROGRESS_INTERVAL_MS || this.done === this.total) {
      this.last = now
      this.report(concurrency)
    }
  }

  report (concurrency) {
    const inFlight = Math.max(0, Math.min(this.total - this.done, concurrency))
    try {
      this.fn({ done: this.done, failed: this.failed, inFlight, total: this.total, bytes: this.bytes })
    } catch (err) {
      process.nextTick(() => { throw err })
    }
  }
}

module.exports = { Progress }
