'use strict'

const { mapPlain, mapLimited } = require('../collections/map')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

// applyEach(fns, ...args) returns go([callback]) that calls every fn with args.
function createApplyEach (eachfn) {
  return function applyEach (fns, ...callArgs) {
    return awaitify(function go (callback) {
      const that = this
      eachfn(fns, (fn, cb) => {
        wrapAsync(fn).apply(that, callArgs.concat(cb))
      }, callback)
    }, 1)
  }
}

module.exports = {
  applyEach: createApplyEach(mapPlain),
  applyEachSeries: createApplyEach((coll, fn, cb) => mapLimited(coll, 1, fn, cb))
}
