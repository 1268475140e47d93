'use strict'

// Checks option objects with Node's error codes and turns them into the shape
// the native client takes. Every default lives in the engine
// (src/engine/config.rs); a field left out here means "use the default".

const { isIP } = require('node:net')
const { invalidArgType, invalidArgValue, outOfRange, inputError } = require('./errors')
const { proxyOptions } = require('./proxy')

const REDIRECT_MODES = ['follow', 'manual', 'error']

function isObject (value) {
  return value !== null && typeof value === 'object'
}

function checkObject (value, name) {
  if (value !== undefined && value !== null && !isObject(value)) {
    throw invalidArgType(name, 'of type object', value)
  }
}

// The fields of a request that are no option of a call: in a call's options
// they would do nothing, and `gather(urls, { method: 'POST' })` would send
// GETs. `fetch(url, init)` takes them, as WHATWG's fetch does.
const REQUEST_FIELDS = ['method', 'headers', 'body', 'json', 'saveTo', 'saveAnyStatus', 'resume', 'ifChanged', 'integrity']

/**
 * Refuses a key of `value` that is none of `known`: an option misspelt, or
 * another library's (`timeout: { request }`, `data`), would otherwise do
 * nothing without a word.
 */
function checkKeys (value, known, name, what) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && value[key] !== undefined) {
      const reason = REQUEST_FIELDS.includes(key)
        ? 'is a field of a request, not an option of the call'
        : `is not an option of ${what} (see docs/api.md)`
      throw invalidArgValue(`${name}.${key}`, value[key], reason)
    }
  }
}

function checkBoolean (value, name) {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value)
  return value
}

