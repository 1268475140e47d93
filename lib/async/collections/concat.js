'use strict'

const { mapLimited } = require('./map')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

// Every value an iteratee passes is kept, and arrays among them are flattened
// one level; on error the callback still gets what was concatenated so far.
function concatLimit (coll, limit, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  mapLimited(coll, limit, (value, next) => {
    fn(value, (err, ...values) => {
      if (err) return next(err)
      next(err, values)
    })
  }, (err, groups) => {
    let result = []
    for (let i = 0; i < groups.length; i++) {
      if (groups[i]) result = result.concat(...groups[i])
    }
    callback(err, result)
  })
}

module.exports = {
  concat: awaitify((coll, iteratee, callback) => concatLimit(coll, Infinity, iteratee, callback), 3),
  concatLimit: awaitify(concatLimit, 4),
  concatSeries: awaitify((coll, iteratee, callback) => concatLimit(coll, 1, iteratee, callback), 3)
}
