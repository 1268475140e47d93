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
    this.ended = false
  }

  count (err, res, concurrency) {
    this.done++
    if (err) this.failed++
    // A body saved to a file counts as much as one held in memory.
    else this.bytes += res.savedBytes === undefined ? res.buffer.length : res.savedBytes
    const now = performance.now()
    if (this.done === this.total) {
      this.end()
    } else if (now - this.last >= PROGRESS_INTERVAL_MS) {
      this.last = now
      this.report(concurrency)
    }
  }

  /** The last call: when the last request is counted, or when the call ends. */
  end () {
    if (this.ended) return
    this.ended = true
    this.report(0)
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
