'use strict'

// download(): a list into a directory, each file under a safe name of its
// own, with one result per URL. Hostile names never leave the directory.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const fetchpool = require('..')
const { safeName, nameFromDisposition, nameFromUrl } = require('../lib/filename')
const { freePorts } = require('./support/ports')

let server
let base
let top
let requests = 0
let hanging = () => {}
/** The Accept-Encoding each request URL came with. */
const encodings = new Map()

before(async () => {
  server = http.createServer((req, res) => {
    requests++
    encodings.set(req.url, req.headers['accept-encoding'])
    const url = new URL(req.url, 'http://x')
    const disposition = url.searchParams.get('cd')
    if (url.pathname.startsWith('/padded')) {
      // A Content-Disposition of exactly `length` characters naming `name`.
      const head = `attachment; filename="${url.searchParams.get('name')}"; x=`
      const pad = 'y'.repeat(Number(url.searchParams.get('length')) - head.length)
      res.writeHead(200, { 'content-disposition': head + pad })
      return res.end(`body of ${req.url}`)
    }
    if (url.pathname === '/hang') {
      // Never answers; tells the test it has been asked.
      hanging()
      return
    }
    if (url.pathname === '/missing') {
      res.writeHead(404, disposition === null ? {} : { 'content-disposition': disposition })
      return res.end('no')
    }
    const etag = `"${url.pathname}"`
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag })
      return res.end()
    }
    const headers = { etag, 'content-type': 'application/octet-stream' }
    if (disposition !== null) headers['content-disposition'] = disposition
    res.writeHead(200, headers)
    res.end(`body of ${req.url}`)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  top = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-download-'))
})

after(() => {
  // close() alone waits for any connection Node does not count as idle (one
  // opened with no request on it yet), up to its 60 s headers timeout.
  server.closeAllConnections()
  server.close()
  fs.rmSync(top, { recursive: true, force: true })
})

function freshDir (name) {
  // One level down, so that anything escaping would show in `top`.
  const parent = fs.mkdtempSync(path.join(top, `${name}-`))
  return { parent, dir: path.join(parent, 'out') }
}

test('each URL gets a file named from its path, with a result per URL', async () => {
  const { parent, dir } = freshDir('names')
  const [port] = await freePorts(1)
  const results = await fetchpool.download([
    `${base}/a/report.pdf?x=1`,
    `${base}/`,
    `${base}/b/report.pdf`,
    new URL(`${base}/REPORT.PDF`),
    { url: `${base}/named`, file: 'chosen.txt' },
    `${base}/missing`,
    `http://127.0.0.1:${port}/refused.bin`
  ], dir)
  assert.deepEqual(results.map((r) => path.basename(r.file)),
    ['report.pdf', 'index.html', 'report-1.pdf', 'REPORT-2.PDF', 'chosen.txt', 'missing', 'refused.bin'])
  assert.deepEqual(results.slice(0, 5).map((r) => [r.index, r.status, r.saved]),
    [[0, 200, true], [1, 200, true], [2, 200, true], [3, 200, true], [4, 200, true]])
  assert.equal(fs.readFileSync(results[2].file, 'utf8'), 'body of /b/report.pdf')
  assert.equal(results[0].bytes, 'body of /a/report.pdf?x=1'.length)
  assert.deepEqual([results[5].status, results[5].saved, results[5].bytes], [404, false, 0])
  assert.equal(results[6].error.code, 'ECONNREFUSED')
  assert.equal(results[6].url, `http://127.0.0.1:${port}/refused.bin`)
  assert.deepEqual(fs.readdirSync(dir).sort(),
    ['REPORT-2.PDF', 'chosen.txt', 'index.html', 'report-1.pdf', 'report.pdf'])
  assert.deepEqual(fs.readdirSync(parent), ['out'])
})

