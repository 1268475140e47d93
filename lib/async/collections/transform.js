'use strict'

const { EACH_OF, runPlain } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { once } = require('../internal/once')
const { promiseCallback } = require('../internal/awaitify')

// transform(coll, [accumulator], iteratee, [callback]); the accumulator defaults
// to [] for arrays and {} otherwise.
function transform (coll, accumulator, iteratee, callback) {
  if (arguments.length <= 3 && typeof accumulator === 'function') {
    callback = iteratee
    iteratee = accumulator
    accumulator = Array.isArray(coll) ? [] : {}
  }
  const pc = callback ? null : promiseCallback()
  const done = once(callback || pc)
  const fn = wrapAsync(iteratee)
  runPlain(coll, EACH_OF, (value, key, next) => {
    fn(accumulator, value, key, next)
  }, null, (err) => done(err, accumulator))
  return pc === null ? undefined : pc.promise
}

module.exports = { transform }
