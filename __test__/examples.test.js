'use strict'

// Each example recipe, run against a fresh copy of the examples' local site
// (its /busy page turns away only the first visit).

const { test, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startSite, fileBytes, PAGES } = require('../examples/site')
const { aggregate } = require('../examples/aggregator')
const { checkLinks } = require('../examples/link-checker')
const { crawl } = require('../examples/crawler')
const { downloadAll } = require('../examples/downloader')

let site
beforeEach(async () => { site = await startSite() })
afterEach(() => site.close())

test('aggregator: the endpoints that answered, and why the others are missing', async () => {
  const { data, missing } = await aggregate(site.base)
  assert.deepEqual(data, {
    users: [{ id: 1, name: 'ada' }, { id: 2, name: 'lin' }],
    orders: [{ id: 10, user: 1, total: 42 }],
    stock: { widgets: 7 }
  })
  assert.deepEqual(missing, { recommendations: 'ERR_TOTAL_TIMEOUT', audit: 'ERR_HTTP_STATUS' })
})

test('link checker: broken links by status and by error code', async () => {
  const { checked, ok, broken } = await checkLinks(site.base, { pages: PAGES })
  assert.deepEqual(broken, {
    404: [3, 7, 11].map((n) => `${site.base}/missing/${n}`).sort(),
    ECONNREFUSED: ['http://127.0.0.1:1/unreachable']
  })
  // Every page is linked, plus /busy (asked again after its 429).
  assert.equal(ok, PAGES + 1)
  assert.equal(checked, ok + 4)
})

test('crawler: every page once, the busy one after its Retry-After', async () => {
  const { pages, failed } = await crawl(`${site.base}/`)
  assert.deepEqual(failed, {})
  const byPath = new Map(pages.map((p) => [new URL(p.url).pathname, p]))
  assert.equal(pages.length, byPath.size, 'no page fetched twice')
  for (let n = 0; n < PAGES; n++) assert.equal(byPath.get(`/page/${n}`)?.status, 200, `page ${n}`)
  assert.deepEqual([byPath.get('/busy').status, byPath.get('/busy').attempts], [200, 2])
  for (const n of [3, 7, 11]) assert.equal(byPath.get(`/missing/${n}`).status, 404)
  assert.ok(!byPath.has('/unreachable'), 'other origins are not crawled')
})

test('downloader: every file on disk, whole; a missing one reported', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-example-dl-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const size = 300 * 1024
  const urls = Array.from({ length: 12 }, (_, i) => `${site.base}/files/file-${i}.bin?size=${size}`)
  const lines = []
  const results = await downloadAll([...urls, `${site.base}/nothing/here.bin`], dir, { onLine: (l) => lines.push(l) })
  for (const [i, r] of results.slice(0, 12).entries()) {
    assert.equal(r.bytes, size)
    assert.ok(fs.readFileSync(r.file).equals(fileBytes(`file-${i}.bin`, size)), `file ${i} whole`)
  }
  assert.deepEqual(results[12], { url: `${site.base}/nothing/here.bin`, error: 'ERR_HTTP_STATUS' })
  assert.equal(lines.at(-1), `13/13 files (1 failed), ${(12 * size / 1048576).toFixed(1)} MiB`)
})
