'use strict'

// constant(...values): a function that ignores its arguments and calls back
// with the values; handy as the first task of a waterfall.
function constant (...values) {
  return function constantFn (...ignored) {
    const callback = ignored.pop()
    return callback(null, ...values)
  }
}

module.exports = { constant }
