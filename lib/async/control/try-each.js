'use strict'

const { EACH, runLimit } = require('../internal/engine')
const { wrapAsync } = require('../internal/wrap-async')
const { awaitify } = require('../internal/awaitify')

const stop = {}

// Runs tasks in order until one succeeds; reports that one's result, or the
// last error.
function tryEach (tasks, callback) {
  let error = null
  let result
  runLimit(tasks, 1, EACH, (task, next) => {
    wrapAsync(task)((err, ...values) => {
      if (err === false) return next(err)
      result = values.length < 2 ? values[0] : values
      error = err
      // A success ends the series through the error channel.
      next(err ? null : stop)
    })
  }, null, () => callback(error, result))
}

module.exports = { tryEach: awaitify(tryEach, 2) }
