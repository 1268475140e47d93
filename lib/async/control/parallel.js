'use strict'

const { TASK, runPlain, runLimit } = require('../internal/engine')
const { awaitify } = require('../internal/awaitify')
const { isArrayLike } = require('../internal/collection')

// Tasks in an array-like give an array of results, an object of tasks gives an
// object; a task passing several values gets an array of them.
function newResults (tasks) {
  return isArrayLike(tasks) ? new Array(tasks.length) : {}
}

function parallel (tasks, callback) {
  const results = newResults(tasks)
  runPlain(tasks, TASK, null, results, (err) => callback(err, results))
}

function parallelLimit (tasks, limit, callback) {
  const results = newResults(tasks)
  runLimit(tasks, limit, TASK, null, results, (err) => callback(err, results))
}

function series (tasks, callback) {
  parallelLimit(tasks, 1, callback)
}

module.exports = {
  parallel: awaitify(parallel, 2),
  parallelLimit: awaitify(parallelLimit, 3),
  series: awaitify(series, 2)
}
