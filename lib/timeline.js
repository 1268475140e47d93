'use strict'

// The timing model of a batch. Request i is queued at q_i, starts at t_i and
// ends at e_i; its task function a_i(t) is 1 while it is in flight (from t_i
// to e_i) and 0 otherwise, so the execution process f(t) = Σ a_i(t − t_i) is
// the number of requests in flight at time t. The names of the counts match
// those of `stats()` and `onProgress`: done, failed, inFlight, bytes.

const { invalidArgType, outOfRange } = require('./errors')
const { percentiles } = require('./percentiles')

const DEFAULT_BUCKETS = 100

/**
 * Reads one result: a Response, a settled outcome, an error, or a plain
 * record with `timing` (such as a line of the command's NDJSON output).
 * Returns `{ from, to, queued, failed, bytes }`; `from` is NaN when the
 * result carries no usable timing (an input error that never started).
 */
function sampleOf (item, index) {
  if (item === null || typeof item !== 'object') {
    throw invalidArgType(`results[${index}]`, 'a Response, a settled outcome or an error', item)
  }
  if (item.status === 'fulfilled' && 'value' in item) return sampleOf(item.value, index)
  if (item.status === 'rejected' && 'reason' in item) return failedSample(item.reason)
  if (item instanceof Error) return failedSample(item)
  const failed = item.error !== undefined && item.error !== null
  return { ...intervalOf(item.timing), failed, bytes: bytesOf(item) }
}

function failedSample (err) {
  const timing = err !== null && typeof err === 'object' ? err.timing : undefined
  return { ...intervalOf(timing), failed: true, bytes: 0 }
}

function bytesOf (item) {
  if (typeof item.bytes === 'number') return item.bytes
  if (typeof item.savedBytes === 'number') return item.savedBytes
  if (item.buffer && typeof item.buffer.length === 'number') return item.buffer.length
  return 0
}

/** The interval a request was in flight: [start, end], or queued when it never started. */
function intervalOf (timing) {
  const t = timing !== null && typeof timing === 'object' ? timing : {}
  const queued = finite(t.queued)
  const start = finite(t.start)
  const end = finite(t.end)
  const from = Number.isNaN(start) ? queued : start
  if (Number.isNaN(from) || Number.isNaN(end) || end < from) return { from: NaN, to: NaN, queued: NaN }
  return { from, to: end, queued: Number.isNaN(queued) ? from : Math.min(queued, from) }
}

function finite (value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : NaN
}

/** Columns of the timed results: what the rest of the module works on. */
function columnsOf (results) {
  const n = results.length
  const from = new Float64Array(n)
  const to = new Float64Array(n)
  const queued = new Float64Array(n)
  let timed = 0
  let failed = 0
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const s = sampleOf(results[i], i)
    if (s.failed) failed++
    bytes += s.bytes
    if (Number.isNaN(s.from)) continue
    from[timed] = s.from
    to[timed] = s.to
    queued[timed] = s.queued
    timed++
  }
  return {
    done: n,
    failed,
    bytes,
    from: from.subarray(0, timed),
    to: to.subarray(0, timed),
    queued: queued.subarray(0, timed)
  }
}

function checkOptions (options) {
  if (options === undefined || options === null) return { bucket: undefined, buckets: DEFAULT_BUCKETS }
  if (typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const { bucket, buckets = DEFAULT_BUCKETS } = options
  if (bucket !== undefined && !(typeof bucket === 'number' && bucket > 0 && Number.isFinite(bucket))) {
    throw outOfRange('options.bucket', '> 0 (milliseconds)', bucket)
  }
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1e6) {
    throw outOfRange('options.buckets', 'an integer >= 1 and <= 1000000', buckets)
  }
  return { bucket, buckets }
}

/**
 * timeline(results, [options]) → the batch's concurrency curve f(t), its
 * makespan, mean and peak in flight, throughput over time and latency
 * percentiles. Times in ms; curve and throughput times are relative to `start`.
 */
function timeline (results, options) {
  if (results === null || typeof results !== 'object' || typeof results[Symbol.iterator] !== 'function') {
    throw invalidArgType('results', 'an array or an iterable of results', results)
  }
  const opts = checkOptions(options)
  const list = Array.isArray(results) ? results : Array.from(results)
  return fromColumns(columnsOf(list), opts)
}

/** The timeline of columns `{ done, failed, bytes, from, to, queued }`. */
function fromColumns (cols, opts = { buckets: DEFAULT_BUCKETS }) {
  const { from, to, queued } = cols
  const timed = from.length
  const start = timed === 0 ? 0 : min(queued)
  const end = timed === 0 ? 0 : max(to)
  const makespan = end - start
  const curve = concurrencyCurve(from, to, start)
  let busy = 0
  const latencies = new Float64Array(timed)
  for (let i = 0; i < timed; i++) {
    latencies[i] = to[i] - from[i]
    busy += latencies[i]
  }
  const bucket = opts.bucket || niceWidth(makespan / opts.buckets)
  return {
    done: cols.done,
    failed: cols.failed,
    untimed: cols.done - timed,
    bytes: cols.bytes,
    start,
    end,
    makespan,
    rate: makespan > 0 ? (timed * 1000) / makespan : 0,
    meanInFlight: makespan > 0 ? busy / makespan : 0,
    peakInFlight: curve.peak,
    concurrency: curve.points,
    bucket,
    throughput: throughput(to, start, makespan, bucket),
    latency: percentiles(latencies)
  }
}

function min (a) {
  let m = Infinity
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i]
  return m
}

function max (a) {
  let m = -Infinity
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i]
  return m
}

/**
 * f(t) as steps `{ t, inFlight }`: the value holds from t until the next
 * point. Starts and ends at the same instant are applied together, so a
 * request that ends as another starts does not count as a peak.
 */
function concurrencyCurve (from, to, origin) {
  const starts = Float64Array.from(from).sort()
  const ends = Float64Array.from(to).sort()
  const points = [{ t: 0, inFlight: 0 }]
  let i = 0
  let j = 0
  let level = 0
  let peak = 0
  while (i < starts.length || j < ends.length) {
    const t = Math.min(i < starts.length ? starts[i] : Infinity, j < ends.length ? ends[j] : Infinity)
    while (i < starts.length && starts[i] === t) { level++; i++ }
    while (j < ends.length && ends[j] === t) { level--; j++ }
    if (level > peak) peak = level
    const last = points[points.length - 1]
    const at = t - origin
    if (last.t === at) last.inFlight = level
    else if (last.inFlight !== level) points.push({ t: at, inFlight: level })
  }
  return { points, peak }
}

/** A bucket width of 1, 2 or 5 × 10^k ms, at least 1 ms. */
function niceWidth (raw) {
  if (!(raw > 1)) return 1
  const p = 10 ** Math.floor(Math.log10(raw))
  const m = raw / p
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
}

/** Completions per bucket of `width` ms, by end time, with the rate per second. */
function throughput (to, origin, makespan, width) {
  const count = Math.max(1, Math.ceil(makespan / width))
  const done = new Array(count).fill(0)
  for (let i = 0; i < to.length; i++) {
    done[Math.min(count - 1, Math.floor((to[i] - origin) / width))]++
  }
  return done.map((n, k) => ({ t: k * width, done: n, rate: (n * 1000) / width }))
}

module.exports = { timeline, fromColumns, intervalOf, niceWidth }
