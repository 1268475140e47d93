'use strict'

// Errors: FetchError for what happens on the network, and Node-style TypeError /
// RangeError (with Node's codes) for input that is rejected before sending.

/** Codes whose errors are input errors, with the class Node uses for each. */
const INPUT_ERRORS = {
  ERR_INVALID_ARG_TYPE: TypeError,
  ERR_INVALID_ARG_VALUE: TypeError,
  ERR_INVALID_URL: TypeError,
  ERR_INVALID_URL_SCHEME: TypeError,
  ERR_INVALID_HTTP_TOKEN: TypeError,
  ERR_INVALID_CHAR: TypeError,
  ERR_OUT_OF_RANGE: RangeError,
  ERR_INVALID_STATE: Error
}

/**
 * A URL as an error may show it: without user info. One that parses with a
 * host loses its `user:pass@`; any other loses everything up to the last
 * `@` before any query or fragment (a password may hold `/` or `@`), after
 * its `//`, or from the start when it has none: `user:pass@host` written
 * without a scheme parses as the scheme `user:` and an opaque path.
 */
function shownUrl (url) {
  if (typeof url !== 'string' || !url.includes('@')) return url
  let parsed = null
  try {
    parsed = new URL(url)
  } catch {
    // cut below
  }
  if (parsed !== null && parsed.host !== '') {
    if (parsed.username === '' && parsed.password === '') return url
    parsed.username = ''
    parsed.password = ''
    return parsed.href
  }
  const found = url.indexOf('//')
  const start = found === -1 ? 0 : found + 2
  const rest = url.slice(start)
  const end = rest.search(/[?#]/)
  const at = (end === -1 ? rest : rest.slice(0, end)).lastIndexOf('@')
  return at === -1 ? url : url.slice(0, start) + rest.slice(at + 1)
}

class FetchError extends Error {
  /**
   * @param {string} message
   * @param {{ code: string, url?: string, index?: number, attempts?: number, cause?: unknown, status?: number }} info
   */
  constructor (message, info) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause })
    this.name = info.code === 'ABORT_ERR' ? 'AbortError' : 'FetchError'
    this.code = info.code
    this.url = shownUrl(info.url)
    this.index = info.index
    this.attempts = info.attempts === undefined ? 0 : info.attempts
    if (info.status) this.status = info.status
  }
}

/** A Node-style input error: `new TypeError(message)` with `code`. */
function inputError (code, message, extra) {
  const Ctor = INPUT_ERRORS[code] || TypeError
  const err = new Ctor(message)
  err.code = code
  if (extra) {
    if (extra.index !== undefined) err.index = extra.index
    if (extra.url !== undefined) err.url = shownUrl(extra.url)
  }
  return err
}

function isInputCode (code) {
  return Object.prototype.hasOwnProperty.call(INPUT_ERRORS, code)
}

function abortError (reason, extra) {
  const err = new FetchError('The operation was aborted', {
    code: 'ABORT_ERR',
    cause: reason,
    url: extra && extra.url,
    index: extra && extra.index
  })
  return err
}

function describe (value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') {
    const name = value.constructor && value.constructor.name
    return name ? `an instance of ${name}` : 'an object'
  }
  let shown = String(value)
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return `type ${typeof value} (${typeof value === 'string' ? `'${shown}'` : shown})`
}

/** ERR_INVALID_ARG_TYPE, worded as Node words it. */
function invalidArgType (name, expected, actual) {
  return inputError('ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`)
}

function outOfRange (name, range, actual) {
  return inputError('ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`)
}

function invalidArgValue (name, actual, reason) {
  return inputError('ERR_INVALID_ARG_VALUE',
    `The argument '${name}' ${reason || 'is invalid'}. Received ${describe(actual)}`)
}

module.exports = {
  shownUrl,
  FetchError,
  inputError,
  isInputCode,
  abortError,
  invalidArgType,
  invalidArgValue,
  outOfRange
}
