'use strict'

// resume: a broken download keeps its bytes beside the target and continues
// with Range and If-Range; ifChanged revalidates a saved copy. Against a
// scripted server (each answer chosen) and against nginx's own ranges.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const fetchpool = require('..')
const { startNginx } = require('./support/nginx')

const BODY = crypto.randomBytes(200000)
const CUT = 60000
let server
let base
let dir
let nginx
/** What the scripted server saw: one entry per request. */
let seen = []
/** How the scripted server answers: see `answer`. */
let script = {}

function sri (data) {
  return `sha256-${crypto.createHash('sha256').update(data).digest('base64')}`
}

/** A full body, cut after CUT bytes while `script.cut` is set. */
function full (res, etag) {
  res.writeHead(200, { etag, 'content-length': BODY.length, 'last-modified': 'Sun, 06 Nov 1994 08:49:37 GMT' })
  if (script.cut) {
    script.cut = false
    return res.write(BODY.subarray(0, CUT), () => setTimeout(() => res.socket.resetAndDestroy(), 20))
  }
  res.end(BODY)
}

function answer (req, res) {
  const etag = script.etag || '"v1"'
  seen.push({ range: req.headers.range, ifRange: req.headers['if-range'], inm: req.headers['if-none-match'], ims: req.headers['if-modified-since'], ae: req.headers['accept-encoding'] })
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag })
    return res.end()
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range || '')
  if (m === null || req.headers['if-range'] !== etag) return full(res, etag)
  const start = Number(m[1])
  if (script.range === 416) {
    res.writeHead(416, { 'content-range': `bytes */${BODY.length}` })
    return res.end()
  }
  const from = script.range === 'wrong-start' ? start - 1 : start
  res.writeHead(206, { etag, 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}`, 'content-length': BODY.length - from })
  res.end(BODY.subarray(from))
}

/** A proxy that cuts the first response it relays after `limit` bytes, then relays whole. */
async function startCutter (port, limit) {
  let cut = true
  const sockets = new Set()
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.pipe(upstream)
    let relayed = 0
    const cutting = cut
    cut = false
    upstream.on('data', (chunk) => {
      if (!cutting) return client.write(chunk)
      const room = limit - relayed
      relayed += chunk.length
      if (room > chunk.length) return client.write(chunk)
      client.write(chunk.subarray(0, room), () => setTimeout(() => { client.resetAndDestroy(); upstream.destroy() }, 20))
      upstream.pause()
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  // The relayed keep-alive connection would otherwise hold the process open
  // until nginx drops it, a minute later.
  const close = () => {
    proxy.close()
    for (const socket of sockets) socket.destroy()
  }
  return { port: proxy.address().port, close }
}

before(async () => {
  server = http.createServer(answer)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-resume-'))
  nginx = await startNginx({ servers: { plain: {} }, files: { 'big.bin': BODY } })
})

after(async () => {
  server.closeAllConnections()
  server.close()
  await nginx.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

function fresh (name) {
  seen = []
  script = {}
  const sub = fs.mkdtempSync(path.join(dir, `${name}-`))
  return path.join(sub, 'big.bin')
}

/** Fails once with the body cut; returns the partial file's length. */
async function breakOnce (url, file) {
  script.cut = true
  await assert.rejects(fetchpool.fetch({ url, saveTo: file, resume: true }))
  assert.equal(fs.existsSync(file), false, 'the target is not written')
  const partial = fs.statSync(`${file}.fetchpool-partial`).size
  assert.ok(partial > 0 && partial <= CUT, `kept ${partial} bytes`)
  return partial
}

test('a broken download resumes from its last byte, and the digest covers all of it', async () => {
  const file = fresh('resume')
  const kept = await breakOnce(`${base}/f`, file)
  const res = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, resume: true, integrity: sri(BODY) })
  assert.equal(res.status, 206)
  assert.equal(res.savedBytes, BODY.length)
  assert.ok(fs.readFileSync(file).equals(BODY))
  assert.equal(seen[1].range, `bytes=${kept}-`)
  assert.equal(seen[1].ifRange, '"v1"')
  assert.equal(seen[0].ae, 'identity', 'a resumable body is asked for as it is')
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['big.bin'], 'the partial files are gone')
})

test('a changed file starts over: If-Range fails and 200 replaces the partial', async () => {
  const file = fresh('changed')
  await breakOnce(`${base}/f`, file)
  script.etag = '"v2"'
  const res = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, resume: true })
  assert.equal(res.status, 200)
  assert.ok(fs.readFileSync(file).equals(BODY))
  assert.equal(seen[1].ifRange, '"v1"')
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['big.bin'])
})

test('a 206 from the wrong byte, or a 416, starts over without a range', async () => {
  for (const range of ['wrong-start', 416]) {
    const file = fresh(`bad-${range}`)
    await breakOnce(`${base}/f`, file)
    script.range = range
    const res = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, resume: true })
    assert.equal(res.status, 200, String(range))
    assert.ok(fs.readFileSync(file).equals(BODY))
    assert.equal(seen.length, 3)
    assert.ok(seen[1].range !== undefined)
    assert.equal(seen[2].range, undefined)
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['big.bin'])
  }
})

test('a wrong digest on a resumed download drops the partial too', async () => {
  const file = fresh('resume-wrong')
  await breakOnce(`${base}/f`, file)
  const wrong = sri(Buffer.from('other'))
  await assert.rejects(fetchpool.fetch({ url: `${base}/f`, saveTo: file, resume: true, integrity: wrong }), { code: 'EINTEGRITY' })
  assert.deepEqual(fs.readdirSync(path.dirname(file)), [])
})

test('with retry, one call resumes its own broken download', async () => {
  const file = fresh('retry')
  script.cut = true
  const res = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, resume: true },
    { retry: { retries: 1, minDelay: 1, maxDelay: 1, codes: ['ERR_HTTP_PROTOCOL', 'ECONNRESET'] } })
  assert.equal(res.status, 206)
  assert.equal(res.attempts, 2)
  assert.ok(fs.readFileSync(file).equals(BODY))
})

test('ifChanged sends the saved validators, and a 304 keeps the file', async () => {
  const file = fresh('ifchanged')
  const first = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, ifChanged: true })
  assert.equal(first.saved, true)
  assert.equal(seen[0].inm, undefined)
  const again = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, ifChanged: true }, { failOnStatus: true })
  assert.equal(again.status, 304)
  assert.equal(again.notModified, true)
  assert.equal(again.saved, false)
  assert.equal(again.savedBytes, 0)
  assert.equal(seen[1].inm, '"v1"')
  assert.equal(seen[1].ims, 'Sun, 06 Nov 1994 08:49:37 GMT')
  assert.ok(fs.readFileSync(file).equals(BODY))
  assert.equal(fs.statSync(file).mtime.toUTCString(), 'Sun, 06 Nov 1994 08:49:37 GMT', 'the file has the server\'s date')
  script.etag = '"v2"'
  const changed = await fetchpool.fetch({ url: `${base}/f`, saveTo: file, ifChanged: true })
  assert.equal(changed.status, 200)
  assert.equal(changed.saved, true)
})

test('nginx: a download broken in the network resumes with nginx\'s own ranges', async () => {
  const cutter = await startCutter(nginx.port('plain'), 50000)
  try {
    const file = fresh('nginx')
    const url = `http://127.0.0.1:${cutter.port}/big.bin`
    await assert.rejects(fetchpool.fetch({ url, saveTo: file, resume: true }))
    assert.equal(fs.existsSync(file), false)
    assert.ok(fs.statSync(`${file}.fetchpool-partial`).size > 0)
    const res = await fetchpool.fetch({ url, saveTo: file, resume: true, integrity: sri(BODY) })
    assert.equal(res.status, 206)
    assert.ok(fs.readFileSync(file).equals(BODY))
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['big.bin'])
  } finally {
    cutter.close()
  }
})

test('nginx: a second run of ifChanged transfers nothing; a changed file comes again', async () => {
  const file = fresh('nginx-304')
  const url = nginx.url('plain', '/big.bin')
  assert.equal((await fetchpool.fetch({ url, saveTo: file, ifChanged: true })).status, 200)
  const again = await fetchpool.fetch({ url, saveTo: file, ifChanged: true })
  assert.equal(again.status, 304)
  assert.equal(again.notModified, true)
  const changed = Buffer.concat([BODY, Buffer.from('more')])
  fs.writeFileSync(path.join(nginx.root, 'big.bin'), changed)
  fs.utimesSync(path.join(nginx.root, 'big.bin'), new Date(), new Date(Date.now() + 5000))
  const third = await fetchpool.fetch({ url, saveTo: file, ifChanged: true })
  assert.equal(third.status, 200)
  assert.ok(fs.readFileSync(file).equals(changed))
  fs.writeFileSync(path.join(nginx.root, 'big.bin'), BODY)
})
