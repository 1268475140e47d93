'use strict'

const { wrapAsync } = require('../internal/wrap-async')
const { once } = require('../internal/once')
const { awaitify } = require('../internal/awaitify')

// The first task to call back decides the outcome, error or not.
function race (tasks, callback) {
  callback = once(callback)
  if (!Array.isArray(tasks)) {
    return callback(new TypeError('First argument to race must be an array of functions'))
  }
  if (!tasks.length) return callback()
  for (let i = 0; i < tasks.length; i++) wrapAsync(tasks[i])(callback)
}

module.exports = { race: awaitify(race, 2) }
