'use strict'

const { EACH_OF, runPlain, limitRunner } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')
const { isArrayLike } = require('../internal/collection')

// Array-likes: remember a truth value per index, keep input order.
function filterArray (run, arr, fn, keep, callback) {
  const truth = new Array(arr.length)
  run(arr, EACH_OF, (value, index, next) => {
    fn(value, (err, v) => {
      truth[index] = keep === Boolean(v)
      next(err)
    })
  }, null, (err) => {
    if (err) return callback(err)
    const results = []
    for (let i = 0; i < arr.length; i++) {
      if (truth[i]) results.push(arr[i])
    }
    callback(null, results)
  })
}

// Anything else: collect the kept items with their keys and sort by key, which
// is async's rule (numeric keys sort, string keys keep completion order).
function filterGeneric (run, coll, fn, keep, callback) {
  const kept = []
  run(coll, EACH_OF, (value, index, next) => {
    fn(value, (err, v) => {
      if (err) return next(err)
      if (keep === Boolean(v)) kept.push({ index, value })
      next(err)
    })
  }, null, (err) => {
    if (err) return callback(err)
    kept.sort((a, b) => a.index - b.index)
    const results = new Array(kept.length)
    for (let i = 0; i < kept.length; i++) results[i] = kept[i].value
    callback(null, results)
  })
}

function filterWith (run, coll, iteratee, keep, callback) {
  const fn = wrapAsync(iteratee)
  if (isArrayLike(coll)) filterArray(run, coll, fn, keep, callback)
  else filterGeneric(run, coll, fn, keep, callback)
}

// keep: true for filter, false for reject.
function createFilterFamily (keep) {
  return {
    plain: awaitify((coll, iteratee, callback) => filterWith(runPlain, coll, iteratee, keep, callback), 3),
    limit: awaitify((coll, limit, iteratee, callback) =>
      filterWith(limitRunner(limit), coll, iteratee, keep, callback), 4),
    series: awaitify((coll, iteratee, callback) =>
      filterWith(limitRunner(1), coll, iteratee, keep, callback), 3)
  }
}

const filters = createFilterFamily(true)
const rejects = createFilterFamily(false)

module.exports = {
  filter: filters.plain,
  filterLimit: filters.limit,
  filterSeries: filters.series,
  reject: rejects.plain,
  rejectLimit: rejects.limit,
  rejectSeries: rejects.series
}
