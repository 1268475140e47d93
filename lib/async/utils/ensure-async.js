'use strict'

const { isAsync } = require('../internal/wrap-async')

// Defers the callback (in a microtask, as async) when fn calls it synchronously.
function ensureAsync (fn) {
  if (isAsync(fn)) return fn
  return function ensured (...args) {
    const callback = args.pop()
    let sync = true
    args.push((...values) => {
      if (sync) queueMicrotask(() => callback(...values))
      else callback(...values)
    })
    fn.apply(this, args)
    sync = false
  }
}

module.exports = { ensureAsync }
