'use strict'

// The value a Promise resolves with, from a Node-style callback's arguments.
function settle (resolve, reject) {
  return function settleCallback (err, ...values) {
    if (err) reject(err)
    else resolve(values.length > 1 ? values : values[0])
  }
}

// Callback mode when the argument at position `arity - 1` is a function, else a
// Promise. In callback mode nothing is allocated and undefined is returned.
function awaitify (fn, arity) {
  const last = arity - 1
  return function awaitable (...args) {
    if (typeof args[last] === 'function') {
      fn.apply(this, args)
      return undefined
    }
    return new Promise((resolve, reject) => {
      args[last] = settle(resolve, reject)
      fn.apply(this, args)
    })
  }
}

// For functions whose arity floats (auto, retry, transform, seq): a callback
// that carries the Promise it settles.
function promiseCallback () {
  let callback
  const promise = new Promise((resolve, reject) => {
    callback = settle(resolve, reject)
  })
  callback.promise = promise
  return callback
}

module.exports = { awaitify, promiseCallback }
