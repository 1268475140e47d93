'use strict'

const { createQueue } = require('../internal/queue')
const { wrapAsync } = require('../internal/wrap-async')

// queue(worker, [concurrency]); with a native pool and no worker, each task is
// a request fetched on fetchpool's pool.
function createQueueFactory (native) {
  return function queue (worker, concurrency) {
    const fn = worker == null && native != null
      ? (request, callback) => native.fetch(request, callback)
      : wrapAsync(worker)
    return createQueue(fn, concurrency, 1, { single: true })
  }
}

// cargo(worker, [payload]): one worker at a time, given up to `payload` tasks.
function cargo (worker, payload) {
  return createQueue(wrapAsync(worker), 1, payload, {})
}

// cargoQueue(worker, [concurrency], [payload]).
function cargoQueue (worker, concurrency, payload) {
  return createQueue(wrapAsync(worker), concurrency, payload, {})
}

module.exports = { createQueueFactory, cargo, cargoQueue }
