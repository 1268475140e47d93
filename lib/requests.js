'use strict'

// Turns what callers pass as requests into what the native client takes: the
// URLs, one per line, and for object requests the extras (method, headers,
// body, …) with their positions. A malformed item becomes that item's error.

const { invalidArgType, invalidArgValue } = require('./errors')
const { REQUEST_FIELDS, headerPairs, checkTimeout, checkInteger, checkBoolean, isAbortSignal } = require('./options')

/** WHATWG's URL parser drops ASCII tab and newline, so removing them here changes nothing. */
function cleanUrl (url) {
  return url.indexOf('\n') === -1 && url.indexOf('\t') === -1 && url.indexOf('\r') === -1
    ? url
    : url.replace(/[\t\n\r]/g, '')
}

function urlOf (request) {
  if (typeof request === 'string') return cleanUrl(request)
  if (request instanceof URL) return request.href
  return null
}

/** The URL an item names as given: a string, a URL, or an object's `url`. */
function itemUrl (item) {
  if (typeof item === 'string') return item
  if (item instanceof URL) return item.href
  if (item !== null && typeof item === 'object') return item.url instanceof URL ? item.url.href : item.url
  return undefined
}

function bodyBytes (body, name) {
  if (typeof body === 'string') return Buffer.from(body)
  if (Buffer.isBuffer(body)) return body
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (body instanceof ArrayBuffer) return Buffer.from(body)
  if (body instanceof URLSearchParams) return Buffer.from(body.toString())
  throw invalidArgType(name, 'a string, Buffer, Uint8Array, ArrayBuffer or URLSearchParams', body)
}

const SRI = /^\s*(sha(256|384|512)-[A-Za-z0-9+/]+={0,2}(\?\S*)?\s*)+$/

/** How `saveTo` treats its file; each option only with `saveTo`. */
function saveOptions (request, name, headers, add) {
  const bodied = request.json !== undefined || (request.body !== undefined && request.body !== null)
  const method = request.method !== undefined ? String(request.method).toUpperCase() : bodied ? 'POST' : 'GET'
  // A HEAD response has no body, whatever its Content-Length says: saved,
  // it would be an empty file in place of the one there.
  if (request.saveTo !== undefined && method === 'HEAD') {
    throw invalidArgValue(`${name}.method`, request.method, 'must not be HEAD with saveTo, as a HEAD response has no body')
  }
  for (const key of ['saveAnyStatus', 'resume', 'ifChanged']) {
    if (request[key] === undefined) continue
    checkBoolean(request[key], `${name}.${key}`)
    if (request[key]) add(key, true)
  }
  if (request.integrity !== undefined) {
    if (typeof request.integrity !== 'string') throw invalidArgType(`${name}.integrity`, 'of type string', request.integrity)
    if (!SRI.test(request.integrity)) {
      throw invalidArgValue(`${name}.integrity`, request.integrity, "must be 'sha256-', 'sha384-' or 'sha512-' and a base64 digest")
    }
    add('integrity', request.integrity)
  }
  const used = ['saveAnyStatus', 'resume', 'ifChanged', 'integrity'].find((k) => request[k] !== undefined && request[k] !== false)
  if (used === undefined) return
  if (request.saveTo === undefined) throw invalidArgValue(`${name}.${used}`, request[used], 'applies only with saveTo')
  const ranged = request.resume === true || request.ifChanged === true
  if (ranged && method !== 'GET') {
    throw invalidArgValue(`${name}.method`, request.method, 'must be GET with resume or ifChanged')
  }
  const own = headers.find(([k]) => /^(range|if-range|if-none-match|if-modified-since)$/i.test(k))
  if (request.resume === true && own !== undefined) {
    throw invalidArgValue(`${name}.headers`, own[0], 'must not be set with resume, which sets it')
  }
}

/**
 * Reads an object request. Returns `{ url, extra, signal }`; `extra` is null
 * when the object adds nothing to its URL.
 */
