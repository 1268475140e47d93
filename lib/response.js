'use strict'

const { STATUS_CODES } = require('node:http')
const { inspect } = require('node:util')
const { ResponseHeaders } = require('./headers')

// A buffered response. Names shared with WHATWG's Response mean the same here;
// `buffer`, `index`, `attempts`, `httpVersion`, `timing` and `savedBytes` are
// fetchpool's own.

const kChunk = Symbol('chunk')
const kRow = Symbol('row')
const kHeaders = Symbol('headers')
const kBuffer = Symbol('buffer')

/**
 * Row layout (see src/binding/delivery.rs):
 * [batch, index, status, version, attempts, finalUrl|null, redirected,
 *  headersStart, bodyStart, bodyEnd, savedBytes, queued, start, connected, firstByte, end]
 */
class Response {
  constructor (row, chunk, requestUrl, index) {
    this[kRow] = row
    this[kChunk] = chunk
    this.status = row[2]
    this.url = row[5] === null ? requestUrl : row[5]
    this.redirected = row[6] === 1
    this.index = index
    this.attempts = row[4]
    this.httpVersion = row[3]
    this[kHeaders] = null
    this[kBuffer] = null
  }

  get ok () {
    return this.status >= 200 && this.status <= 299
  }

  get statusText () {
    return STATUS_CODES[this.status] || ''
  }

  get headers () {
    if (this[kHeaders] === null) {
      const row = this[kRow]
      this[kHeaders] = new ResponseHeaders(this[kChunk].subarray(row[7], row[8]))
    }
    return this[kHeaders]
  }

  /** The whole body, decoded, as a Buffer (empty when it went to `saveTo`). */
  get buffer () {
    if (this[kBuffer] === null) {
      const row = this[kRow]
      this[kBuffer] = this[kChunk].subarray(row[8], row[9])
    }
    return this[kBuffer]
  }

  /** Bytes written to the `saveTo` file, or undefined. */
  get savedBytes () {
    const saved = this[kRow][10]
    return saved < 0 ? undefined : saved
  }

  get bodyUsed () {
    return false
  }

  get timing () {
    const row = this[kRow]
    const timing = {
      queued: row[11],
      start: row[12],
      connected: row[13] < 0 ? undefined : row[13],
      firstByte: row[14],
      end: row[15]
    }
    if (timing.connected === undefined) delete timing.connected
    return timing
  }

  async text () {
    return this.buffer.toString('utf8')
  }

  async json () {
    return JSON.parse(this.buffer.toString('utf8'))
  }

  async arrayBuffer () {
    const buf = this.buffer
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  }

  async bytes () {
    return new Uint8Array(await this.arrayBuffer())
  }

  async blob () {
    return new Blob([this.buffer], { type: this.headers.get('content-type') || '' })
  }

  toJSON () {
    return {
      index: this.index,
      url: this.url,
      status: this.status,
      statusText: this.statusText,
      redirected: this.redirected,
      httpVersion: this.httpVersion,
      attempts: this.attempts,
      headers: this.headers.toJSON(),
      size: this.buffer.length,
      timing: this.timing
    }
  }

  get [Symbol.toStringTag] () {
    return 'Response'
  }

  [inspect.custom] (depth, options) {
    const shown = { status: this.status, url: this.url, index: this.index, httpVersion: this.httpVersion, size: this.buffer.length }
    return `Response ${inspect(shown, options)}`
  }
}

module.exports = { Response }
