'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFile, spawnSync } = require('node:child_process')
const { promisify } = require('node:util')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startServer, refusedPort } = require('./support/server')
const { decodePng } = require('./support/png')
const { Recorder } = require('../lib/cli/record')
const { fromColumns } = require('../lib/timeline')
const { reportData } = require('../lib/report')
const { pageHtml } = require('../lib/report/page')
const { foldCurve } = require('../lib/report/aggregate')

const BIN = path.join(__dirname, '..', 'bin', 'fetchpool.js')
const CHROMIUM = process.env.CHROMIUM || 'chromium'
const hasChromium = spawnSync(CHROMIUM, ['--version']).status === 0
const noChromium = !hasChromium && `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`

let server
let dir
let reportFile
before(async () => {
  server = await startServer()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-report-'))
  const refused = `http://127.0.0.1:${await refusedPort()}/`
  // Three failures at once (refused) and three that take time (a reset
  // after 40 ms), which the waterfall draws as red bars.
  const urls = Array.from({ length: 300 }, (_, i) => (i % 100 === 50
    ? refused
    : server.url(i % 100 === 5 ? `/reset?ms=40&id=${i}` : `/slow?ms=${i % 7}&id=${i}`)))
  fs.writeFileSync(path.join(dir, 'urls.txt'), urls.join('\n'))
  reportFile = path.join(dir, 'report.html')
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, path.join(dir, 'urls.txt'), '-c', '16', '-o', path.join(dir, 'out.ndjson'),
      '--report', reportFile], { stdio: 'ignore' })
    child.on('close', resolve)
  })
  assert.equal(code, 1)
})
after(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

function pageData (html) {
  const m = /<script id="report-data" type="application\/json">([^<]*)<\/script>/.exec(html)
  return JSON.parse(m[1])
}

function chromiumArgs (profile) {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--window-size=1200,1000',
    '--virtual-time-budget=5000']
}

async function chromium (extra) {
  const profile = fs.mkdtempSync(path.join(dir, 'profile-'))
  const { stdout } = await promisify(execFile)(CHROMIUM, [...chromiumArgs(profile), ...extra, `file://${reportFile}`],
    { timeout: 90_000, maxBuffer: 64 << 20 })
  return stdout
}

