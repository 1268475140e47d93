'use strict'

const { wrapAsync } = require('../internal/wrap-async')
const { once, onlyOnce } = require('../internal/once')
const { awaitify } = require('../internal/awaitify')
const { nester } = require('../internal/nest')

// Each task gets the values the previous one passed. The next task starts
// inside the previous task's callback, as in async (see internal/nest).
function waterfall (tasks, callback) {
  callback = once(callback)
  if (!Array.isArray(tasks)) {
    return callback(new Error('First argument to waterfall must be an array of functions'))
  }
  if (!tasks.length) return callback()
  let index = 0
  const nest = nester()

  function nextTask (args) {
    const task = wrapAsync(tasks[index++])
    task(...args, onlyOnce(next))
  }

  function next (err, ...values) {
    if (err === false) return
    if (err || index === tasks.length) {
      callback(err, ...values)
      return
    }
    nest(() => nextTask(values))
  }

  nest(() => nextTask([]))
}

module.exports = { waterfall: awaitify(waterfall, 2) }
