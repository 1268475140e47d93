'use strict'

const { wrapAsync } = require('../internal/wrap-async')

// memoize(fn, [hasher]): results are cached by hasher(...args) (default: the
// first argument); concurrent calls with one key share one call of fn; errors
// are not cached; a cache hit calls back in a microtask, never synchronously.
function memoize (fn, hasher = (v) => v) {
  const memo = Object.create(null)
  const queues = Object.create(null)
  const wrapped = wrapAsync(fn)
  function memoized (...args) {
    const callback = args.pop()
    const key = hasher(...args)
    if (key in memo) {
      queueMicrotask(() => callback(null, ...memo[key]))
    } else if (key in queues) {
      queues[key].push(callback)
    } else {
      queues[key] = [callback]
      wrapped(...args, (err, ...values) => {
        if (!err) memo[key] = values
        const waiting = queues[key]
        delete queues[key]
        for (let i = 0; i < waiting.length; i++) waiting[i](err, ...values)
      })
    }
  }
  memoized.memo = memo
  memoized.unmemoized = fn
  return memoized
}

function unmemoize (fn) {
  return (...args) => (fn.unmemoized || fn)(...args)
}

module.exports = { memoize, unmemoize }
