'use strict'

const { createQueue } = require('../internal/queue')
const { wrapAsync } = require('../internal/wrap-async')

// Lower priority numbers run first; equal priorities run in push order.
function priorityQueue (worker, concurrency) {
  const q = createQueue(wrapAsync(worker), concurrency, 1, { single: true, priority: true })
  const { push, pushAsync } = q

  function items (data, priority) {
    if (!Array.isArray(data)) return { data, priority }
    return data.map((datum) => ({ data: datum, priority }))
  }

  q.push = function pushWithPriority (data, priority = 0, callback) {
    return push(items(data, priority), callback)
  }
  q.pushAsync = function pushAsyncWithPriority (data, priority = 0, callback) {
    return pushAsync(items(data, priority), callback)
  }
  delete q.unshift
  delete q.unshiftAsync
  return q
}

module.exports = { priorityQueue }
