'use strict'

// Bounded by default against a hostile server: a decompression bomb stops at
// the default in-memory limit, saveTo has its own limit, and a body trickled
// a byte at a time fails on the minimum speed. Each can be raised or lifted.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { clientTracker } = require('./support/clients')
const { startHttpServer } = require('./support/http-server')

const MiB = 1024 * 1024
// 96 MiB of zeros: more than the 64 MiB default, a few hundred KiB on the wire.
const BOMB_SIZE = 96 * MiB
let gzipBomb
let brotliBomb
let server
let dir
const clients = clientTracker()

before(async () => {
  const zeros = Buffer.alloc(BOMB_SIZE)
  gzipBomb = zlib.gzipSync(zeros, { level: 9 })
  brotliBomb = zlib.brotliCompressSync(zeros)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-limits-'))
  server = await startHttpServer(async (req, res, url) => {
    if (url.pathname === '/bomb') {
      const br = url.searchParams.get('coding') === 'br'
      res.writeHead(200, { 'content-encoding': br ? 'br' : 'gzip' })
      return res.end(br ? brotliBomb : gzipBomb)
    }
    if (url.pathname === '/bytes') {
      return res.end(Buffer.alloc(Number(url.searchParams.get('size'))))
    }
    if (url.pathname === '/trickle') {
      // `n` bytes, one every `every` ms: never a long pause, never a real transfer.
      const n = Number(url.searchParams.get('n'))
      const every = Number(url.searchParams.get('every'))
      res.writeHead(200, { 'content-length': n })
      res.flushHeaders()
      for (let i = 0; i < n && !res.destroyed; i++) {
        await new Promise((resolve) => setTimeout(resolve, every))
        res.write('x')
      }
      return res.end()
    }
    res.end()
  })
})

after(async () => {
  clients.closeAll()
  if (server) await server.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

async function codeOf (promise) {
  try {
    const res = await promise
    await res.arrayBuffer()
    return `resolved with ${res.status}`
  } catch (err) {
    return err.code
  }
}

describe('a body in memory', () => {
  for (const coding of ['gzip', 'br']) {
    test(`a ${coding} bomb stops at the default limit`, async () => {
      const bomb = coding === 'br' ? brotliBomb : gzipBomb
      assert.ok(bomb.length < MiB, `the bomb is ${bomb.length} bytes on the wire`)
      const client = clients.client()
      assert.equal(await codeOf(client.fetch(server.url(`/bomb?coding=${coding}`))), 'ERR_BODY_TOO_LARGE')
    })
  }

  test('maxBodySize: Infinity on the client lifts the default', async () => {
    const res = await clients.client({ maxBodySize: Infinity }).fetch(server.url('/bomb'))
    assert.equal((await res.arrayBuffer()).byteLength, BOMB_SIZE)
  })

  test('maxBodySize: Infinity on one request lifts it for that request', async () => {
    const client = clients.client()
    const res = await client.fetch({ url: server.url('/bomb'), maxBodySize: Infinity })
    assert.equal((await res.arrayBuffer()).byteLength, BOMB_SIZE)
    assert.equal(await codeOf(client.fetch(server.url('/bomb'))), 'ERR_BODY_TOO_LARGE')
  })

  test('a plain body larger than the default is refused too', async () => {
    const client = clients.client()
    assert.equal(await codeOf(client.fetch(server.url(`/bytes?size=${64 * MiB + 1}`))), 'ERR_BODY_TOO_LARGE')
  })
})

describe('saveTo has its own limit', () => {
  test('maxSaveSize bounds what saveTo writes', async () => {
    const client = clients.client({ maxSaveSize: 1000 })
    const saveTo = path.join(dir, 'small.bin')
    const err = await client.fetch({ url: server.url('/bytes?size=5000'), saveTo }).then(() => null, (e) => e)
    assert.equal(err && err.code, 'ERR_BODY_TOO_LARGE')
  })

  test('the in-memory limit does not bound saveTo', async () => {
    const client = clients.client({ maxBodySize: 1000 })
    const saveTo = path.join(dir, 'large.bin')
    const res = await client.fetch({ url: server.url('/bytes?size=5000'), saveTo })
    assert.equal(res.status, 200)
    assert.equal(fs.statSync(saveTo).size, 5000)
  })

  test('a bomb saved to a file stops at maxSaveSize', async () => {
    const client = clients.client({ maxSaveSize: 8 * MiB })
    const saveTo = path.join(dir, 'bomb.bin')
    const err = await client.fetch({ url: server.url('/bomb'), saveTo }).then(() => null, (e) => e)
    assert.equal(err && err.code, 'ERR_BODY_TOO_LARGE')
  })
})

describe('a trickling body', () => {
  test('fails on the minimum speed, though no pause reaches the body timeout', async () => {
    const client = clients.client({ minSpeed: { limit: 1000, time: 300 }, timeout: { body: 10000 } })
    assert.equal(await codeOf(client.fetch(server.url('/trickle?n=40&every=25'))), 'ERR_BODY_TIMEOUT')
  })

  test('minSpeed: false lifts the guard, as do Infinity, a zero limit and a window that never ends', async () => {
    const client = clients.client({ minSpeed: { limit: 1000, time: 300 } })
    for (const minSpeed of [false, Infinity, { limit: 0 }, { time: false }, { time: Infinity }]) {
      const res = await client.fetch(server.url('/trickle?n=20&every=25'), { minSpeed })
      assert.equal((await res.text()).length, 20, JSON.stringify(minSpeed))
    }
  })

  test('a body fast enough passes', async () => {
    const client = clients.client({ minSpeed: { limit: 1000, time: 300 } })
    const res = await client.fetch(server.url(`/bytes?size=${4 * MiB}`))
    assert.equal((await res.arrayBuffer()).byteLength, 4 * MiB)
  })

  test('bad values are refused before anything is sent', () => {
    for (const minSpeed of [{ limit: -1 }, { limit: 1.5 }, { time: 0 }, 'fast', 7]) {
      assert.throws(() => clients.client({ minSpeed }), (err) => err.code === 'ERR_OUT_OF_RANGE' || err.code === 'ERR_INVALID_ARG_TYPE', JSON.stringify(minSpeed))
    }
  })
})