/** A whole number in [min, max]; Infinity allowed when `infinite`. */
function checkInteger (value, name, min, max = Number.MAX_SAFE_INTEGER, infinite = false) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgType(name, 'of type number', value)
  }
  if (infinite && value === Infinity) return value
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}`, value)
  }
  return value
}

/** Milliseconds > 0, or Infinity / false for "no limit" (sent as 0). */
function checkTimeout (value, name) {
  if (value === false || value === Infinity) return 0
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalidArgType(name, 'of type number', value)
  }
  if (!(value > 0) || !Number.isFinite(value)) throw outOfRange(name, '> 0', value)
  return value
}

/** Requests per second > 0, or Infinity / false for "no limit" (sent as 0). */
function checkRate (value, name) {
  if (value === false || value === Infinity) return 0
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidArgType(name, 'of type number', value)
  if (!(value > 0) || !Number.isFinite(value)) throw outOfRange(name, '> 0', value)
  return value
}

function checkStringList (value, name) {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalidArgType(name, 'an array of strings', value)
  }
  return value
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** A list of HTTP methods: each a token, by the rule the engine applies (src/engine/request.rs `is_token_byte`). */
function checkMethodList (value, name) {
  checkStringList(value, name)
  value.forEach((m, i) => {
    if (!HTTP_TOKEN.test(m)) throw inputError('ERR_INVALID_HTTP_TOKEN', `${name}[${i}] must be a valid HTTP token ["${m}"]`)
  })
  return value
}

function retryOptions (value, name) {
  if (typeof value === 'number') {
    return { retries: checkInteger(value, name, 0, 1000) }
  }
  if (!isObject(value)) throw invalidArgType(name, 'of type number or object', value)
  checkKeys(value, ['retries', 'minDelay', 'maxDelay', 'statuses', 'codes', 'methods'], name, 'retry')
  const out = {}
  if (value.retries !== undefined) out.retries = checkInteger(value.retries, `${name}.retries`, 0, 1000)
  if (value.minDelay !== undefined) out.minDelay = checkInteger(value.minDelay, `${name}.minDelay`, 0)
  if (value.maxDelay !== undefined) out.maxDelay = checkInteger(value.maxDelay, `${name}.maxDelay`, 0)
  if (value.statuses !== undefined) {
    if (!Array.isArray(value.statuses)) throw invalidArgType(`${name}.statuses`, 'an array of numbers', value.statuses)
    out.statuses = value.statuses.map((s, i) => checkInteger(s, `${name}.statuses[${i}]`, 100, 999))
  }
  if (value.codes !== undefined) out.codes = checkStringList(value.codes, `${name}.codes`)
  if (value.methods !== undefined) out.methods = checkMethodList(value.methods, `${name}.methods`)
  return out
}

/** Most requests in flight to one origin under `concurrency: 'auto'`, by default. */
const AUTO_MAX = 256

/**
 * `concurrency`: a number, or 'auto' for a limit per origin that adapts
 * to its latency and errors, up to `maxConcurrency`.
 */
function concurrencyOptions (options, name, set) {
  const { concurrency, maxConcurrency } = options
  if (concurrency === 'auto') {
    const max = maxConcurrency === undefined
      ? AUTO_MAX
      : checkInteger(maxConcurrency, `${name}.maxConcurrency`, 1, 0x7fffffff)
    set('concurrency', max)
    set('adaptive', true)
    return
  }
  if (maxConcurrency !== undefined) {
    throw invalidArgValue(`${name}.maxConcurrency`, maxConcurrency, "applies to concurrency: 'auto' only")
  }
  if (concurrency === undefined) return
  if (typeof concurrency === 'string') {
    throw invalidArgValue(`${name}.concurrency`, concurrency, "must be a number or 'auto'")
  }
  const n = checkInteger(concurrency, `${name}.concurrency`, 1, Number.MAX_SAFE_INTEGER, true)
  set('concurrency', n === Infinity ? 0x7fffffff : n)
  set('adaptive', false)
}

/** The options of a call that a client takes too, as its defaults. */
const DEFAULTED_OPTIONS = ['concurrency', 'maxConcurrency', 'timeout', 'redirect', 'maxRedirects', 'maxBodySize',
  'maxSaveSize', 'minSpeed', 'decompress', 'failOnStatus', 'retry']

const CALL_OPTIONS = [...DEFAULTED_OPTIONS, 'settle', 'signal', 'onProgress']

/** A client's own options, beside the calls' defaults. */
const CLIENT_OPTIONS = ['workers', 'http2', 'ca', 'rejectUnauthorized', 'allowPrivateNetworks', 'proxy', 'resolve',
  'headers', 'userAgent', 'connectionsPerHost', 'rateLimit', 'rateLimitPerHost', 'poolMaxIdlePerHost', 'poolMaxIdle',
  'poolIdleTimeout', ...DEFAULTED_OPTIONS]

/**
 * Options of one call. Returns `{ native, settle, signal, onProgress }` where
 * `native` is null when nothing differs from the client's defaults. A
 * client's options are read here too, their keys checked by the caller.
 */
function callOptions (options, name = 'options', ofClient = false) {
  if (options === undefined || options === null) return EMPTY
  if (!isObject(options)) throw invalidArgType(name, 'of type object', options)
  if (!ofClient) checkKeys(options, CALL_OPTIONS, name, 'a call')
  let native = null
  const set = (key, value) => {
    if (native === null) native = {}
    native[key] = value
  }
  concurrencyOptions(options, name, set)
  const timeout = options.timeout
  if (timeout !== undefined) {
    if (isObject(timeout)) {
      if (timeout.connect !== undefined) {
        throw invalidArgValue(`${name}.timeout.connect`, timeout.connect,
          'is a client option (new Client({ timeout: { connect } }))')
      }
      checkKeys(timeout, ['headers', 'body', 'total', 'connect'], `${name}.timeout`, 'timeout')
      if (timeout.headers !== undefined) set('headersTimeout', checkTimeout(timeout.headers, `${name}.timeout.headers`))
      if (timeout.body !== undefined) set('bodyTimeout', checkTimeout(timeout.body, `${name}.timeout.body`))
      if (timeout.total !== undefined) set('totalTimeout', checkTimeout(timeout.total, `${name}.timeout.total`))
    } else {
      set('totalTimeout', checkTimeout(timeout, `${name}.timeout`))
    }
  }
  if (options.redirect !== undefined) {
    if (!REDIRECT_MODES.includes(options.redirect)) {
      throw invalidArgValue(`${name}.redirect`, options.redirect, "must be one of 'follow', 'manual', 'error'")
    }
    set('redirect', options.redirect)
  }
  if (options.maxRedirects !== undefined) set('maxRedirects', checkInteger(options.maxRedirects, `${name}.maxRedirects`, 0, 1000))
  if (options.maxBodySize !== undefined) {
    set('maxBodySize', checkInteger(options.maxBodySize, `${name}.maxBodySize`, 0, Number.MAX_SAFE_INTEGER, true))
  }
  if (options.maxSaveSize !== undefined) {
    set('maxSaveSize', checkInteger(options.maxSaveSize, `${name}.maxSaveSize`, 0, Number.MAX_SAFE_INTEGER, true))
  }
  if (options.minSpeed !== undefined) minSpeedOptions(options.minSpeed, `${name}.minSpeed`, set)
  if (options.decompress !== undefined) set('decompress', checkBoolean(options.decompress, `${name}.decompress`))
  if (options.failOnStatus !== undefined) set('errorOnStatus', checkBoolean(options.failOnStatus, `${name}.failOnStatus`))
  if (options.retry !== undefined) set('retry', retryOptions(options.retry, `${name}.retry`))
  let settle = false
  if (options.settle !== undefined) settle = checkBoolean(options.settle, `${name}.settle`)
  const signal = options.signal
  if (signal !== undefined && signal !== null && !isAbortSignal(signal)) {
    throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', signal)
  }
  const onProgress = options.onProgress
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidArgType(`${name}.onProgress`, 'of type function', onProgress)
  }
  return { native, settle, signal: signal || undefined, onProgress }
}

/** `minSpeed: { limit, time }` (bytes a second over milliseconds), or false to lift it. */
function minSpeedOptions (value, name, set) {
  if (value === false || value === Infinity) return set('minSpeedLimit', 0)
  if (!isObject(value)) throw invalidArgType(name, 'an object or false', value)
  checkKeys(value, ['limit', 'time'], name, 'minSpeed')
  if (value.limit !== undefined) set('minSpeedLimit', checkInteger(value.limit, `${name}.limit`, 0))
  if (value.time !== undefined) {
    // A window that never ends is no guard at all.
    const time = checkTimeout(value.time, `${name}.time`)
    set(time === 0 ? 'minSpeedLimit' : 'minSpeedTime', time)
  }
}

const EMPTY = Object.freeze({ native: null, settle: false, signal: undefined, onProgress: undefined })

function isAbortSignal (value) {
  return isObject(value) && typeof value.aborted === 'boolean' && typeof value.addEventListener === 'function'
}

function headerPairs (headers, name) {
  const pairs = []
  if (headers === undefined || headers === null) return pairs
  const iterable = typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers)
  if (!isObject(headers)) throw invalidArgType(name, 'of type object', headers)
  for (const entry of iterable) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw invalidArgValue(name, headers, 'must hold [name, value] pairs')
    }
    const [key, value] = entry
    if (value === undefined) continue
    pairs.push([String(key), String(value)])
  }
  return pairs
}

function pemList (value, name) {
  const list = Array.isArray(value) ? value : [value]
  return list.map((pem, i) => {
    let text
    if (typeof pem === 'string') text = pem
    else if (pem instanceof Uint8Array) text = Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength).toString('latin1')
    else throw invalidArgType(`${name}[${i}]`, 'a string or Buffer', pem)
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw invalidArgValue(`${name}[${i}]`, pem, 'must hold PEM certificates')
    }
    return text
  })
}

/** `options.resolve`: `host:port` → the address to connect to instead, with its port. */
function resolveMap (map) {
  checkObject(map, 'options.resolve')
  const resolve = {}
  for (const [from, to] of Object.entries(map || {})) {
    const port = from.slice(from.lastIndexOf(':') + 1)
    if (!/^\d+$/.test(port) || from.lastIndexOf(':') < 1) {
      throw invalidArgValue('options.resolve', map, `key '${from}' must be host:port`)
    }
    if (typeof to !== 'string') throw invalidArgType(`options.resolve['${from}']`, 'of type string', to)
    // A bare address takes the key's port.
    const address = isIP(to) === 6 ? `[${to}]:${port}` : isIP(to) === 4 ? `${to}:${port}` : to
    const m = /^\[?([^\]]*)\]?:(\d{1,5})$/.exec(address)
    if (m === null || isIP(m[1]) === 0 || Number(m[2]) > 65535) {
      throw invalidArgValue(`options.resolve['${from}']`, to, 'must be an IP address, optionally with :port')
    }
    resolve[from.toLowerCase()] = address
  }
  return resolve
}

/**
 * `fetch(url, init)`: the request fields of `init` moved onto a request
 * object, the rest left as the call's options. Beside a request object, or
 * in any other call's options, `callOptions` refuses them.
 */
function requestFromInit (request, options) {
  if (!isObject(options) || (typeof request !== 'string' && !(request instanceof URL)) ||
      !REQUEST_FIELDS.some((key) => options[key] !== undefined)) return [request, options]
  const own = { url: request }
  const rest = { ...options }
  for (const key of REQUEST_FIELDS) {
    if (options[key] !== undefined) own[key] = options[key]
    delete rest[key]
  }
  return [own, rest]
}

/** Client options: its own settings plus defaults for every call. */
function clientOptions (options) {
  if (options === undefined || options === null) options = {}
  if (!isObject(options)) throw invalidArgType('options', 'of type object', options)
  const out = {}
  if (options.workers !== undefined) out.workers = checkInteger(options.workers, 'options.workers', 1, 256)
  const timeout = options.timeout
  let callDefaults = options
  if (isObject(timeout) && timeout.connect !== undefined) {
    out.connectTimeout = checkTimeout(timeout.connect, 'options.timeout.connect')
    const rest = { ...timeout }
    delete rest.connect
    callDefaults = { ...options, timeout: rest }
  }
  checkKeys(options, CLIENT_OPTIONS, 'options', 'a client')
  const defaults = callOptions(callDefaults, 'options', true)
  if (defaults.native !== null) out.defaults = defaults.native
  if (options.http2 !== undefined) {
    const mode = options.http2 === true ? 'auto' : options.http2 === false ? 'off' : options.http2
    if (!['auto', 'prior-knowledge', 'off'].includes(mode)) {
      throw invalidArgValue('options.http2', options.http2, "must be 'auto', 'prior-knowledge', 'off' or a boolean")
    }
    out.http2 = mode
  }
  if (options.ca !== undefined) out.ca = pemList(options.ca, 'options.ca')
  if (options.allowPrivateNetworks !== undefined) {
    out.allowPrivateNetworks = checkBoolean(options.allowPrivateNetworks, 'options.allowPrivateNetworks')
  }
  if (options.rejectUnauthorized !== undefined) {
    out.rejectUnauthorized = checkBoolean(options.rejectUnauthorized, 'options.rejectUnauthorized')
  }
  if (options.resolve !== undefined) out.resolve = resolveMap(options.resolve)
  if (options.poolMaxIdlePerHost !== undefined) {
    out.poolMaxIdlePerHost = checkInteger(options.poolMaxIdlePerHost, 'options.poolMaxIdlePerHost', 0)
  }
  if (options.poolMaxIdle !== undefined) {
    out.poolMaxIdle = checkInteger(options.poolMaxIdle, 'options.poolMaxIdle', 0, 0xffffffff)
  }
  if (options.poolIdleTimeout !== undefined) {
    out.poolIdleTimeout = checkTimeout(options.poolIdleTimeout, 'options.poolIdleTimeout')
  }
  if (options.connectionsPerHost !== undefined) {
    const n = checkInteger(options.connectionsPerHost, 'options.connectionsPerHost', 1, 0xffffffff, true)
    if (n !== Infinity) out.maxConnectionsPerHost = n
  }
  if (options.rateLimit !== undefined) out.rateLimit = checkRate(options.rateLimit, 'options.rateLimit')
  if (options.rateLimitPerHost !== undefined) {
    out.rateLimitPerHost = checkRate(options.rateLimitPerHost, 'options.rateLimitPerHost')
  }
  Object.assign(out, proxyOptions(options.proxy))
  const headers = headerPairs(options.headers, 'options.headers')
  checkFields(headers, 'options.headers')
  if (options.userAgent !== undefined) {
    if (typeof options.userAgent !== 'string') throw invalidArgType('options.userAgent', 'of type string', options.userAgent)
    headers.push(['user-agent', options.userAgent])
    checkFields(headers.slice(-1), 'options.userAgent')
  }
  if (headers.length > 0) out.headers = headers
  return out
}

/**
 * The client's header fields, by the rule the engine applies to a request's
 * (src/engine/request.rs `fields_of`): a name is a token, a value holds no
 * control character but tab (other characters are sent as UTF-8).
 */
function hasControl (text) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true
  }
  return false
}

function checkFields (pairs, name) {
  for (const [key, value] of pairs) {
    if (!HTTP_TOKEN.test(key)) throw inputError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${key}"] in ${name}`)
    if (hasControl(value)) throw inputError('ERR_INVALID_CHAR', `Invalid character in header content ["${key}"] in ${name}`)
  }
}

module.exports = {
  REQUEST_FIELDS,
  CALL_OPTIONS,
  checkKeys,
  requestFromInit,
  callOptions,
  clientOptions,
  headerPairs,
  isAbortSignal,
  checkInteger,
  checkBoolean,
  checkTimeout
}