function objectRequest (request, i, name) {
  const url = request.url
  let href
  if (typeof url === 'string') href = cleanUrl(url)
  else if (url instanceof URL) href = url.href
  else throw invalidArgType(`${name}.url`, 'of type string or an instance of URL', url)
  let extra = null
  const add = (key, value) => {
    if (extra === null) extra = { i }
    extra[key] = value
  }
  if (request.method !== undefined) {
    if (typeof request.method !== 'string') throw invalidArgType(`${name}.method`, 'of type string', request.method)
    add('method', request.method)
  }
  let headers = headerPairs(request.headers, `${name}.headers`)
  if (request.json !== undefined) {
    if (request.body !== undefined) throw invalidArgType(`${name}.body`, 'undefined when json is given', request.body)
    let text
    try {
      text = JSON.stringify(request.json)
    } catch (cause) {
      const err = invalidArgValue(`${name}.json`, request.json, 'cannot be serialised to JSON')
      err.cause = cause
      throw err
    }
    if (text === undefined) throw invalidArgType(`${name}.json`, 'a JSON-serialisable value', request.json)
    add('body', Buffer.from(text))
    if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) {
      headers = headers.concat([['content-type', 'application/json']])
    }
    if (request.method === undefined) add('method', 'POST')
  } else if (request.body !== undefined && request.body !== null) {
    add('body', bodyBytes(request.body, `${name}.body`))
    if (request.method === undefined) add('method', 'POST')
  }
  if (headers.length > 0) add('headers', headers.flat())
  if (request.timeout !== undefined) add('timeout', checkTimeout(request.timeout, `${name}.timeout`))
  if (request.maxBodySize !== undefined) {
    add('maxBodySize', checkInteger(request.maxBodySize, `${name}.maxBodySize`, 0, Number.MAX_SAFE_INTEGER, true))
  }
  if (request.saveTo !== undefined) {
    if (typeof request.saveTo !== 'string' || request.saveTo === '') {
      throw invalidArgType(`${name}.saveTo`, 'a non-empty string', request.saveTo)
    }
    add('saveTo', request.saveTo)
  }
  saveOptions(request, name, headers, add)
  let signal
  if (request.signal !== undefined && request.signal !== null) {
    if (!isAbortSignal(request.signal)) throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', request.signal)
    signal = request.signal
    add('abortable', true)
  }
  return { url: href, extra, signal }
}

/**
 * A WHATWG `Request` as fetchpool's request object: its URL, method,
 * headers and signal. Its body is a stream, which only an asynchronous read
 * could take: a Request with one is refused, before anything is sent.
 */
function fromWhatwg (request, name) {
  if (request.body !== null) {
    throw invalidArgValue(name, request, 'is a Request with a body; give { url, method, headers, body } instead')
  }
  return { url: request.url, method: request.method, headers: request.headers, signal: request.signal }
}

const isWhatwg = (request) => typeof Request === 'function' && request instanceof Request

// The fields an object request is read for: its own, and those it shares
// with a call's options.
const FIELDS = ['url', ...REQUEST_FIELDS, 'timeout', 'signal', 'maxBodySize']

/**
 * An object request as it is now, for a call that reads it later (a
 * Promise-style `fetch` is sent at the end of its tick): its fields, its
 * headers, its body's bytes and its `json` are copied, so the caller may
 * change or reuse them once the call is made. Whatever is malformed is
 * left as it is, for the read to refuse.
 */
function snapshot (request) {
  if (request === null || typeof request !== 'object' || request instanceof URL) return request
  if (isWhatwg(request)) {
    if (request.body !== null) return request // refused when read
    request = fromWhatwg(request)
  }
  const copy = {}
  for (const key of FIELDS) {
    const value = request[key]
    if (value !== undefined) copy[key] = value
  }
  const { headers, body, json } = copy
  if (headers !== null && typeof headers === 'object') {
    copy.headers = typeof headers[Symbol.iterator] === 'function'
      ? Array.from(headers, (entry) => (Array.isArray(entry) ? entry.slice() : entry))
      : { ...headers }
  }
  if (body instanceof Uint8Array) copy.body = Buffer.from(body) // a copy of the bytes
  else if (body instanceof ArrayBuffer) copy.body = body.slice(0)
  else if (body instanceof URLSearchParams) copy.body = new URLSearchParams(body)
  if (json !== undefined) {
    let text
    try {
      text = JSON.stringify(json)
    } catch {
      return copy
    }
    if (text !== undefined) copy.json = JSON.parse(text)
  }
  return copy
}

/**
 * Normalises `items[from..to)` (positions counted from `base` in the batch).
 * Returns `{ lines, urls, extras, signals, errors }`: `errors` maps a batch
 * index to the input error found for it (its line is left empty, so the
 * engine sends nothing for it).
 */
function normalize (items, from, to, base, single = false) {
  const urls = new Array(to - from)
  let extras = null
  let signals = null
  let errors = null
  for (let k = from; k < to; k++) {
    const request = items[k]
    const pos = k - from
    let url = urlOf(request)
    if (url === null) {
      if (request !== null && typeof request === 'object') {
        try {
          const name = single ? 'request' : `requests[${base + pos}]`
          const parsed = objectRequest(isWhatwg(request) ? fromWhatwg(request, name) : request, pos, name)
          url = parsed.url
          if (parsed.extra !== null) (extras || (extras = [])).push(parsed.extra)
          if (parsed.signal !== undefined) (signals || (signals = new Map())).set(base + pos, parsed.signal)
        } catch (err) {
          err.index = base + pos
          ;(errors || (errors = new Map())).set(base + pos, err)
          url = ''
        }
      } else {
        const err = invalidArgType(single ? 'request' : `requests[${base + pos}]`, 'a string, a URL or a request object', request)
        err.index = base + pos
        ;(errors || (errors = new Map())).set(base + pos, err)
        url = ''
      }
    }
    urls[pos] = url
  }
  return { lines: urls.join('\n'), urls, extras, signals, errors }
}

module.exports = { normalize, objectRequest, snapshot, urlOf, itemUrl }
