'use strict'

const { mapLimited } = require('./map')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

const hasOwn = Object.prototype.hasOwnProperty

function groupByLimit (coll, limit, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  mapLimited(coll, limit, (value, next) => {
    fn(value, (err, key) => {
      if (err) return next(err)
      next(err, { key, value })
    })
  }, (err, pairs) => {
    const groups = {}
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i]
      if (!pair) continue
      if (hasOwn.call(groups, pair.key)) groups[pair.key].push(pair.value)
      else groups[pair.key] = [pair.value]
    }
    callback(err, groups)
  })
}

module.exports = {
  groupBy: awaitify((coll, iteratee, callback) => groupByLimit(coll, Infinity, iteratee, callback), 3),
  groupByLimit: awaitify(groupByLimit, 4),
  groupBySeries: awaitify((coll, iteratee, callback) => groupByLimit(coll, 1, iteratee, callback), 3)
}
