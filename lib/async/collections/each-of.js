'use strict'

const { EACH_OF, runPlain, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { checkLimit } = require('../internal/errors')
const { awaitify } = require('../internal/awaitify')
const { isNativeCall, runNative, NONE } = require('../internal/native')

function createEachOf (native) {
  function eachOf (coll, iteratee, callback) {
    if (isNativeCall(native, iteratee)) return runNative(native, coll, Infinity, NONE, callback, iteratee)
    runPlain(coll, EACH_OF, wrapAsync(iteratee), null, callback)
  }
  function eachOfLimit (coll, limit, iteratee, callback) {
    if (isNativeCall(native, iteratee)) {
      checkLimit(limit)
      return runNative(native, coll, limit, NONE, callback, iteratee)
    }
    runLimit(coll, limit, EACH_OF, wrapAsync(iteratee), null, callback)
  }
  function eachOfSeries (coll, iteratee, callback) {
    eachOfLimit(coll, 1, iteratee, callback)
  }
  return {
    eachOf: awaitify(eachOf, 3),
    eachOfLimit: awaitify(eachOfLimit, 4),
    eachOfSeries: awaitify(eachOfSeries, 3)
  }
}

module.exports = { createEachOf }
