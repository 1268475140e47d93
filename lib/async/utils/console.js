'use strict'

const { wrapAsync } = require('../internal/wrap-async')

// log/dir: call fn and print each value it passes (console.log / console.dir),
// or its error with console.error.
function consoleFunc (name) {
  return (fn, ...args) => wrapAsync(fn)(...args, (err, ...values) => {
    if (typeof console !== 'object') return
    if (err) {
      if (console.error) console.error(err)
    } else if (console[name]) {
      for (const value of values) console[name](value)
    }
  })
}

module.exports = { log: consoleFunc('log'), dir: consoleFunc('dir') }
