'use strict'

// Response headers, parsed from the raw `name: value\n` block only when first
// read. Read-only, with the lookup half of the WHATWG Headers interface.

const kRaw = Symbol('raw')
const kMap = Symbol('map')

class ResponseHeaders {
  /** @param {Buffer} raw `name: value\n` lines, names lower-case */
  constructor (raw) {
    this[kRaw] = raw
    this[kMap] = null
  }

  /** name → array of values, in received order */
  _map () {
    let map = this[kMap]
    if (map !== null) return map
    map = new Map()
    const text = this[kRaw].toString('latin1')
    let start = 0
    while (start < text.length) {
      let end = text.indexOf('\n', start)
      if (end === -1) end = text.length
      const colon = text.indexOf(': ', start)
      const name = text.slice(start, colon)
      const value = text.slice(colon + 2, end)
      const list = map.get(name)
      if (list === undefined) map.set(name, [value])
      else list.push(value)
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

module.exports = { ResponseHeaders }
