'use strict'

// saveTo replaces its target only with a whole, checked 2xx body: every way a
// download can fail leaves the target as it was and no temporary file behind.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const crypto = require('node:crypto')
const { spawn } = require('node:child_process')
const fetchpool = require('..')

const BODY = crypto.randomBytes(100000)
const OLD = 'previous good content'
let server
let base
let dir

function sri (alg, data) {
  return `${alg}-${crypto.createHash(alg).update(data).digest('base64')}`
}

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/whole') {
      res.writeHead(200, { 'content-length': BODY.length })
      return res.end(BODY)
    }
    if (url.pathname === '/cut') {
      // 5,000 of 100,000 bytes, then the connection is reset.
      res.writeHead(200, { 'content-length': BODY.length })
      return res.write(BODY.subarray(0, 5000), () => res.socket.resetAndDestroy())
    }
    if (url.pathname === '/stall') {
      res.writeHead(200, { 'content-length': BODY.length })
      return res.write(BODY.subarray(0, 5000))
    }
    if (url.pathname === '/stall-chunked') {
      // Chunked, so that the first bytes reach the file at once.
      res.writeHead(200)
      return res.write(BODY.subarray(0, 5000))
    }
    if (url.pathname === '/bad-gzip') {
      const gz = zlib.gzipSync(BODY)
      gz[gz.length - 20] ^= 0xff
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length })
      return res.end(gz)
    }
    if (url.pathname === '/empty') {
      res.writeHead(200, { 'content-length': 0 })
      return res.end()
    }
    if (url.pathname === '/gzip') {
      res.writeHead(200, { 'content-encoding': 'gzip' })
      return res.end(zlib.gzipSync(BODY))
    }
    const status = Number(url.pathname.slice(1)) || 404
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end(`error page ${status}`)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-save-'))
})

after(() => {
  server.closeAllConnections()
  server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A target holding OLD, in a directory of its own. */
function oldTarget (name) {
  const sub = fs.mkdtempSync(path.join(dir, `${name}-`))
  const file = path.join(sub, 'target.bin')
  fs.writeFileSync(file, OLD)
  return file
}

function assertUntouched (file) {
  assert.equal(fs.readFileSync(file, 'utf8'), OLD)
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['target.bin'], 'no temporary file is left')
}

test('a body cut short leaves the earlier file as it was', async () => {
  const file = oldTarget('cut')
  await assert.rejects(fetchpool.fetch({ url: `${base}/cut`, saveTo: file }), (err) => {
    assert.ok(['ERR_HTTP_PROTOCOL', 'ECONNRESET'].includes(err.code), err.code)
    return true
  })
  assertUntouched(file)
})

test('a body cut short leaves no file where there was none', async () => {
  const sub = fs.mkdtempSync(path.join(dir, 'none-'))
  await assert.rejects(fetchpool.fetch({ url: `${base}/cut`, saveTo: path.join(sub, 'x') }))
  assert.deepEqual(fs.readdirSync(sub), [])
})

test('an error status resolves but writes nothing', async () => {
  for (const status of [404, 500, 304, 301]) {
    const file = oldTarget(`status${status}`)
    const res = await fetchpool.fetch({ url: `${base}/${status}`, saveTo: file }, { redirect: 'manual' })
    assert.equal(res.status, status)
    assert.equal(res.saved, false)
    assert.equal(res.savedBytes, 0)
    assertUntouched(file)
  }
})

test('saveAnyStatus saves an error page', async () => {
  const file = oldTarget('any')
  const res = await fetchpool.fetch({ url: `${base}/404`, saveTo: file, saveAnyStatus: true })
  assert.equal(res.status, 404)
  assert.equal(res.saved, true)
  assert.equal(res.savedBytes, 'error page 404'.length)
  assert.equal(fs.readFileSync(file, 'utf8'), 'error page 404')
})

test('an empty body replaces the file too: saved, with 0 bytes', async () => {
  const file = oldTarget('empty')
  const res = await fetchpool.fetch({ url: `${base}/empty`, saveTo: file })
  assert.equal(res.status, 200)
  assert.equal(res.saved, true)
  assert.equal(res.savedBytes, 0)
  assert.equal(fs.readFileSync(file, 'utf8'), '')
})

test('a whole body replaces the file, and says so', async () => {
  const file = oldTarget('whole')
  const res = await fetchpool.fetch({ url: `${base}/whole`, saveTo: file })
  assert.equal(res.saved, true)
  assert.equal(res.notModified, false)
  assert.equal(res.savedBytes, BODY.length)
  assert.ok(fs.readFileSync(file).equals(BODY))
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['target.bin'])
  // A new file gets the mode any new file gets, not a temporary file's 0600.
  const created = path.join(path.dirname(file), 'new.bin')
  await fetchpool.fetch({ url: `${base}/whole`, saveTo: created })
  if (process.platform !== 'win32') assert.equal(fs.statSync(created).mode & 0o777, 0o666 & ~process.umask())
  fs.rmSync(created)
  const plain = await fetchpool.fetch(`${base}/whole`)
  assert.equal(plain.saved, undefined)
  assert.equal(plain.savedBytes, undefined)
  assert.equal(plain.notModified, undefined)
})

