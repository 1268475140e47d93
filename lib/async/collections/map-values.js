'use strict'

const { EACH_OF, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { checkLimit } = require('../internal/errors')
const { awaitify } = require('../internal/awaitify')
const { isNativeCall, runNative, VALUES } = require('../internal/native')

// Like async, mapValues always walks keys (an array gives { 0: .., 1: .. }) and
// stores a value only when its iteratee succeeded.
function mapValuesLimited (obj, limit, iteratee, callback) {
  const fn = wrapAsync(iteratee)
  const out = {}
  runLimit(obj, limit, EACH_OF, (value, key, next) => {
    fn(value, key, (err, result) => {
      if (err) return next(err)
      out[key] = result
      next(err)
    })
  }, null, (err) => callback(err, out))
}

function createMapValues (native) {
  function mapValuesLimit (obj, limit, iteratee, callback) {
    if (isNativeCall(native, iteratee)) {
      checkLimit(limit)
      return runNative(native, obj, limit, VALUES, callback, iteratee)
    }
    mapValuesLimited(obj, limit, iteratee, callback)
  }
  return {
    mapValues: awaitify((obj, iteratee, callback) => mapValuesLimit(obj, Infinity, iteratee, callback), 3),
    mapValuesLimit: awaitify(mapValuesLimit, 4),
    mapValuesSeries: awaitify((obj, iteratee, callback) => mapValuesLimit(obj, 1, iteratee, callback), 3)
  }
}

module.exports = { createMapValues }
