'use strict'

const { mapLimited } = require('../collections/map')
const { range } = require('../internal/collection')
const { awaitify } = require('../internal/awaitify')

// iteratee(n, next) for n = 0 .. count-1; results in order.
function timesLimit (count, limit, iteratee, callback) {
  mapLimited(range(count), limit, iteratee, callback)
}

module.exports = {
  times: awaitify((count, iteratee, callback) => timesLimit(count, Infinity, iteratee, callback), 3),
  timesLimit: awaitify(timesLimit, 4),
  timesSeries: awaitify((count, iteratee, callback) => timesLimit(count, 1, iteratee, callback), 3)
}