test('timeouts, size limits, decoding errors and aborts leave the file as it was', async () => {
  const cases = [
    [{ url: `${base}/stall` }, { timeout: { body: 300 } }, 'ERR_BODY_TIMEOUT'],
    [{ url: `${base}/stall` }, { timeout: 300 }, 'ERR_TOTAL_TIMEOUT'],
    [{ url: `${base}/whole`, maxBodySize: 1000 }, {}, 'ERR_BODY_TOO_LARGE'],
    [{ url: `${base}/gzip`, maxBodySize: 1000 }, {}, 'ERR_BODY_TOO_LARGE'],
    [{ url: `${base}/bad-gzip` }, {}, 'ERR_DECOMPRESS'],
    [{ url: `${base}/stall`, signal: AbortSignal.timeout(300) }, {}, 'ABORT_ERR']
  ]
  for (const [request, options, code] of cases) {
    const file = oldTarget(code)
    await assert.rejects(fetchpool.fetch({ ...request, saveTo: file }, options), { code })
    assertUntouched(file)
  }
})

test('integrity: a matching digest saves, a wrong one fails with EINTEGRITY and writes nothing', async () => {
  for (const alg of ['sha256', 'sha384', 'sha512']) {
    const file = oldTarget(`ok-${alg}`)
    const res = await fetchpool.fetch({ url: `${base}/whole`, saveTo: file, integrity: sri(alg, BODY) })
    assert.equal(res.savedBytes, BODY.length)
    assert.ok(fs.readFileSync(file).equals(BODY))
  }
  const wrong = sri('sha256', Buffer.from('something else'))
  for (const url of [`${base}/whole`, `${base}/gzip`]) {
    const file = oldTarget('wrong')
    await assert.rejects(fetchpool.fetch({ url, saveTo: file, integrity: wrong }), { code: 'EINTEGRITY' })
    assertUntouched(file)
  }
  // The digest is of the decoded body, the bytes on disk.
  const file = oldTarget('decoded')
  await fetchpool.fetch({ url: `${base}/gzip`, saveTo: file, integrity: sri('sha512', BODY) })
  assert.ok(fs.readFileSync(file).equals(BODY))
})

test('save options set to false are off; a lower-case GET may resume', async () => {
  const file = oldTarget('off')
  const res = await fetchpool.fetch({ url: `${base}/404`, saveTo: file, saveAnyStatus: false })
  assert.equal(res.status, 404)
  assert.equal(res.saved, false)
  assertUntouched(file)
  const fresh = path.join(path.dirname(file), 'fresh.bin')
  const got = await fetchpool.fetch({ url: `${base}/whole`, saveTo: fresh, method: 'get', resume: true })
  assert.equal(got.saved, true)
  assert.ok(fs.readFileSync(fresh).equals(BODY))
})

test('save options: what their checks let through', async () => {
  // Two digests, an option on one and white space around them, as SRI has it.
  const file = oldTarget('let-through')
  const integrity = ` ${sri('sha256', BODY)}?opt ${sri('sha512', BODY)} `
  const res = await fetchpool.fetch({ url: `${base}/whole`, saveTo: file, integrity })
  assert.equal(res.saved, true)
  assert.ok(fs.readFileSync(file).equals(BODY))
  // Set to false, a save option needs no saveTo.
  for (const key of ['saveAnyStatus', 'resume', 'ifChanged']) {
    const plain = await fetchpool.fetch({ url: `${base}/whole`, [key]: false })
    assert.equal(plain.saved, undefined, key)
  }
  // Only resume and ifChanged need a GET.
  const posted = await fetchpool.fetch({ url: `${base}/whole`, method: 'POST', saveTo: file, saveAnyStatus: true })
  assert.equal(posted.saved, true)
  // Only resume sets the range headers; headers with other names go with it.
  const ranged = await fetchpool.fetch({ url: `${base}/whole`, saveTo: file, resume: true, headers: { 'x-range': '1', ranges: '2' } })
  assert.equal(ranged.status, 200)
  const tagged = await fetchpool.fetch({ url: `${base}/whole`, saveTo: file, ifChanged: true, headers: { 'if-none-match': '"other"' } })
  assert.equal(tagged.status, 200)
  assert.ok(fs.readFileSync(file).equals(BODY))
})

