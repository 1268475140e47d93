'use strict'

// Decompression: gzip from nginx's own gzip module, deflate/br/zstd and
// broken bodies from a small Node server. On by default (Accept-Encoding
// sent), off with `decompress: false` (none sent, body as it came);
// maxBodySize counts decoded bytes, so a bomb stops early.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { Client } = require('..')
const { startNginx } = require('./support/nginx')
const { startHttpServer } = require('./support/http-server')
const { zstdStored, zstdBomb } = require('./support/zstd')

const TEXT = Buffer.from('fetchpool decodes this line, again and again.\n'.repeat(5000))
const MiB = 1024 * 1024
const ZEROS = Buffer.alloc(8 * MiB)
const ENCODE = {
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  // Raw deflate, without the zlib wrapper, sent as `deflate` by some servers.
  'raw-deflate': (b) => zlib.deflateRawSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  zstd: (b) => zstdStored(b)
}

let nginx
let node
let client

before(async () => {
  nginx = await startNginx({
    servers: { gz: {} },
    http: 'gzip on; gzip_types *; gzip_min_length 0; gzip_comp_level 6;',
    files: { 'text.txt': TEXT, 'zeros.bin': ZEROS }
  })
  node = await startHttpServer((req, res, url) => {
    const coding = url.searchParams.get('coding')
    const kind = url.pathname.slice(1)
    let body
    if (kind === 'echo') {
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify(req.headers))
    }
    if (kind === 'good') body = ENCODE[coding](TEXT)
    else if (kind === 'garbage') body = Buffer.from('this is not compressed data at all, not even a little')
    else if (kind === 'truncated') {
      const whole = ENCODE[coding](TEXT)
      body = whole.subarray(0, Math.floor(whole.length / 2))
    } else if (kind === 'bomb') body = zstdBomb(1024 * MiB) // 1 GiB from 32 KiB
    else if (kind === 'unknown') body = Buffer.from('left as it is')
    else if (kind === 'stacked') {
      // Codings applied in the order listed; on one field line, or each on
      // its own with `lines`.
      const codings = url.searchParams.get('codings').split(',')
      const stacked = codings.reduce((b, c) => ENCODE[c](b), TEXT)
      const header = url.searchParams.has('lines') ? codings : codings.join(', ')
      res.writeHead(200, { 'content-encoding': header, 'content-length': stacked.length })
      return res.end(stacked)
    }
    else if (kind === 'members') {
      // Two gzip members or zstd frames back to back, as `cat a.gz b.gz`
      // makes; with `junk`, bytes after them that start no other.
      const half = TEXT.length / 2
      const parts = [ENCODE[coding](TEXT.subarray(0, half)), ENCODE[coding](TEXT.subarray(half))]
      if (url.searchParams.has('junk')) parts.push(Buffer.from('not another member'))
      body = Buffer.concat(parts)
    } else if (kind === 'empty') {
      res.writeHead(Number(url.searchParams.get('status')), { 'content-encoding': coding, etag: '"v1"' })
      return res.end()
    }
    else {
      res.statusCode = 404
      return res.end()
    }
    const header = coding === 'raw-deflate' ? 'deflate' : coding
    res.writeHead(200, { 'content-encoding': header, 'content-length': body.length })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  client = new Client()
})

after(async () => {
  if (client) client.close()
  if (nginx) await nginx.stop()
  if (node) await node.close()
})

async function codeOf (promise) {
  try {
    const res = await promise
    return `resolved with ${res.status} (${res.buffer.length} bytes)`
  } catch (err) {
    return err.code
  }
}

describe('on by default', () => {
  test('sends Accept-Encoding: gzip, deflate, br, zstd', async () => {
    const headers = await (await client.fetch(node.url('/echo'))).json()
    assert.equal(headers['accept-encoding'], 'gzip, deflate, br, zstd')
  })

  test('gzip from nginx is decoded, and its coding and length headers go', async () => {
    // What nginx sends when asked for gzip: compressed.
    const raw = await client.fetch({ url: nginx.url('gz', '/text.txt'), headers: { 'accept-encoding': 'gzip' } },
      { decompress: false })
    assert.equal(raw.headers.get('content-encoding'), 'gzip')
    assert.ok(raw.buffer.length < TEXT.length / 10)
    const res = await client.fetch(nginx.url('gz', '/text.txt'))
    assert.equal(res.status, 200)
    assert.ok(res.buffer.equals(TEXT))
    assert.equal(res.headers.get('content-encoding'), null)
    assert.equal(res.headers.get('content-length'), null)
  })

  for (const coding of ['gzip', 'deflate', 'raw-deflate', 'br', 'zstd']) {
    test(`${coding} is decoded`, async () => {
      const res = await client.fetch(node.url(`/good?coding=${coding}`))
      assert.ok(res.buffer.equals(TEXT), `${coding}: ${res.buffer.length} bytes`)
      assert.equal(res.headers.get('content-encoding'), null)
    })
  }

  test('no bytes under a coding is an empty body: a 304 or 204 that names it, or an empty 200', async () => {
    for (const coding of ['gzip', 'deflate', 'br', 'zstd']) {
      for (const status of [200, 204, 304]) {
        const res = await client.fetch(node.url(`/empty?coding=${coding}&status=${status}`))
        assert.equal(res.status, status)
        assert.equal(res.buffer.length, 0, `${coding} ${status}`)
      }
    }
  })

  test('an unknown coding is left as it is, header and all', async () => {
    const res = await client.fetch(node.url('/unknown?coding=compress'))
    assert.equal(await res.text(), 'left as it is')
    assert.equal(res.headers.get('content-encoding'), 'compress')
  })

  test('codings applied one over another are undone, last first, from one line or several', async () => {
    for (const query of ['codings=gzip,br', 'codings=deflate,zstd,gzip&lines', 'codings=br,deflate',
      'codings=gzip,gzip,gzip,gzip,gzip']) {
      const res = await client.fetch(node.url(`/stacked?${query}`))
      assert.ok(res.buffer.equals(TEXT), `${query}: ${res.buffer.length} bytes`)
      assert.equal(res.headers.get('content-encoding'), null, query)
    }
  })

  test('a gzip body of several members, or a zstd one of several frames, is decoded whole', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-members-'))
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    for (const coding of ['gzip', 'zstd']) {
      const res = await client.fetch(node.url(`/members?coding=${coding}`))
      assert.ok(res.buffer.equals(TEXT), `${coding}: ${res.buffer.length} bytes`)
      const saveTo = path.join(dir, coding)
      const saved = await client.fetch({ url: node.url(`/members?coding=${coding}`), saveTo })
      assert.equal(saved.savedBytes, TEXT.length, coding)
      assert.ok(fs.readFileSync(saveTo).equals(TEXT), coding)
      assert.equal(await codeOf(client.fetch(node.url(`/members?coding=${coding}&junk`))), 'ERR_DECOMPRESS', coding)
    }
  })

  test('more than five codings, or one unknown among them, are left as they are', async () => {
    const six = 'gzip,gzip,gzip,gzip,gzip,gzip'
    const res = await client.fetch(node.url(`/stacked?codings=${six}`))
    assert.ok(res.buffer.equals(six.split(',').reduce((b) => ENCODE.gzip(b), TEXT)))
    assert.equal(res.headers.get('content-encoding'), six.split(',').join(', '))
    const mixed = await client.fetch(node.url('/unknown?coding=gzip, compress'))
    assert.equal(await mixed.text(), 'left as it is')
    assert.equal(mixed.headers.get('content-encoding'), 'gzip, compress')
  })

  test('a HEAD response is not decoded', async () => {
    const res = await client.fetch({ url: node.url('/good?coding=gzip'), method: 'HEAD' })
    assert.equal(res.status, 200)
    assert.equal(res.buffer.length, 0)
    // A decoded body loses its coding headers (see the GET below); a HEAD's
    // describe the body a GET would get, and are left as they are.
    const encoded = ENCODE.gzip(TEXT).length
    assert.equal(res.headers.get('content-encoding'), 'gzip')
    assert.equal(res.headers.get('content-length'), String(encoded))
    const get = await client.fetch(node.url('/good?coding=gzip'))
    assert.equal(get.headers.get('content-encoding'), null)
  })
})

