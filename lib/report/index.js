'use strict'

// The HTML report of a run: one self-contained page (no network) with the
// summary, f(t) with throughput, and a waterfall of the requests. uPlot is
// inlined with its licence.

const fs = require('node:fs')
const path = require('node:path')
const { waterfallRows, foldCurve } = require('./aggregate')
const { pageHtml } = require('./page')

function readPackageFile (name) {
  return fs.readFileSync(require.resolve(name), 'utf8')
}

function uplotAssets () {
  const dir = path.dirname(require.resolve('uplot/package.json'))
  return {
    script: readPackageFile('uplot/dist/uPlot.iife.min.js'),
    css: readPackageFile('uplot/dist/uPlot.min.css'),
    license: fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')
  }
}

// Throughput is averaged over about this many buckets of the curve: counted
// per bucket alone it is too spiky to read, as results arrive in chunks.
const RATE_WINDOWS = 60

/** Completions per second around each bucket of the folded curve. */
function rateOf (recorder, origin, curve) {
  const n = curve.t.length
  const counts = new Array(n).fill(0)
  const end = recorder.columns.end
  for (let k = 0; k < recorder.length; k++) {
    if (end[k] < 0) continue
    counts[Math.max(0, Math.min(n - 1, Math.floor((end[k] - origin) / curve.width)))]++
  }
  const half = Math.max(0, Math.floor(n / RATE_WINDOWS / 2))
  const prefix = [0]
  for (const c of counts) prefix.push(prefix[prefix.length - 1] + c)
  return counts.map((_, b) => {
    const lo = Math.max(0, b - half)
    const hi = Math.min(n, b + half + 1)
    return Math.round(((prefix[hi] - prefix[lo]) * 1000) / ((hi - lo) * curve.width))
  })
}

/** Origins whose adaptive limit the report draws, at most. */
const MAX_LIMIT_SERIES = 4

/**
 * Each adaptive limit's trajectory on the buckets of the curve: the last
 * value sampled by the bucket's start, null before the first.
 */
function limitSeries (recorder, origin, curve) {
  const series = [...recorder.limits.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, MAX_LIMIT_SERIES)
  return series.map(([name, points]) => {
    let k = -1
    const values = curve.t.map((t) => {
      while (k + 1 < points.length && points[k + 1][0] <= origin + t + curve.width) k++
      return k < 0 ? null : points[k][1]
    })
    return { origin: name, values }
  })
}

function sortedCounts (map) {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [String(k), n])
}

/** The data the page draws, from a run's recorder and its timeline `t`. */
function reportData (recorder, t) {
  const curve = foldCurve(t.concurrency, t.makespan)
  curve.rate = rateOf(recorder, t.start, curve)
  curve.limits = limitSeries(recorder, t.start, curve)
  return {
    summary: {
      done: t.done,
      failed: t.failed,
      makespan: t.makespan,
      rate: t.rate,
      meanInFlight: t.meanInFlight,
      peakInFlight: t.peakInFlight,
      latency: t.latency,
      statuses: sortedCounts(recorder.statusCounts),
      errors: sortedCounts(recorder.errorCounts)
    },
    codes: recorder.codes,
    curve,
    waterfall: waterfallRows(recorder, t.start)
  }
}

/** Writes the report of a run to `file`. */
function writeReport (file, recorder, t) {
  const script = fs.readFileSync(path.join(__dirname, 'page-script.js'), 'utf8')
  fs.writeFileSync(file, pageHtml(reportData(recorder, t), uplotAssets(), script))
}

module.exports = { writeReport, reportData }