test('the report is one page that loads nothing from the network', () => {
  const html = fs.readFileSync(reportFile, 'utf8')
  assert.doesNotMatch(html, /<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=/i)
  assert.doesNotMatch(html, /@import|url\(\s*['"]?https?:/i)
  assert.match(html, /uPlot/)
  const data = pageData(html)
  assert.equal(data.summary.done, 300)
  assert.equal(data.summary.failed, 6)
  assert.deepEqual(data.summary.errors, [['ECONNREFUSED', 3], ['ECONNRESET', 3]])
  assert.deepEqual(data.summary.statuses, [['200', 294]])
  assert.equal(data.waterfall.rows.length, 300)
  assert.equal(data.waterfall.sampled, false)
  assert.equal(data.waterfall.rows.filter((r) => r[6] !== 0).length, 6)
  assert.ok(Math.max(...data.curve.max) <= 16)
})

test('the report opened in headless Chromium has its elements drawn', { skip: noChromium }, async () => {
  const dom = await chromium(['--dump-dom'])
  assert.match(dom, /<body[^>]*data-ready="true"/)
  const chart = dom.slice(dom.indexOf('<div id="concurrency">'), dom.indexOf('<h2>Waterfall'))
  assert.match(chart, /class="uplot[\s\S]*<canvas/, 'uPlot drew no chart')
  assert.match(dom, /<canvas id="waterfall" width="\d+" height="\d+"/)
  assert.match(dom, /by error code<\/td><td>ECONNREFUSED: 3, ECONNRESET: 3/)
  assert.match(dom, /requests<\/td><td>300</)
  assert.match(dom, /responses<\/td><td>294</)
  assert.match(dom, /failed<\/td><td>6</)
})

test('a screenshot of the report shows the curve, throughput and waterfall', { skip: noChromium }, async () => {
  const png = path.join(dir, 'shot.png')
  await chromium([`--screenshot=${png}`])
  const { width, height, bpp, pixels } = decodePng(fs.readFileSync(png))
  const colours = new Set()
  const near = (r, g, b, [R, G, B]) => Math.abs(r - R) + Math.abs(g - G) + Math.abs(b - B) < 12
  const counts = { fill: 0, throughput: 0, waterfall: 0, queued: 0, failed: 0 }
  for (let p = 0; p < width * height * bpp; p += bpp) {
    const [r, g, b] = [pixels[p], pixels[p + 1], pixels[p + 2]]
    colours.add((r << 16) | (g << 8) | b)
    if (near(r, g, b, [210, 227, 246])) counts.fill++ // the curve's fill over white
    if (near(r, g, b, [0x3a, 0xa7, 0x57])) counts.throughput++
    if (near(r, g, b, [0x4a, 0x90, 0xd9])) counts.waterfall++
    if (near(r, g, b, [0xc8, 0xc8, 0xc8])) counts.queued++
    if (near(r, g, b, [0xd9, 0x30, 0x25])) counts.failed++
  }
  assert.ok(colours.size > 50, `only ${colours.size} colours`)
  assert.ok(counts.fill > 5000, `curve fill: ${counts.fill} pixels`)
  assert.ok(counts.throughput > 50, `throughput line: ${counts.throughput} pixels`)
  // The blue of waiting for the first byte is also the curve's stroke, and
  // the grey of queued bars the axes': with no bar drawn some 700 pixels of
  // each remain, against some 8,000 to 10,000 with the bars. Queueing and
  // waiting are most of every request's time however busy the machine, so
  // their share of the waterfall does not shrink.
  assert.ok(counts.waterfall > 3000, `waterfall's waiting bars: ${counts.waterfall} pixels`)
  assert.ok(counts.queued > 3000, `waterfall's queued bars: ${counts.queued} pixels`)
  // The red of a failure that took time: a bar some hundreds of pixels
  // long; the legend's swatch alone is 144.
  assert.ok(counts.failed > 500, `waterfall's failed bars: ${counts.failed} pixels`)
})

test('a report of a million requests stays a light page', () => {
  const recorder = new Recorder()
  for (let i = 0; i < 1_000_000; i++) {
    const timing = { queued: 0, start: i, firstByte: i + 400, end: i + 500 }
    const record = { index: i, status: 200, bytes: 10, timing }
    if (i % 1000 === 0) Object.assign(record, { status: undefined, error: 'ECONNRESET' })
    recorder.add(record)
  }
  const t = fromColumns(recorder.timelineColumns())
  assert.equal(t.peakInFlight, 500)
  const data = reportData(recorder, t)
  assert.ok(data.waterfall.rows.length <= 2500)
  assert.ok(data.waterfall.rows.filter((r) => r[6] !== 0).length >= 500)
  assert.ok(data.curve.t.length <= 600)
  const html = pageHtml(data, { css: '', script: '', license: '' }, '')
  assert.ok(html.length < 1 << 20, `${html.length} bytes`)
})

test("the report draws each origin's adaptive limit on the curve's buckets", () => {
  const recorder = new Recorder()
  for (let i = 0; i < 100; i++) recorder.add({ index: i, status: 200, timing: { queued: 0, start: i * 10, end: i * 10 + 10 } })
  recorder.addLimits(0, { 'http://a:80': 20 })
  recorder.addLimits(500, { 'http://a:80': 30, 'http://b:80': 5 })
  const t = fromColumns(recorder.timelineColumns())
  const { curve } = reportData(recorder, t)
  assert.deepEqual(curve.limits.map((l) => l.origin), ['http://a:80', 'http://b:80'])
  const [a, b] = curve.limits.map((l) => l.values)
  assert.equal(a.length, curve.t.length)
  assert.equal(a[0], 20)
  assert.equal(a.at(-1), 30)
  assert.equal(b[0], null)
  assert.equal(b.at(-1), 5)
  // 100 requests over one second, on 600 buckets of 5/3 ms: 100 a second.
  const mean = curve.rate.reduce((sum, r) => sum + r, 0) / curve.rate.length
  assert.ok(Math.abs(mean - 100) < 5, `mean rate ${mean}`)
})

test('the report draws the four origins with the most limit samples, the most first', () => {
  const recorder = new Recorder()
  recorder.add({ index: 0, status: 200, timing: { queued: 0, start: 0, end: 100 } })
  for (let n = 1; n <= 5; n++) {
    for (let i = 0; i < n; i++) recorder.addLimits(i, { [`http://o${n}:80`]: n })
  }
  const { curve } = reportData(recorder, fromColumns(recorder.timelineColumns()))
  assert.deepEqual(curve.limits.map((l) => l.origin), ['http://o5:80', 'http://o4:80', 'http://o3:80', 'http://o2:80'])
})

test('no text in the data can end the data element of the page', () => {
  const evil = '</script><script>alert(1)</script>\u2028\u2029'
  const html = pageHtml({ evil }, { css: '', script: 'const s = "</script>"', license: 'a */ b' }, 'const t = "</SCRIPT>"')
  assert.equal(html.match(/<\/script>/gi).length, 3)
  assert.deepEqual(pageData(html), { evil })
  assert.ok(!/[\u2028\u2029]/.test(html))
  // The inlined scripts keep their text, and the licence its comment.
  assert.ok(html.includes('const s = "<\\/script>"') && html.includes('const t = "<\\/SCRIPT>"'))
  assert.ok(html.includes('a * / b'))
})

test('the legend names each part of a waterfall bar in the colour it is drawn in', () => {
  const html = pageHtml({}, { css: '', script: '', license: '' }, '')
  const legend = [['queued', '#c8c8c8'], ['connect', '#f0a030'], ['waiting for first byte', '#4a90d9'], ['body', '#3aa757'],
    ['failed', '#d93025']].map(([name, color]) => `<span><i style="background:${color}"></i>${name}</span>`).join('')
  assert.ok(html.includes(`<p class="legend">${legend}</p>`))
  // The same colours as the drawing script's.
  const script = fs.readFileSync(path.join(__dirname, '..', 'lib', 'report', 'page-script.js'), 'utf8')
  for (const color of ['#c8c8c8', '#f0a030', '#4a90d9', '#3aa757', '#d93025']) assert.ok(script.includes(`'${color}'`), color)
})

test('the report data of a small run: its rows in start order, its counts by size, its rate', () => {
  const recorder = new Recorder()
  // Added out of order; times from 1000, the first queued moment.
  recorder.add({ index: 2, status: 404, bytes: 9, timing: { queued: 1000, start: 1002, connected: 1003.0004, firstByte: 1004, end: 1010 } })
  recorder.add({ index: 4, error: 'ECONNREFUSED', timing: { queued: 1050 } })
  recorder.add({ index: 0, status: 200, bytes: 11, timing: { queued: 1000, start: 1090, connected: 1091, firstByte: 1095, end: 1100 } })
  recorder.add({ index: 1, status: 200, timing: { queued: 1000, start: 1005, connected: 1006, firstByte: 1008, end: 1010 } })
  recorder.add({ index: 3, error: 'ETIMEDOUT', timing: { queued: 1000, start: 1200, end: 1240 } })
  recorder.add({ index: 5, error: 'ETIMEDOUT', timing: { queued: 1000, start: 1100, end: 1110 } })
  // The summary's bytes: a record without any counts none.
  assert.equal(recorder.bytes, 20)
  const data = reportData(recorder, fromColumns(recorder.timelineColumns()))
  // [queued, start, connected, firstByte, end, status, errorId, index]; -1 for
  // a moment that never came, and a request that never started by its queued.
  assert.deepEqual(data.waterfall, {
    rows: [
      [0, 2, 3, 4, 10, 404, 0, 2],
      [0, 5, 6, 8, 10, 200, 0, 1],
      [50, -1, -1, -1, -1, 0, 1, 4],
      [0, 90, 91, 95, 100, 200, 0, 0],
      [0, 100, -1, -1, 110, 0, 2, 5],
      [0, 200, -1, -1, 240, 0, 2, 3]
    ],
    sampled: false,
    total: 6
  })
  assert.deepEqual(data.codes, ['ECONNREFUSED', 'ETIMEDOUT'])
  assert.deepEqual(data.summary.statuses, [['200', 2], ['404', 1]])
  assert.deepEqual(data.summary.errors, [['ETIMEDOUT', 2], ['ECONNREFUSED', 1]])
  // 240 buckets of 1 ms; the rate is averaged over 5 of them (2 each side),
  // fewer at the ends, and the request that never ended counts nowhere.
  const { rate } = data.curve
  assert.equal(rate.length, 240)
  assert.deepEqual([0, 7, 8, 10, 12, 13, 100, 236, 237, 238, 239].map((b) => rate[b]), [0, 0, 400, 400, 400, 0, 200, 0, 200, 250, 333])
  assert.equal(rate.reduce((sum, r) => sum + r, 0), 5 * 400 + 10 * 200 + 200 + 250 + 333)
})

test('the waterfall of a large run: every other request, and failed ones up to 500', () => {
  const recorder = new Recorder()
  for (let k = 0; k < 3000; k++) {
    const record = { index: k, status: 200, timing: { queued: 0, start: k, end: k + 1 } }
    if (k % 2 === 1) Object.assign(record, { status: undefined, error: 'ECONNRESET' })
    recorder.add(record)
  }
  const { waterfall } = reportData(recorder, fromColumns(recorder.timelineColumns()))
  assert.equal(waterfall.sampled, true)
  assert.equal(waterfall.total, 3000)
  // The 1500 even ones by the stride of 2, and the first 500 failed ones.
  assert.equal(waterfall.rows.length, 2000)
  assert.deepEqual(waterfall.rows.filter((r) => r[6] !== 0).map((r) => r[7]), Array.from({ length: 500 }, (_, i) => 2 * i + 1))
})

test('f(t) folded into buckets: the mean weighted by time, the maximum', () => {
  const curve = [{ t: 0, inFlight: 0 }, { t: 1, inFlight: 2 }, { t: 2, inFlight: 1 }, { t: 3.5, inFlight: 0 }]
  assert.deepEqual(foldCurve(curve, 4), { width: 1, t: [0, 1, 2, 3], mean: [0, 2, 1, 0.5], max: [0, 2, 1, 1] })
  const across = [{ t: 0, inFlight: 0 }, { t: 1, inFlight: 2 }, { t: 2.5, inFlight: 1 }, { t: 4, inFlight: 0 }]
  assert.deepEqual(foldCurve(across, 4), { width: 1, t: [0, 1, 2, 3], mean: [0, 2, 1.5, 1], max: [0, 2, 2, 1] })
  // Means to two decimals; a run of no length is one bucket of 1 ms.
  assert.deepEqual(foldCurve([{ t: 0, inFlight: 1 }, { t: 0.125, inFlight: 0 }], 3).mean, [0.13, 0, 0])
  assert.deepEqual(foldCurve([{ t: 0, inFlight: 0 }], 0), { width: 1, t: [0], mean: [0], max: [0] })
  // Past 600 ms the buckets widen so there are no more than 600.
  const long = foldCurve([{ t: 0, inFlight: 0 }, { t: 400, inFlight: 3 }, { t: 800, inFlight: 1 }, { t: 1200, inFlight: 0 }], 1200)
  assert.equal(long.width, 2)
  assert.equal(long.t.length, 600)
  const levels = [...Array(200).fill(0), ...Array(200).fill(3), ...Array(200).fill(1)]
  assert.deepEqual(long.mean, levels)
  assert.deepEqual(long.max, levels)
})