describe('decompress: false', () => {
  test('sends no Accept-Encoding', async () => {
    const headers = await (await client.fetch(node.url('/echo'), { decompress: false })).json()
    assert.equal(headers['accept-encoding'], undefined)
  })

  test('nginx then sends the file as it is', async () => {
    const res = await client.fetch(nginx.url('gz', '/text.txt'), { decompress: false })
    assert.equal(res.headers.get('content-encoding'), null)
    assert.ok(res.buffer.equals(TEXT))
  })

  test('an encoded body is handed over encoded, with its header', async () => {
    const res = await client.fetch(node.url('/good?coding=br'), { decompress: false })
    assert.equal(res.headers.get('content-encoding'), 'br')
    assert.ok(zlib.brotliDecompressSync(res.buffer).equals(TEXT))
  })

  test('is a boolean', async () => {
    await assert.rejects(client.fetch(node.url('/echo'), { decompress: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('maxBodySize counts decoded bytes', () => {
  test('an nginx gzip bomb (8 MiB of zeros, a few KiB on the wire) is stopped', async () => {
    const raw = await client.fetch({ url: nginx.url('gz', '/zeros.bin'), headers: { 'accept-encoding': 'gzip' } },
      { decompress: false, maxBodySize: MiB })
    assert.ok(raw.buffer.length < 64 * 1024, `${raw.buffer.length} bytes on the wire`)
    assert.equal(await codeOf(client.fetch(nginx.url('gz', '/zeros.bin'), { maxBodySize: MiB })), 'ERR_BODY_TOO_LARGE')
  })

  test('the same body under a larger limit arrives whole', async () => {
    const res = await client.fetch(nginx.url('gz', '/zeros.bin'), { maxBodySize: 16 * MiB })
    assert.equal(res.buffer.length, ZEROS.length)
  })

  test('a 1 GiB zstd bomb is stopped at the limit, quickly', async () => {
    const start = performance.now()
    assert.equal(await codeOf(client.fetch(node.url('/bomb?coding=zstd'), { maxBodySize: 4 * MiB })), 'ERR_BODY_TOO_LARGE')
    assert.ok(performance.now() - start < 5000)
  })

  test('a per-request maxBodySize applies too', async () => {
    const req = { url: node.url('/good?coding=gzip'), maxBodySize: 1000 }
    assert.equal(await codeOf(client.fetch(req)), 'ERR_BODY_TOO_LARGE')
  })

  test('with decompress: false the limit counts the bytes as sent', async () => {
    // TEXT gzipped is far smaller than half of TEXT: undecoded, it fits.
    const res = await client.fetch(node.url('/good?coding=gzip'), { decompress: false, maxBodySize: TEXT.length / 2 })
    assert.equal(res.status, 200)
    assert.ok(res.buffer.length < TEXT.length / 2)
  })
})

describe('corrupt data is ERR_DECOMPRESS', () => {
  for (const coding of ['gzip', 'deflate', 'br', 'zstd']) {
    test(`${coding}: garbage`, async () => {
      assert.equal(await codeOf(client.fetch(node.url(`/garbage?coding=${coding}`))), 'ERR_DECOMPRESS')
    })
  }

  for (const coding of ['gzip', 'deflate', 'raw-deflate', 'br']) {
    test(`${coding}: cut short`, async () => {
      assert.equal(await codeOf(client.fetch(node.url(`/truncated?coding=${coding}`))), 'ERR_DECOMPRESS')
    })
  }
})
