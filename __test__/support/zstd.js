'use strict'

// Zstandard frames written by hand (Node 20's zlib has no zstd): stored (raw)
// blocks for ordinary data and RLE blocks — one byte that stands for up to
// 128 KiB — for a decompression bomb. RFC 8878, sections 3.1.1 and 3.1.1.2.

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
const BLOCK_MAX = 128 * 1024
// No content size, no checksum, not single-segment; window 2^17 = 128 KiB.
const FRAME_HEADER = Buffer.from([0x00, 7 << 3])

function blockHeader (last, type, size) {
  const value = (last ? 1 : 0) | (type << 1) | (size << 3)
  return Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff])
}

/** `data` as a zstd frame of raw blocks. */
function zstdStored (data) {
  const parts = [MAGIC, FRAME_HEADER]
  if (data.length === 0) parts.push(blockHeader(true, 0, 0))
  for (let at = 0; at < data.length; at += BLOCK_MAX) {
    const chunk = data.subarray(at, at + BLOCK_MAX)
    parts.push(blockHeader(at + BLOCK_MAX >= data.length, 0, chunk.length), chunk)
  }
  return Buffer.concat(parts)
}

/** A frame that decodes to `size` copies of `byte` (a multiple of 128 KiB), in 4 bytes per 128 KiB. */
function zstdBomb (size, byte = 0x61) {
  const blocks = Math.ceil(size / BLOCK_MAX)
  const parts = [MAGIC, FRAME_HEADER]
  for (let i = 0; i < blocks; i++) parts.push(blockHeader(i === blocks - 1, 1, BLOCK_MAX), Buffer.from([byte]))
  return Buffer.concat(parts)
}

module.exports = { zstdStored, zstdBomb }
