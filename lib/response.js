'use strict'

const { STATUS_CODES } = require('node:http')
const { inspect } = require('node:util')
const { ResponseHeaders } = require('./headers')
const L = require('./layout')

// A buffered response. Names shared with WHATWG's Response mean the same here;
// `buffer`, `index`, `attempts`, `httpVersion`, `timing` and `savedBytes` are
// fetchpool's own.

const kChunk = Symbol('chunk')
const kRows = Symbol('rows')
const kOff = Symbol('off')
const VERSIONS = []
VERSIONS[L.VERSION_1_1] = '1.1'
VERSIONS[L.VERSION_1_0] = '1.0'
VERSIONS[L.VERSION_2] = '2'
VERSIONS[L.VERSION_3] = '3'
VERSIONS[L.VERSION_0_9] = '0.9'
const kHeaders = Symbol('headers')
const kBuffer = Symbol('buffer')
// A body's own memory comes from the addon. From Node 21 on such memory
// cannot be transferred to another thread (postMessage and structuredClone
// throw DataCloneError), and the ArrayBuffer `arrayBuffer()` gives must be
// transferable, as fetch's is; Node 20 copies it when asked to transfer it.
const OWN_MEMORY_TRANSFERS = Number(process.versions.node.split('.')[0]) < 21

/**
 * The body as text, as WHATWG's UTF-8 decode gives it: a leading byte order
 * mark is dropped, and malformed sequences become U+FFFD.
 */
function utf8 (buf) {
  const bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf
  return buf.toString('utf8', bom ? 3 : 0)
}

/** WHATWG's `response.url` leaves the fragment out; a serialized URL has `#` only before it. */
function withoutFragment (url) {
  const hash = url.indexOf('#')
  return hash === -1 ? url : url.slice(0, hash)
}

/**
 * A response is row `off` of a chunk's Float64Array `rows` (fields: lib/layout.js,
 * defined in src/binding/layout.rs). Header block and small body are in `data`;
 * a body of its own is `bodies[-BODY_END - 1]`.
 */
class Response {
  constructor (rows, off, data, bodies, extras, requestUrl, index) {
    this[kRows] = rows
    this[kOff] = off
    this[kChunk] = data
    // Numbers read from a Float64Array are stored as small integers (`| 0`):
    // a field V8 sees a double in keeps each value in a heap box of its own,
    // three more objects per response for the garbage collector to copy.
    this.status = rows[off + L.STATUS] | 0
    this.url = withoutFragment(rows[off + L.EXTRA] < 0 ? requestUrl : extras[rows[off + L.EXTRA]])
    this.redirected = rows[off + L.REDIRECTED] === 1
    this.index = index <= 0x7fffffff ? index | 0 : index
    this.attempts = rows[off + L.ATTEMPTS] | 0
    this.httpVersion = VERSIONS[rows[off + L.VERSION]]
    this[kHeaders] = null
    // Made here rather than on first read: a view costs little while the
    // chunk is being taken in, and reading the bodies of a whole batch at
    // the end then holds the event loop for no time at all.
    this[kBuffer] = rows[off + L.BODY_END] < 0 ? bodies[-rows[off + L.BODY_END] - 1] : data.subarray(rows[off + L.HEADERS_END], rows[off + L.BODY_END])
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
      this[kHeaders] = new ResponseHeaders(this[kChunk].subarray(rows[off + L.HEADERS_START], rows[off + L.HEADERS_END]))
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
    const saved = this[kRows][this[kOff] + L.SAVED_BYTES]
    return saved === L.SAVED_NONE ? undefined : Math.max(saved, 0)
  }

  /**
   * With `saveTo`: true when the file now holds this response's body;
   * false when it was left as it was (a status not saved, or `304`).
   */
  get saved () {
    const saved = this[kRows][this[kOff] + L.SAVED_BYTES]
    return saved === L.SAVED_NONE ? undefined : saved >= 0
  }

  /** With `saveTo` and `ifChanged`: true when a `304` kept the saved copy. */
  get notModified () {
    const saved = this[kRows][this[kOff] + L.SAVED_BYTES]
    return saved === L.SAVED_NONE ? undefined : saved === L.SAVED_NOT_MODIFIED
  }

  get bodyUsed () {
    return false
  }

  get timing () {
    return rowTiming(this[kRows], this[kOff])
  }

  async text () {
    return utf8(this.buffer)
  }

  async json () {
    return JSON.parse(utf8(this.buffer))
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

const TIMING_FIELDS = [['queued', L.QUEUED], ['start', L.START], ['connected', L.CONNECTED],
  ['firstByte', L.FIRST_BYTE], ['end', L.END]]

/**
 * The timing of completion row `off` (see src/binding/layout.rs): ms on the
 * performance.now() clock; a moment that did not happen (no new connection,
 * a request that failed before its first byte) is left out.
 */
function rowTiming (rows, off) {
  const timing = {}
  for (const [name, at] of TIMING_FIELDS) {
    if (rows[off + at] >= 0) timing[name] = rows[off + at]
  }
  return timing
}

module.exports = { Response, rowTiming }
