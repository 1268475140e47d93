'use strict'

const { mapPlain } = require('./map')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

function byCriteria (left, right) {
  const a = left.criteria
  const b = right.criteria
  return a < b ? -1 : a > b ? 1 : 0
}

function sortBy (coll, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  mapPlain(coll, (value, next) => {
    fn(value, (err, criteria) => {
      if (err) return next(err)
      next(err, { value, criteria })
    })
  }, (err, pairs) => {
    if (err) return callback(err)
    pairs.sort(byCriteria)
    const sorted = new Array(pairs.length)
    for (let i = 0; i < pairs.length; i++) sorted[i] = pairs[i].value
    callback(null, sorted)
  })
}

module.exports = { sortBy: awaitify(sortBy, 3) }
