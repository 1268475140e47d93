'use strict'

/**
 * Latency figures of `values` (ms): min, mean, p50, p90, p95, p99 and max,
 * by the nearest-rank method, so every percentile is a value that occurred.
 * All are 0 for no values. Sorts `values` in place.
 */
function percentiles (values) {
  const n = values.length
  if (n === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 }
  values.sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]
  const rank = (p) => values[Math.max(0, Math.ceil((p / 100) * n) - 1)]
  return {
    min: values[0],
    mean: sum / n,
    p50: rank(50),
    p90: rank(90),
    p95: rank(95),
    p99: rank(99),
    max: values[n - 1]
  }
}

module.exports = { percentiles }
