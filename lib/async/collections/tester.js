'use strict'

// detect, some and every: stop at the first item whose answer settles the
// question, and report it through `getResult`.

const { EACH_OF, runPlain, limitRunner } = require('../internal/engine')
const { breakLoop } = require('../internal/constants')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

function createTester (check, getResult) {
  function test (run, coll, iteratee, callback) {
    const fn = wrapAsync(iteratee)
    let passed = false
    let result
    run(coll, EACH_OF, (value, key, next) => {
      fn(value, (err, answer) => {
        if (err || err === false) return next(err)
        if (check(answer) && !result) {
          passed = true
          result = getResult(true, value)
          return next(null, breakLoop)
        }
        next()
      })
    }, null, (err) => {
      if (err) return callback(err)
      callback(null, passed ? result : getResult(false))
    })
  }
  return {
    plain: awaitify((coll, iteratee, callback) => test(runPlain, coll, iteratee, callback), 3),
    limit: awaitify((coll, limit, iteratee, callback) => test(limitRunner(limit), coll, iteratee, callback), 4),
    series: awaitify((coll, iteratee, callback) => test(limitRunner(1), coll, iteratee, callback), 3)
  }
}

module.exports = { createTester }
