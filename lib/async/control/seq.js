'use strict'

const { EACH_OF, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { promiseCallback } = require('../internal/awaitify')

// seq(f, g, h)(...args, [cb]): h(g(f(...args))); each function passes its
// values on to the next one.
function seq (...functions) {
  const fns = functions.map(wrapAsync)
  return function composed (...args) {
    const that = this
    let cb = args[args.length - 1]
    let pc = null
    if (typeof cb === 'function') {
      args.pop()
    } else {
      pc = promiseCallback()
      cb = pc
    }
    let memo = args
    runLimit(fns, 1, EACH_OF, (fn, index, next) => {
      fn.apply(that, memo.concat((err, ...values) => {
        memo = values
        next(err)
      }))
    }, null, (err) => cb(err, ...memo))
    return pc === null ? undefined : pc.promise
  }
}

function compose (...functions) {
  return seq(...functions.reverse())
}

module.exports = { seq, compose }