test('hostile names from URLs and Content-Disposition stay inside the directory', async () => {
  const { parent, dir } = freshDir('hostile')
  const cd = (value) => `${base}/plain?cd=${encodeURIComponent(value)}`
  const results = await fetchpool.download([
    `${base}/..%2F..%2Fescaped.txt`,
    `${base}/%2e%2e`,
    `${base}/CON`,
    `${base}/nul.txt`,
    `${base}/x.fetchpool-partial`,
    `${base}/a%00b%0Ac`,
    `${base}/%E2%80%AEfdp.exe`,
    `${base}/${'n'.repeat(300)}.bin`,
    cd('attachment; filename="../../cd-escaped.sh"'),
    cd('attachment; filename="/etc/passwd"'),
    cd("attachment; filename=\"fallback.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
    cd('attachment; filename=".."'),
    cd('attachment; filename="C:\\\\Windows\\\\evil.dll"')
  ], dir)
  for (const r of results) {
    assert.equal(r.error, undefined, `${r.url}: ${r.error && r.error.code}`)
    assert.equal(path.dirname(r.file), dir, r.file)
    assert.ok(fs.statSync(r.file).isFile(), r.file)
  }
  const names = results.map((r) => path.basename(r.file))
  assert.equal(names[0], 'escaped.txt')
  assert.equal(names[1], 'index.html')
  assert.equal(names[2], '_CON')
  assert.equal(names[3], '_nul.txt')
  assert.equal(names[4], 'x_fetchpool-partial')
  assert.equal(names[5], 'abc')
  assert.equal(names[6], 'fdp.exe')
  assert.ok(Buffer.byteLength(names[7]) <= 180 && names[7].endsWith('.bin'))
  assert.equal(names[8], 'cd-escaped.sh')
  assert.equal(names[9], 'passwd')
  assert.equal(names[10], 'résumé.pdf')
  assert.equal(names[11], 'plain-3', 'a name that is nothing but dots keeps the URL\'s (the fourth /plain)')
  assert.equal(names[12], 'evil.dll')
  assert.deepEqual(fs.readdirSync(parent), ['out'])
  assert.equal(fs.readdirSync(dir).length, results.length)
})

test('a name another file of the call took gets a suffix', async () => {
  const { dir } = freshDir('collide')
  const results = await fetchpool.download([
    `${base}/same.txt`,
    `${base}/other?cd=${encodeURIComponent('attachment; filename="same.txt"')}`
  ], dir)
  assert.deepEqual(results.map((r) => path.basename(r.file)), ['same.txt', 'same-1.txt'])
  assert.equal(fs.readFileSync(path.join(dir, 'same.txt'), 'utf8'), 'body of /same.txt')
})

test("a request's own file name is kept over the response's Content-Disposition", async () => {
  const { dir } = freshDir('named')
  const cd = encodeURIComponent('attachment; filename="server.txt"')
  const results = await fetchpool.download([
    { url: `${base}/given?cd=${cd}`, file: 'mine.txt' },
    `${base}/unnamed?cd=${cd}`
  ], dir)
  assert.deepEqual(results.map((r) => path.basename(r.file)), ['mine.txt', 'server.txt'])
  assert.deepEqual(fs.readdirSync(dir).sort(), ['mine.txt', 'server.txt'])
  assert.equal(fs.readFileSync(path.join(dir, 'mine.txt'), 'utf8'), `body of /given?cd=${cd}`)
})

test('ifChanged: a second run of the same list transfers nothing', async () => {
  const { dir } = freshDir('rerun')
  const list = [`${base}/one.bin`, `${base}/two.bin`]
  const progress = []
  const first = await fetchpool.download(list, dir, { ifChanged: true, concurrency: 2, onProgress: (p) => progress.push(p) })
  assert.deepEqual(first.map((r) => r.status), [200, 200])
  // A saved body counts in onProgress's bytes as one held in memory would.
  assert.equal(progress.at(-1).bytes, 'body of /one.bin'.length + 'body of /two.bin'.length)
  progress.length = 0
  const second = await fetchpool.download(list, dir, { ifChanged: true, onProgress: (p) => progress.push(p) })
  assert.deepEqual(second.map((r) => [r.status, r.notModified, r.saved]), [[304, true, false], [304, true, false]])
  assert.equal(fs.readFileSync(path.join(dir, 'one.bin'), 'utf8'), 'body of /one.bin')
  assert.ok(progress.length > 0)
  assert.equal(progress[progress.length - 1].done, 2)
})

test('bad arguments fail before anything is sent', async () => {
  const before = requests
  await assert.rejects(fetchpool.download([`${base}/x`], 42), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(fetchpool.download('nope', top), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(fetchpool.download([`${base}/x`], top, { resume: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => fetchpool.download([`${base}/x`], '', {}, () => {}), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.equal(requests, before)
  // A malformed item is that item's result; the others are fetched.
  const { dir } = freshDir('malformed')
  const results = await fetchpool.download([{ url: `${base}/ok.txt` }, { url: 'ftp://x/y' }, { url: `${base}/i.txt`, integrity: 'nope' }], dir)
  assert.equal(results[0].saved, true)
  assert.equal(results[1].error.code, 'ERR_INVALID_URL_SCHEME')
  assert.equal(results[2].error.code, 'ERR_INVALID_ARG_VALUE')
})

test('callback style gives the same results', async () => {
  const { dir } = freshDir('callback')
  const results = await new Promise((resolve, reject) => {
    fetchpool.download([`${base}/cb.txt`], dir, (err, r) => (err ? reject(err) : resolve(r)))
  })
  assert.equal(results[0].saved, true)
})

test('safe names: one plain segment, whatever came in', () => {
  for (const [raw, want] of [
    ['a/b/c.txt', 'c.txt'],
    ['..\\..\\x', 'x'],
    ['...', 'download'],
    ['', 'download'],
    [' .hidden ', 'hidden'],
    ['trailing. . ', 'trailing'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['LPT1.log', '_LPT1.log'],
    ['com1', '_com1'],
    ['console.log', 'console.log'],
    ['x.FETCHPOOL-tmp', 'x_fetchpool-tmp'],
    ['e\u0301', '\u00e9'],
    ['a\ud800b', 'a\ufffdb'],
    ['a\u0085b\u009f', 'ab'],
    // Cut to 180 bytes of UTF-8, whole characters, the extension kept when
    // it is 16 characters or fewer (the dot included).
    ['a'.repeat(300), 'a'.repeat(180)],
    // A cut that ends in a space loses it, as a name's own end would.
    [`${'a'.repeat(179)} ${'b'.repeat(100)}`, 'a'.repeat(179)],
    ['\u00e9'.repeat(200), '\u00e9'.repeat(90)],
    [`a${'\u{1f600}'.repeat(100)}`, `a${'\u{1f600}'.repeat(44)}`],
    [`${'a'.repeat(300)}.${'b'.repeat(15)}`, `${'a'.repeat(164)}.${'b'.repeat(15)}`],
    [`${'a'.repeat(300)}.${'b'.repeat(16)}`, `${'a'.repeat(300)}.${'b'.repeat(16)}`.slice(0, 180)]
  ]) {
    assert.equal(safeName(raw), want, JSON.stringify(raw))
  }
  assert.equal(nameFromUrl('not a url'), 'download')
  assert.equal(nameFromUrl('http://h/%E0%A4%A'), '%E0%A4%A')
  assert.equal(nameFromDisposition('inline'), null)
  assert.equal(nameFromDisposition('attachment; filename=a.txt; FILENAME=b.txt'), 'a.txt')
  assert.equal(nameFromDisposition('attachment; filename*=UTF-8\'\'%ZZ; filename=b.txt'), 'b.txt')
  assert.equal(nameFromDisposition("attachment; filename*=iso-8859-1'en'%A3rates.txt"), '\u00a3rates.txt')
  assert.equal(nameFromDisposition('attachment; filename="a \\"q\\".txt"'), 'a _q_.txt')
  assert.equal(nameFromDisposition(`attachment; filename="${'a'.repeat(9000)}"`), null)
})

test('Content-Disposition: same name in another case, turned off, and a rename that fails', async () => {
  const cd = (name) => encodeURIComponent(`attachment; filename="${name}"`)
  const { dir } = freshDir('disposition')
  const same = await fetchpool.download([`${base}/case.txt?cd=${cd('CASE.txt')}`], dir)
  assert.equal(path.basename(same[0].file), 'case.txt')
  const off = await fetchpool.download([`${base}/kept.txt?cd=${cd('other.txt')}`], dir, { contentDisposition: false })
  assert.equal(path.basename(off[0].file), 'kept.txt')
  // The name the response gives is a directory: the result says why, and
  // the body waiting for that name is gone.
  fs.mkdirSync(path.join(dir, 'taken'))
  const [blocked] = await fetchpool.download([`${base}/first.txt?cd=${cd('taken')}`], dir)
  assert.equal(blocked.saved, undefined)
  // rename(2) of a file onto a directory: EISDIR.
  assert.equal(blocked.error && blocked.error.code, 'EISDIR')
  assert.equal(path.basename(blocked.file), 'taken')
  assert.deepEqual(fs.readdirSync(dir).sort(), ['case.txt', 'kept.txt', 'taken'])
  assert.deepEqual(fs.readdirSync(path.join(dir, 'taken')), [])
})

test("a file under the URL's name is left alone when the response names another", async () => {
  const cd = (name) => encodeURIComponent(`attachment; filename="${name}"`)
  const { dir } = freshDir('not-clobbered')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'download'), 'mine')
  fs.writeFileSync(path.join(dir, 'index.html'), 'mine too')
  const results = await fetchpool.download([
    `${base}/?cd=${cd('home.html')}`,
    `${base}/download?cd=${cd('report.pdf')}`,
    `${base}/plain/`
  ], dir)
  assert.deepEqual(results.map((r) => path.basename(r.file)), ['home.html', 'report.pdf', 'index-1.html'])
  assert.equal(fs.readFileSync(path.join(dir, 'download'), 'utf8'), 'mine')
  assert.equal(fs.readFileSync(path.join(dir, 'index.html'), 'utf8'), 'mine too')
  assert.equal(fs.readFileSync(path.join(dir, 'report.pdf'), 'utf8'), `body of /download?cd=${cd('report.pdf')}`)
  assert.deepEqual(fs.readdirSync(dir).sort(), ['download', 'home.html', 'index-1.html', 'index.html', 'report.pdf'])
})

test('an aborted call leaves no file waiting for its name', async () => {
  const cd = encodeURIComponent('attachment; filename="named.txt"')
  const { dir } = freshDir('aborted')
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'first.txt'), 'mine')
  const controller = new AbortController()
  // One at a time: the hanging request is asked for once the first is in.
  hanging = () => controller.abort()
  try {
    await assert.rejects(fetchpool.download([`${base}/first.txt?cd=${cd}`, `${base}/hang`], dir,
      { concurrency: 1, signal: controller.signal }), { code: 'ABORT_ERR' })
  } finally {
    hanging = () => {}
  }
  assert.deepEqual(fs.readdirSync(dir), ['first.txt'])
  assert.equal(fs.readFileSync(path.join(dir, 'first.txt'), 'utf8'), 'mine')
})

test('a renamed file leaves no validators under its old name', async () => {
  const { dir } = freshDir('validators')
  const cd = encodeURIComponent('attachment; filename="renamed.txt"')
  const [result] = await fetchpool.download([`${base}/plain.txt?cd=${cd}`], dir, { ifChanged: true })
  assert.equal(path.basename(result.file), 'renamed.txt')
  assert.deepEqual(fs.readdirSync(dir), ['renamed.txt'])
})

test("a request's own options win over download()'s", async () => {
  const { dir } = freshDir('own-options')
  const results = await fetchpool.download([
    { url: `${base}/missing`, file: 'kept-out.txt', saveAnyStatus: false },
    { url: `${base}/missing`, file: 'saved.txt' }
  ], dir, { saveAnyStatus: true })
  assert.deepEqual(results.map((r) => [r.status, r.saved]), [[404, false], [404, true]])
  assert.deepEqual(fs.readdirSync(dir), ['saved.txt'])
})

test('requests as any iterable, URL objects as URLs; null is refused', async () => {
  const { dir } = freshDir('iterable')
  const results = await fetchpool.download(new Set([`${base}/set.txt`, new URL(`${base}/url.txt`), { url: new URL(`${base}/obj.txt`) }]), dir)
  assert.deepEqual(results.map((r) => r.url), [`${base}/set.txt`, `${base}/url.txt`, `${base}/obj.txt`])
  assert.deepEqual(results.map((r) => path.basename(r.file)), ['set.txt', 'url.txt', 'obj.txt'])
  await assert.rejects(fetchpool.download(null, dir), { code: 'ERR_INVALID_ARG_TYPE' })
})

test('names from URL paths: a device only as the whole name, trailing dots and spaces, the last segment decoded alone', async () => {
  const { dir } = freshDir('path-names')
  const results = await fetchpool.download([
    // Names that end in a device's name are not devices.
    `${base}/bacon.txt`,
    `${base}/falcon`,
    // Trailing dots and spaces go before the device check.
    `${base}/nul%20.`,
    // A cut that ends in a space and a dot loses both.
    `${base}/${'a'.repeat(178)}%20.${'b'.repeat(100)}`,
    // Bad percent-encoding earlier in the path does not stop the last
    // segment from being decoded.
    `${base}/%ZZ/r%C3%A9sum%C3%A9.pdf`
  ], dir)
  for (const r of results) assert.equal(r.error, undefined, `${r.url}: ${r.error && r.error.code}`)
  assert.deepEqual(results.map((r) => path.basename(r.file)),
    ['bacon.txt', 'falcon', '_nul', 'a'.repeat(178), 'r\u00e9sum\u00e9.pdf'])
  assert.deepEqual(fs.readdirSync(dir).sort(), ['_nul', 'a'.repeat(178), 'bacon.txt', 'falcon', 'r\u00e9sum\u00e9.pdf'])
})

/** A URL whose response carries `Content-Disposition: value`. */
const disposed = (name, value) => `${base}/${name}?cd=${encodeURIComponent(value)}`

test('Content-Disposition forms: spacing, a quoted `;`, filename* in an unknown charset or malformed, 8192 characters', async () => {
  const { dir } = freshDir('disposition-forms')
  const results = await fetchpool.download([
    disposed('u1', 'attachment;filename=nospace.txt'),
    disposed('u2', 'attachment; filename = "spaced.txt"'),
    disposed('u3', 'attachment; filename="a;b.txt"'),
    // filename* that is not `charset'lang'value` from its start, or in a
    // charset other than UTF-8 and ISO-8859-1: filename is taken.
    disposed('u4', "attachment; filename*=x UTF-8''wrong.txt; filename=right.txt"),
    disposed('u5', 'attachment; filename*=plain.txt; filename=fallback.txt'),
    disposed('u6', "attachment; filename*=koi8-r''%E1.txt; filename=latin.txt"),
    // A quote only at the end is part of the name.
    disposed('u7', 'attachment; filename=tail.txt"'),
    // 8192 characters is the longest header read; one more is ignored.
    `${base}/padded-1?name=exact.txt&length=8192`,
    `${base}/padded-2?name=ignored.txt&length=8193`
  ], dir)
  for (const r of results) assert.equal(r.error, undefined, `${r.url}: ${r.error && r.error.code}`)
  assert.deepEqual(results.map((r) => path.basename(r.file)),
    ['nospace.txt', 'spaced.txt', 'a;b.txt', 'right.txt', 'fallback.txt', 'latin.txt', 'tail.txt_', 'exact.txt', 'padded-2'])
  assert.equal(fs.readFileSync(path.join(dir, 'exact.txt'), 'utf8'), 'body of /padded-1?name=exact.txt&length=8192')
})

test('Content-Disposition: a quote opened and never closed runs to the end of the header', async () => {
  const { dir } = freshDir('disposition-unclosed')
  const results = await fetchpool.download([
    disposed('q1', 'attachment; filename="report.pdf'),
    // A `;` and a quoted-pair before the end; a later filename* is part of
    // the name, not a parameter.
    disposed('q2', 'attachment; filename="a;b \\x.txt'),
    disposed('q3', "attachment; filename=\"one.txt; filename*=UTF-8''two.txt"),
    // A `\` at the very end escapes nothing.
    disposed('q4', 'attachment; filename="end.txt\\'),
    // A lone quote names nothing: the URL's name.
    disposed('q5', 'attachment; filename="')
  ], dir)
  for (const r of results) assert.equal(r.error, undefined, `${r.url}: ${r.error && r.error.code}`)
  assert.deepEqual(results.map((r) => path.basename(r.file)),
    ['report.pdf', 'a;b x.txt', "one.txt; filename_=UTF-8''two.txt", 'end.txt', 'q5'])
  assert.equal(fs.readFileSync(path.join(dir, 'report.pdf'), 'utf8'), `body of /q1?cd=${encodeURIComponent('attachment; filename="report.pdf')}`)
})

test('options: null is none, resume reaches each request, and a name is only given by a saved response', async () => {
  const { dir } = freshDir('options')
  const [plain] = await fetchpool.download([`${base}/null-options.txt`], dir, null)
  assert.deepEqual([plain.status, plain.saved, plain.error], [200, true, undefined])
  // A resumable body is asked for as it is sent.
  await fetchpool.download([`${base}/resumed.txt`], dir, { resume: true })
  assert.equal(encodings.get('/resumed.txt'), 'identity')
  await fetchpool.download([`${base}/not-resumed.txt`], dir)
  assert.notEqual(encodings.get('/not-resumed.txt'), 'identity')
  // A 404 that is not saved keeps the URL's name, whatever it says.
  const cd = encodeURIComponent('attachment; filename="error-page.html"')
  const [missing] = await fetchpool.download([`${base}/missing?cd=${cd}`], dir)
  assert.deepEqual([missing.status, missing.saved, missing.error], [404, false, undefined])
  assert.equal(path.basename(missing.file), 'missing')
  assert.deepEqual(fs.readdirSync(dir).sort(), ['not-resumed.txt', 'null-options.txt', 'resumed.txt'])
})

test('a null or undefined item is its own result; one request object alone, or options that are not an object, are refused', async () => {
  const { dir } = freshDir('null-item')
  const results = await fetchpool.download([null, undefined, `${base}/after-null.txt`], dir)
  assert.deepEqual(results.map((r) => r.error && r.error.code), ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', undefined])
  assert.deepEqual([results[2].status, results[2].saved], [200, true])
  assert.deepEqual(fs.readdirSync(dir), ['after-null.txt'])
  const before = requests
  await assert.rejects(fetchpool.download({ url: `${base}/alone.txt` }, dir), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(fetchpool.download([`${base}/x`], dir, 42), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.equal(requests, before)
})

test('a hole in a sparse array is an undefined item: its own result, the others download', async () => {
  const { dir } = freshDir('sparse')
  // eslint-disable-next-line no-sparse-arrays
  const results = await fetchpool.download([, `${base}/after-hole.txt`, , `${base}/last.txt`], dir)
  assert.equal(results.length, 4)
  assert.deepEqual(results.map((r) => r.index), [0, 1, 2, 3])
  assert.deepEqual(results.map((r) => r.error && r.error.code), ['ERR_INVALID_ARG_TYPE', undefined, 'ERR_INVALID_ARG_TYPE', undefined])
  assert.deepEqual(results.map((r) => r.url), [undefined, `${base}/after-hole.txt`, undefined, `${base}/last.txt`])
  assert.deepEqual([results[1].status, results[1].saved, results[3].status, results[3].saved], [200, true, 200, true])
  assert.deepEqual(fs.readdirSync(dir).sort(), ['after-hole.txt', 'last.txt'])
})
