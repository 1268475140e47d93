'use strict'

// Response headers, parsed from the raw block of field lines only when first
// read. Read-only, with the lookup half of the WHATWG Headers interface.

const kRaw = Symbol('raw')
const kMap = Symbol('map')

class ResponseHeaders {
  /**
   * @param {Buffer} raw field lines as received (`Name:value`, with optional
   *   spaces or tabs around the value, each line ending in CRLF or LF),
   *   already checked by the parser that read them
   */
  constructor (raw) {
    this[kRaw] = raw
    this[kMap] = null
  }

  /** name (lower case) → array of values, in received order */
  _map () {
    let map = this[kMap]
    if (map !== null) return map
    map = new Map()
    const text = this[kRaw].toString('latin1')
    let start = 0
    while (start < text.length) {
      let end = text.indexOf('\n', start)
      if (end === -1) end = text.length
      const colon = text.indexOf(':', start)
      if (colon !== -1 && colon < end) {
        const name = text.slice(start, colon).toLowerCase()
        const value = trimOws(text, colon + 1, end)
        const list = map.get(name)
        if (list === undefined) map.set(name, [value])
        else list.push(value)
      }
      start = end + 1
    }
    this[kRaw] = null
    this[kMap] = map
    return map
  }

  get (name) {
    const list = this._map().get(String(name).toLowerCase())
    return list === undefined ? null : list.join(', ')
  }

  has (name) {
    return this._map().has(String(name).toLowerCase())
  }

  /** Each `Set-Cookie` value on its own, as WHATWG's `getSetCookie()`. */
  getSetCookie () {
    return (this._map().get('set-cookie') || []).slice()
  }

  * entries () {
    const names = [...this._map().keys()].sort()
    for (const name of names) {
      if (name === 'set-cookie') {
        for (const v of this._map().get(name)) yield [name, v]
      } else {
        yield [name, this.get(name)]
      }
    }
  }

  * keys () {
    for (const [name] of this.entries()) yield name
  }

  * values () {
    for (const [, value] of this.entries()) yield value
  }

  forEach (fn, thisArg) {
    for (const [name, value] of this.entries()) fn.call(thisArg, value, name, this)
  }

  [Symbol.iterator] () {
    return this.entries()
  }

  /** A plain object; repeated headers joined with ", ". */
  toJSON () {
    const out = {}
    for (const name of this._map().keys()) out[name] = this.get(name)
    return out
  }

  get [Symbol.toStringTag] () {
    return 'Headers'
  }
}

// text[from, to) without the spaces, tabs and line-ending CR around it.
function trimOws (text, from, to) {
  while (from < to && isOws(text.charCodeAt(from))) from++
  while (to > from && isOws(text.charCodeAt(to - 1))) to--
  return text.slice(from, to)
}

function isOws (c) {
  return c === 0x20 || c === 0x09 || c === 0x0d
}

module.exports = { ResponseHeaders }