test('save options are checked before anything is sent', async () => {
  const file = path.join(dir, 'never')
  const bad = [
    [{ saveTo: file, integrity: 'md5-abc' }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, integrity: 'sha256-AAAA' }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, integrity: 42 }, 'ERR_INVALID_ARG_TYPE'],
    [{ saveTo: file, resume: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
    [{ integrity: sri('sha256', BODY) }, 'ERR_INVALID_ARG_VALUE'],
    [{ resume: true }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, resume: true, method: 'POST' }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, resume: true, headers: { range: 'bytes=0-' } }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, resume: true, headers: { 'If-None-Match': '"x"' } }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, ifChanged: true, method: 'POST' }, 'ERR_INVALID_ARG_VALUE'],
    // A body without a method is a POST.
    [{ saveTo: file, resume: true, json: { a: 1 } }, 'ERR_INVALID_ARG_VALUE'],
    // A HEAD response has no body to save.
    [{ saveTo: file, method: 'HEAD' }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, method: 'head', saveAnyStatus: true }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveAnyStatus: true }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, integrity: `md5-abc ${sri('sha256', BODY)}` }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, integrity: `x${sri('sha256', BODY)}` }, 'ERR_INVALID_ARG_VALUE'],
    [{ saveTo: file, integrity: `${sri('sha256', BODY)}!` }, 'ERR_INVALID_ARG_VALUE']
  ]
  for (const [extra, code] of bad) {
    await assert.rejects(fetchpool.fetch({ url: `${base}/whole`, ...extra }), { code }, JSON.stringify(extra))
  }
  assert.equal(fs.existsSync(file), false)
  // An existing file is left as it was, whichever way the request comes.
  fs.writeFileSync(file, 'kept')
  await assert.rejects(fetchpool.fetch(`${base}/whole`, { method: 'HEAD', saveTo: file }), { code: 'ERR_INVALID_ARG_VALUE' })
  const [item] = await fetchpool.download([{ url: `${base}/whole`, method: 'HEAD', file: 'never' }], dir)
  assert.equal(item.error && item.error.code, 'ERR_INVALID_ARG_VALUE')
  assert.equal(fs.readFileSync(file, 'utf8'), 'kept')
  fs.rmSync(file)
})

test('a name as long as the file system takes is saved; a file system error keeps its own code', async () => {
  // 240 bytes: the temporary name beside it is cut to fit in 255.
  const long = path.join(dir, `${'\u00e9'.repeat(118)}.bin`)
  const saved = await fetchpool.fetch({ url: `${base}/whole`, saveTo: long })
  assert.equal(saved.saved, true)
  assert.ok(fs.readFileSync(long).equals(BODY))
  fs.rmSync(long)
  // Too long for the name itself: the rename says so, and nothing is left.
  const tooLong = path.join(dir, 'x'.repeat(256))
  await assert.rejects(fetchpool.fetch({ url: `${base}/whole`, saveTo: tooLong }), { code: 'ENAMETOOLONG' })
  // A path through a file, as fs says it.
  const file = path.join(dir, 'plain-file')
  fs.writeFileSync(file, OLD)
  await assert.rejects(fetchpool.fetch({ url: `${base}/whole`, saveTo: path.join(file, 'below') }), { code: 'ENOTDIR' })
  assert.equal(fs.readFileSync(file, 'utf8'), OLD)
  fs.rmSync(file)
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.fetchpool-tmp')), [])
})

test('a process killed mid-download leaves the target as it was', async () => {
  const file = oldTarget('killed')
  const script = `require(${JSON.stringify(path.join(__dirname, '..'))})
    .fetch({ url: ${JSON.stringify(`${base}/stall-chunked`)}, saveTo: ${JSON.stringify(file)} })`
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' })
  const sub = path.dirname(file)
  // Until the body's first bytes are on disk in the temporary file.
  let temp
  for (let i = 0; i < 400 && temp === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    temp = fs.readdirSync(sub).find((n) => n.endsWith('.fetchpool-tmp') && fs.statSync(path.join(sub, n)).size > 0)
  }
  assert.ok(temp, 'the child wrote to a temporary file')
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  assert.equal(fs.readFileSync(file, 'utf8'), OLD)
  assert.match(temp, /^target\.bin\..+\.fetchpool-tmp$/)
  assert.deepEqual(fs.readdirSync(sub).sort(), ['target.bin', temp])
})
