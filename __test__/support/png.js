'use strict'

// A small PNG decoder for tests (8-bit RGB or RGBA, not interlaced), enough
// to read the screenshots headless Chromium writes.

const zlib = require('node:zlib')

function paeth (a, b, c) {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** Undoes the per-row filters in place; returns the raw pixel rows. */
function unfilter (data, width, height, bpp) {
  const stride = width * bpp
  const out = Buffer.alloc(stride * height)
  for (let y = 0; y < height; y++) {
    const type = data[y * (stride + 1)]
    const src = y * (stride + 1) + 1
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0
      const b = y > 0 ? out[(y - 1) * stride + x] : 0
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0
      const v = data[src + x]
      const pred = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c)
      out[y * stride + x] = (v + pred) & 0xff
    }
  }
  return out
}

/** `{ width, height, bpp, pixels }` of a PNG file's bytes. */
function decodePng (buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG')
  let off = 8
  let width, height, bpp
  const idat = []
  while (off < buf.length) {
    const len = buf.readUInt32BE(off)
    const type = buf.toString('latin1', off + 4, off + 8)
    const body = buf.subarray(off + 8, off + 8 + len)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      if (body[8] !== 8 || body[12] !== 0 || (body[9] !== 2 && body[9] !== 6)) throw new Error('unsupported PNG')
      bpp = body[9] === 6 ? 4 : 3
    } else if (type === 'IDAT') {
      idat.push(body)
    }
    off += 12 + len
  }
  const pixels = unfilter(zlib.inflateSync(Buffer.concat(idat)), width, height, bpp)
  return { width, height, bpp, pixels }
}

module.exports = { decodePng }
