'use strict'

const { wrapAsync } = require('../internal/wrap-async')

// timeout(fn, ms, [info]): calls back with an ETIMEDOUT error if fn has not
// called back within ms; a later call from fn is then ignored.
function timeout (asyncFn, milliseconds, info) {
  const fn = wrapAsync(asyncFn)
  return function timed (...args) {
    const callback = args.pop()
    let timedOut = false
    const timer = setTimeout(() => {
      const error = new Error(`Callback function "${asyncFn.name || 'anonymous'}" timed out.`)
      error.code = 'ETIMEDOUT'
      if (info) error.info = info
      timedOut = true
      callback(error)
    }, milliseconds)
    args.push((...values) => {
      if (timedOut) return
      clearTimeout(timer)
      callback(...values)
    })
    fn(...args)
  }
}

module.exports = { timeout }
