'use strict'

const { expectedFunction } = require('./errors')

function isAsync (fn) {
  return fn[Symbol.toStringTag] === 'AsyncFunction'
}

// A rejection with a falsy or non-Error value becomes an Error, so that it still
// counts as a failure when it reaches a Node-style callback.
function toError (reason) {
  return reason && (reason instanceof Error || reason.message) ? reason : new Error(reason)
}

function rethrowLater (err) {
  queueMicrotask(() => { throw err })
}

// Calls back outside the promise chain's try/catch: an exception thrown by the
// user's callback must surface as uncaught, not as a second rejection. A
// rejection calls back with two arguments, (err, undefined), as async does:
// reflect, waterfall and the like pass on what they were given, so the arity
// is visible.
function settleFromPromise (promise, callback) {
  return promise.then((value) => {
    try { callback(null, value) } catch (err) { rethrowLater(err) }
  }, (reason) => {
    try { callback(toError(reason), undefined) } catch (err) { rethrowLater(err) }
  })
}

// The last argument is the callback; the rest go to fn.
function asyncify (fn) {
  if (isAsync(fn)) {
    return function asyncified (...args) {
      const callback = args.pop()
      return settleFromPromise(fn.apply(this, args), callback)
    }
  }
  return function asyncified (...args) {
    const callback = args.pop()
    let result
    try {
      result = fn.apply(this, args)
    } catch (err) {
      return callback(err)
    }
    if (result && typeof result.then === 'function') {
      return settleFromPromise(result, callback)
    }
    return callback(null, result)
  }
}

// AsyncFunctions get no callback: their promise is used. Every other function
// is callback style, whatever it returns (see the README, "The async surface").
function wrapAsync (fn) {
  if (typeof fn !== 'function') throw expectedFunction()
  return isAsync(fn) ? asyncify(fn) : fn
}

module.exports = { isAsync, wrapAsync, asyncify, toError }
