'use strict'

// The closing summary on standard error: counts by status and by error
// code, throughput, latency percentiles and the makespan.

function ms (value) {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`
}

function plural (n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function counts (map) {
  return [...map.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
    .map(([key, n]) => `${key}: ${n}`).join('  ')
}

/** The summary of a run; `recorder` from lib/cli/record.js, `t` its timeline. */
function summaryText (recorder, t) {
  const responses = recorder.length - recorder.failed
  const lines = [
    `fetchpool: ${plural(recorder.length, 'request')}, ${plural(responses, 'response')}, ${recorder.failed} failed, ` +
      `${t.rate.toFixed(0)} req/s, makespan ${ms(t.makespan)}`
  ]
  if (recorder.statusCounts.size > 0) lines.push(`  by status      ${counts(recorder.statusCounts)}`)
  if (recorder.errorCounts.size > 0) lines.push(`  by error code  ${counts(recorder.errorCounts)}`)
  const l = t.latency
  lines.push(`  latency        p50 ${ms(l.p50)}  p95 ${ms(l.p95)}  p99 ${ms(l.p99)}  max ${ms(l.max)}`)
  lines.push(`  in flight      mean ${t.meanInFlight.toFixed(1)}  peak ${t.peakInFlight}  bytes ${recorder.bytes}`)
  for (const [origin, points] of recorder.limits) {
    let low = Infinity
    let high = 0
    for (const [, limit] of points) {
      low = Math.min(low, limit)
      high = Math.max(high, limit)
    }
    lines.push(`  auto limit     ${origin}: ${points.at(-1)[1]} at the end, ${low}–${high} during the run`)
  }
  return lines.join('\n') + '\n'
}

module.exports = { summaryText }
