'use strict'

const { MAP, runPlain, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { checkLimit } = require('../internal/errors')
const { awaitify } = require('../internal/awaitify')
const { isNativeCall, runNative, RESULTS } = require('../internal/native')
const { isArrayLike, isAsyncIterable } = require('../internal/collection')

// Preallocating is much faster than growing; the engine trims the array on
// error so partial results look exactly like async's.
function newResults (coll) {
  return isArrayLike(coll) ? new Array(coll.length) : []
}

// Pure-JS map, used by the public map family and by every function built on
// map (concat, groupBy, sortBy, times, applyEach), which never go native.
function mapPlain (coll, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  const results = newResults(coll)
  runPlain(coll || [], MAP, fn, results, (err) => callback(err, results))
}

function mapLimited (coll, limit, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  // A limited run reads an async-iterable array through its iterator, which
  // may yield fewer items than the array's length: grow the results then.
  const results = isAsyncIterable(coll) ? [] : newResults(coll)
  runLimit(coll || [], limit, MAP, fn, results, (err) => callback(err, results))
}

function createMap (native) {
  function map (coll, iteratee, callback) {
    if (isNativeCall(native, iteratee)) return runNative(native, coll, Infinity, RESULTS, callback, iteratee)
    mapPlain(coll, iteratee, callback)
  }
  function mapLimit (coll, limit, iteratee, callback) {
    if (isNativeCall(native, iteratee)) {
      checkLimit(limit)
      return runNative(native, coll, limit, RESULTS, callback, iteratee)
    }
    mapLimited(coll, limit, iteratee, callback)
  }
  function mapSeries (coll, iteratee, callback) {
    mapLimit(coll, 1, iteratee, callback)
  }
  return {
    map: awaitify(map, 3),
    mapLimit: awaitify(mapLimit, 4),
    mapSeries: awaitify(mapSeries, 3)
  }
}

module.exports = { createMap, mapPlain, mapLimited }
