'use strict'

const { EACH_OF, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

// In series; the memo is whatever the last iteratee passed, even on error.
function reduce (coll, memo, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  runLimit(coll, 1, EACH_OF, (value, key, next) => {
    fn(memo, value, (err, v) => {
      memo = v
      next(err)
    })
  }, null, (err) => callback(err, memo))
}

function reduceRight (array, memo, iteratee, callback) {
  reduce([...array].reverse(), memo, iteratee, callback)
}

module.exports = {
  reduce: awaitify(reduce, 4),
  reduceRight: awaitify(reduceRight, 4)
}
