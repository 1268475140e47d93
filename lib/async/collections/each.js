'use strict'

const { EACH, runPlain, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { checkLimit } = require('../internal/errors')
const { awaitify } = require('../internal/awaitify')
const { isNativeCall, runNative, NONE } = require('../internal/native')

function createEach (native) {
  function each (coll, iteratee, callback) {
    if (isNativeCall(native, iteratee)) return runNative(native, coll, Infinity, NONE, callback, iteratee)
    runPlain(coll, EACH, wrapAsync(iteratee), null, callback)
  }
  function eachLimit (coll, limit, iteratee, callback) {
    if (isNativeCall(native, iteratee)) {
      checkLimit(limit)
      return runNative(native, coll, limit, NONE, callback, iteratee)
    }
    runLimit(coll, limit, EACH, wrapAsync(iteratee), null, callback)
  }
  function eachSeries (coll, iteratee, callback) {
    eachLimit(coll, 1, iteratee, callback)
  }
  return {
    each: awaitify(each, 3),
    eachLimit: awaitify(eachLimit, 4),
    eachSeries: awaitify(eachSeries, 3)
  }
}

module.exports = { createEach }
