'use strict'

const { STATUS_CODES } = require('node:http')
const { inspect } = require('node:util')
const { ResponseHeaders } = require('./headers')

// A buffered response. Names shared with WHATWG's Response mean the same here;
// `buffer`, `index`, `attempts`, `httpVersion`, `timing` and `savedBytes` are
// fetchpool's own.

const kChunk = Symbol('chunk')
const kRows = Symbol('rows')
const kOff = Symbol('off')
const VERSIONS = ['1.1', '1.0', '2', '3', '0.9']
const kHeaders = Symbol('headers')
const kBuffer = Symbol('buffer')
// A body's own memory comes from the addon. From Node 21 on such memory
// cannot be transferred to another thread (postMessage and structuredClone
// throw DataCloneError), and the ArrayBuffer `arrayBuffer()` gives must be
// transferable, as fetch's is; Node 20 copies it when asked to transfer it.
const OWN_MEMORY_TRANSFERS = Number(process.versions.node.split('.')[0]) < 21

/**
 * A response is row `off` of a chunk's Float64Array `rows` (layout: `ROW` in
 * src/binding/delivery.rs): 2 status, 3 version code, 4 attempts,
 * 5 redirected, 6 headersStart, 7 headersEnd (= bodyStart), 8 bodyEnd, or
 * -(k + 1) when the body is bodies[k], 9 the saveTo file (-1 none, -2 not
 * saved, -3 not modified, else its length), 10–14 timing, 15 index of the final URL in
 * `extras` (-1: the request's URL). Header block and small body are in `data`.
 */
class Response {
  constructor (rows, off, data, bodies, extras, requestUrl, index) {
    this[kRows] = rows
    this[kOff] = off
    this[kChunk] = data
    // Numbers read from a Float64Array are stored as small integers (`| 0`):
    // a field V8 sees a double in keeps each value in a heap box of its own,
    // three more objects per response for the garbage collector to copy.
    this.status = rows[off + 2] | 0
    this.url = rows[off + 15] < 0 ? requestUrl : extras[rows[off + 15]]
    this.redirected = rows[off + 5] === 1
    this.index = index <= 0x7fffffff ? index | 0 : index
    this.attempts = rows[off + 4] | 0
    this.httpVersion = VERSIONS[rows[off + 3]]
    this[kHeaders] = null
    // Made here rather than on first read: a view costs little while the
    // chunk is being taken in, and reading the bodies of a whole batch at
    // the end then holds the event loop for no time at all.
    this[kBuffer] = rows[off + 8] < 0 ? bodies[-rows[off + 8] - 1] : data.subarray(rows[off + 7], rows[off + 8])
  }

  get ok () {
    return this.status >= 200 && this.status <= 299
  }

  get statusText () {
    return STATUS_CODES[this.status] || ''
  }

  get headers () {
    if (this[kHeaders] === null) {
      const rows = this[kRows]
      const off = this[kOff]
      this[kHeaders] = new ResponseHeaders(this[kChunk].subarray(rows[off + 6], rows[off + 7]))
    }
    return this[kHeaders]
  }

  /** The whole body, decoded, as a Buffer (empty when it went to `saveTo`). */
  get buffer () {
    return this[kBuffer]
  }

  /**
   * The length of the file `saveTo` now holds from this response (0 when
   * nothing was written), or undefined without `saveTo`.
   */
  get savedBytes () {
    const saved = this[kRows][this[kOff] + 9]
    return saved === -1 ? undefined : Math.max(saved, 0)
  }

  /**
   * With `saveTo`: true when the file now holds this response's body;
   * false when it was left as it was (a status not saved, or `304`).
   */
  get saved () {
    const saved = this[kRows][this[kOff] + 9]
    return saved === -1 ? undefined : saved >= 0
  }

  /** With `saveTo` and `ifChanged`: true when a `304` kept the saved copy. */
  get notModified () {
    const saved = this[kRows][this[kOff] + 9]
    return saved === -1 ? undefined : saved === -3
  }

  get bodyUsed () {
    return false
  }

  get timing () {
    const rows = this[kRows]
    const off = this[kOff]
    const timing = {
      queued: rows[off + 10],
      start: rows[off + 11],
      connected: rows[off + 12] < 0 ? undefined : rows[off + 12],
      firstByte: rows[off + 13],
      end: rows[off + 14]
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

  /**
   * The body as an ArrayBuffer. Where `buffer` views a whole ArrayBuffer of
   * its own (a body of 16 KiB or more) and the Node version lets such memory
   * be transferred (see OWN_MEMORY_TRANSFERS), that memory is given without
   * a copy; otherwise a copy.
   */
  async arrayBuffer () {
    const buf = this.buffer
    const whole = buf.buffer
    if (OWN_MEMORY_TRANSFERS && buf.byteOffset === 0 && buf.byteLength === whole.byteLength) return whole
    return whole.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
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
