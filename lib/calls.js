'use strict'

const { invalidArgType } = require('./errors')

// The calling conventions every public call shares: a list of requests as an
// array or iterable, `(args…, [options], [callback])`, and the callback or
// Promise style over one implementation.

/**
 * The call's own list of requests. An array is copied: a call reads its
 * items in parts over later turns, and the caller may refill the array.
 */
function toArray (requests, name = 'requests') {
  if (Array.isArray(requests)) return requests.slice()
  if (requests !== null && typeof requests === 'object' && typeof requests[Symbol.iterator] === 'function' &&
      typeof requests !== 'string') {
    return Array.from(requests)
  }
  throw invalidArgType(name, 'an array or an iterable of requests', requests)
}

/** Splits `(args…, [options], [callback])`. */
function tail (options, callback) {
  if (typeof options === 'function' && callback === undefined) return [undefined, options]
  if (callback !== undefined && typeof callback !== 'function') {
    throw invalidArgType('callback', 'of type function', callback)
  }
  return [options, callback]
}

/**
 * Runs `start(done)` in callback or Promise style. Input errors thrown by
 * `start` are thrown in callback style and reject in Promise style.
 */
function run (callback, start) {
  if (callback !== undefined) {
    start((err, value) => process.nextTick(callback, err, value))
    return undefined
  }
  return new Promise((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)))
  })
}

module.exports = { toArray, tail, run }
