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
  const urls = Array.from({ length: 300 }, (_, i) => (i % 100 === 50 ? refused : server.url(`/slow?ms=${i % 7}&id=${i}`)))
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
  assert.equal(data.summary.failed, 3)
  assert.deepEqual(data.summary.errors, [['ECONNREFUSED', 3]])
  assert.deepEqual(data.summary.statuses, [['200', 297]])
  assert.equal(data.waterfall.rows.length, 300)
  assert.equal(data.waterfall.sampled, false)
  assert.equal(data.waterfall.rows.filter((r) => r[6] !== 0).length, 3)
  assert.ok(Math.max(...data.curve.max) <= 16)
})

test('the report opened in headless Chromium has its elements drawn', { skip: noChromium }, async () => {
  const dom = await chromium(['--dump-dom'])
  assert.match(dom, /<body[^>]*data-ready="true"/)
  const chart = dom.slice(dom.indexOf('<div id="concurrency">'), dom.indexOf('<h2>Waterfall'))
  assert.match(chart, /class="uplot[\s\S]*<canvas/, 'uPlot drew no chart')
  assert.match(dom, /<canvas id="waterfall" width="\d+" height="\d+"/)
  assert.match(dom, /by error code<\/td><td>ECONNREFUSED: 3/)
  assert.match(dom, /requests<\/td><td>300</)
})

test('a screenshot of the report shows the curve, throughput and waterfall', { skip: noChromium }, async () => {
  const png = path.join(dir, 'shot.png')
  await chromium([`--screenshot=${png}`])
  const { width, height, bpp, pixels } = decodePng(fs.readFileSync(png))
  const colours = new Set()
  const near = (r, g, b, [R, G, B]) => Math.abs(r - R) + Math.abs(g - G) + Math.abs(b - B) < 12
  const counts = { fill: 0, throughput: 0, waterfall: 0 }
  for (let p = 0; p < width * height * bpp; p += bpp) {
    const [r, g, b] = [pixels[p], pixels[p + 1], pixels[p + 2]]
    colours.add((r << 16) | (g << 8) | b)
    if (near(r, g, b, [210, 227, 246])) counts.fill++ // the curve's fill over white
    if (near(r, g, b, [0x3a, 0xa7, 0x57])) counts.throughput++
    if (near(r, g, b, [0x4a, 0x90, 0xd9])) counts.waterfall++
  }
  assert.ok(colours.size > 50, `only ${colours.size} colours`)
  assert.ok(counts.fill > 5000, `curve fill: ${counts.fill} pixels`)
  assert.ok(counts.throughput > 50, `throughput line: ${counts.throughput} pixels`)
  assert.ok(counts.waterfall > 500, `waterfall bars: ${counts.waterfall} pixels`)
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
})

test('no text in the data can end the data element of the page', () => {
  const html = pageHtml({ evil: '</script><script>alert(1)</script>' }, { css: '', script: '', license: '' }, '')
  assert.equal(html.match(/<\/script>/g).length, 3)
  assert.deepEqual(pageData(html), { evil: '</script><script>alert(1)</script>' })
})
