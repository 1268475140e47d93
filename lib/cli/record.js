'use strict'

// What the run keeps of each request for the summary, the timeline and the
// report: a few numbers in growable typed arrays, so a million requests
// cost tens of MiB, not a million objects.

const { intervalOf } = require('../timeline')

const TIMES = ['queued', 'start', 'connected', 'firstByte', 'end']

class Recorder {
  constructor (capacity = 1024) {
    this.length = 0
    this.columns = {}
    for (const name of TIMES) this.columns[name] = new Float64Array(capacity)
    this.columns.index = new Uint32Array(capacity)
    this.columns.status = new Uint16Array(capacity)
    // 0 for a response, else 1 + the position of the error code in `codes`
    this.columns.error = new Uint16Array(capacity)
    this.codes = []
    this.codeIds = new Map()
    this.statusCounts = new Map()
    this.errorCounts = new Map()
    this.bytes = 0
    this.failed = 0
    // origin → [[t, limit], …]: the trajectory of each adaptive limit
    this.limits = new Map()
  }

  /** The adaptive limits at `t` (performance.now()), from `stats().limits`. */
  addLimits (t, limits) {
    for (const [origin, limit] of Object.entries(limits)) {
      let points = this.limits.get(origin)
      if (points === undefined) this.limits.set(origin, (points = []))
      points.push([t, limit])
    }
  }

  grow () {
    for (const [name, col] of Object.entries(this.columns)) {
      const bigger = new col.constructor(col.length * 2)
      bigger.set(col)
      this.columns[name] = bigger
    }
  }

  codeId (code) {
    let id = this.codeIds.get(code)
    if (id === undefined) {
      this.codes.push(code)
      id = this.codes.length
      this.codeIds.set(code, id)
    }
    return id
  }

  /** One outcome: `{ index, status?, error?, bytes, timing }` as written to the NDJSON. */
  add (record) {
    if (this.length === this.columns.index.length) this.grow()
    const k = this.length++
    const c = this.columns
    const timing = record.timing || {}
    for (const name of TIMES) c[name][k] = typeof timing[name] === 'number' ? timing[name] : -1
    c.index[k] = record.index
    c.status[k] = record.status || 0
    c.error[k] = record.error === undefined ? 0 : this.codeId(record.error)
    const counts = record.error === undefined ? this.statusCounts : this.errorCounts
    const key = record.error === undefined ? record.status : record.error
    counts.set(key, (counts.get(key) || 0) + 1)
    if (record.error !== undefined) this.failed++
    this.bytes += record.bytes || 0
  }

  /** The columns `fromColumns` of lib/timeline.js takes. */
  timelineColumns () {
    const { queued, start, end } = this.columns
    const from = new Float64Array(this.length)
    const to = new Float64Array(this.length)
    const q = new Float64Array(this.length)
    let timed = 0
    for (let k = 0; k < this.length; k++) {
      const w = intervalOf({ queued: queued[k], start: start[k], end: end[k] })
      if (Number.isNaN(w.from)) continue
      from[timed] = w.from
      to[timed] = w.to
      q[timed++] = w.queued
    }
    return {
      done: this.length,
      failed: this.failed,
      bytes: this.bytes,
      from: from.subarray(0, timed),
      to: to.subarray(0, timed),
      queued: q.subarray(0, timed)
    }
  }
}

module.exports = { Recorder, TIMES }
