'use strict'

// What the report draws, made small enough for a light page whatever the
// size of the run: a sample of the requests for the waterfall (every error
// kept up to a cap) and f(t) folded into buckets of its mean and maximum.

const MAX_ROWS = 2000
const MAX_ERROR_ROWS = 500
const MAX_BUCKETS = 600

/** Rows `[queued, start, connected, firstByte, end, status, errorId, index]`, relative to `origin`, by start. */
function waterfallRows (recorder, origin) {
  const c = recorder.columns
  const n = recorder.length
  const stride = Math.max(1, Math.ceil(n / MAX_ROWS))
  const picked = []
  let errors = 0
  for (let k = 0; k < n; k++) {
    const isError = c.error[k] !== 0
    if (k % stride === 0 || (isError && errors < MAX_ERROR_ROWS)) {
      picked.push(k)
      if (isError) errors++
    }
  }
  const rel = (v) => (v < 0 ? -1 : Math.round((v - origin) * 1000) / 1000)
  const rows = picked.map((k) => [rel(c.queued[k]), rel(c.start[k]), rel(c.connected[k]), rel(c.firstByte[k]),
    rel(c.end[k]), c.status[k], c.error[k], c.index[k]])
  rows.sort((a, b) => (a[1] < 0 ? a[0] : a[1]) - (b[1] < 0 ? b[0] : b[1]))
  return { rows, sampled: stride > 1, total: n }
}

/**
 * The step curve `[{ t, inFlight }]` over [0, span] folded into buckets:
 * `{ width, t[], mean[], max[] }`, the mean weighted by time.
 */
function foldCurve (points, span) {
  const count = Math.max(1, Math.min(MAX_BUCKETS, Math.ceil(span)))
  const width = span > 0 ? span / count : 1
  const mean = new Array(count).fill(0)
  const max = new Array(count).fill(0)
  for (let p = 0; p < points.length; p++) {
    const from = points[p].t
    const to = p + 1 < points.length ? points[p + 1].t : span
    const level = points[p].inFlight
    if (to <= from || level === 0) continue
    const first = Math.min(count - 1, Math.floor(from / width))
    const last = Math.min(count - 1, Math.floor(Math.max(from, to - 1e-9) / width))
    for (let b = first; b <= last; b++) {
      const overlap = Math.min(to, (b + 1) * width) - Math.max(from, b * width)
      if (overlap > 0) mean[b] += (level * overlap) / width
      if (level > max[b]) max[b] = level
    }
  }
  const t = mean.map((_, b) => b * width)
  return { width, t, mean: mean.map((v) => Math.round(v * 100) / 100), max }
}

module.exports = { waterfallRows, foldCurve, MAX_ROWS }
