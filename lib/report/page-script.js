/* global document, window, uPlot */
'use strict'

// Runs in the report page: draws the summary, f(t) with throughput (uPlot)
// and the waterfall (a canvas) from the data the page carries.

const COLORS = { queued: '#c8c8c8', connect: '#f0a030', wait: '#4a90d9', body: '#3aa757', error: '#d93025' }

function drawSummary (data) {
  const s = data.summary
  const rows = [
    ['requests', s.done], ['responses', s.done - s.failed], ['failed', s.failed],
    ['makespan', `${(s.makespan / 1000).toFixed(3)} s`], ['throughput', `${s.rate.toFixed(0)} req/s`],
    ['in flight', `mean ${s.meanInFlight.toFixed(1)}, peak ${s.peakInFlight}`],
    ['latency', `p50 ${s.latency.p50.toFixed(1)} ms, p95 ${s.latency.p95.toFixed(1)} ms, p99 ${s.latency.p99.toFixed(1)} ms`],
    ['by status', s.statuses.map(([k, n]) => `${k}: ${n}`).join(', ') || '—'],
    ['by error code', s.errors.map(([k, n]) => `${k}: ${n}`).join(', ') || '—']
  ]
  const table = document.getElementById('summary')
  for (const [name, value] of rows) {
    const tr = table.insertRow()
    tr.insertCell().textContent = name
    tr.insertCell().textContent = String(value)
  }
}

function drawCurve (data) {
  const el = document.getElementById('concurrency')
  const c = data.curve
  const xs = c.t.map((t) => t / 1000)
  const opts = {
    width: Math.max(400, el.clientWidth),
    height: 320,
    scales: { x: { time: false }, rate: { auto: true } },
    axes: [{ label: 'seconds' }, { label: 'in flight' }, { scale: 'rate', side: 1, label: 'req/s', grid: { show: false } }],
    series: [
      {},
      { label: 'in flight (mean)', stroke: '#4a90d9', fill: 'rgba(74,144,217,0.25)', width: 1.5 },
      { label: 'in flight (max)', stroke: '#1a4f8a', width: 1, dash: [4, 3] },
      { label: 'throughput', scale: 'rate', stroke: '#3aa757', width: 1.5 }
    ]
  }
  const limitColors = ['#d93025', '#9334e6', '#e8710a', '#188038']
  c.limits.forEach((l, i) => {
    opts.series.push({ label: `auto limit ${l.origin}`, stroke: limitColors[i], width: 2, spanGaps: true })
  })
  return new uPlot(opts, [xs, c.mean, c.max, c.rate, ...c.limits.map((l) => l.values)], el)
}

function bar (ctx, x0, x1, y, h, color, scale) {
  if (x0 < 0 || x1 < x0) return
  ctx.fillStyle = color
  ctx.fillRect(x0 * scale, y, Math.max(1, (x1 - x0) * scale), h)
}

function drawWaterfall (data) {
  const canvas = document.getElementById('waterfall')
  const rows = data.waterfall.rows
  const rowH = Math.max(1, Math.min(8, Math.floor(1200 / Math.max(1, rows.length))))
  const width = Math.max(400, canvas.parentElement.clientWidth)
  canvas.width = width
  canvas.height = Math.max(20, rows.length * rowH)
  const ctx = canvas.getContext('2d')
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, canvas.width, canvas.height)
  const scale = width / Math.max(1e-9, data.summary.makespan)
  rows.forEach(([queued, start, connected, firstByte, end, , errorId], i) => {
    const y = i * rowH
    const h = Math.max(1, rowH - (rowH > 2 ? 1 : 0))
    bar(ctx, queued, start < 0 ? end : start, y, h, COLORS.queued, scale)
    if (errorId !== 0) return bar(ctx, start < 0 ? queued : start, end, y, h, COLORS.error, scale)
    bar(ctx, start, connected < 0 ? start : connected, y, h, COLORS.connect, scale)
    bar(ctx, connected < 0 ? start : connected, firstByte, y, h, COLORS.wait, scale)
    bar(ctx, firstByte, end, y, h, COLORS.body, scale)
  })
  const note = document.getElementById('waterfall-note')
  note.textContent = data.waterfall.sampled
    ? `${rows.length} of ${data.waterfall.total} requests, sampled evenly, every failed one kept (up to 500)`
    : `all ${rows.length} requests`
}

function main () {
  const data = JSON.parse(document.getElementById('report-data').textContent)
  drawSummary(data)
  drawCurve(data)
  drawWaterfall(data)
  document.body.dataset.ready = 'true'
}

window.addEventListener('load', main)
