'use strict'

const { wrapAsync, isAsync } = require('../internal/wrap-async')
const { promiseCallback } = require('../internal/awaitify')

const DEFAULT_TIMES = 5
const DEFAULT_INTERVAL = 0

function invalid () {
  return new Error('Invalid arguments for async.retry')
}

function parseOptions (opts) {
  const options = { times: DEFAULT_TIMES, interval: () => DEFAULT_INTERVAL, errorFilter: undefined }
  if (typeof opts === 'object' && opts !== null) {
    options.times = +opts.times || DEFAULT_TIMES
    if (typeof opts.interval === 'function') {
      options.interval = opts.interval
    } else {
      const ms = +opts.interval || DEFAULT_INTERVAL
      options.interval = () => ms
    }
    options.errorFilter = opts.errorFilter
  } else if (typeof opts === 'number' || typeof opts === 'string') {
    options.times = +opts || DEFAULT_TIMES
  } else {
    throw invalid()
  }
  return options
}

// retry([opts], task, [callback]): opts is a count or { times, interval, errorFilter };
// interval may be a function of the retry count. Waits use setTimeout, as async.
function retry (opts, task, callback) {
  let options
  if (arguments.length < 3 && typeof opts === 'function') {
    callback = task
    task = opts
    options = parseOptions(DEFAULT_TIMES)
  } else {
    options = parseOptions(opts)
  }
  const pc = callback ? null : promiseCallback()
  const done = callback || pc
  if (typeof task !== 'function') throw invalid()
  const fn = wrapAsync(task)
  let attempt = 1

  function retryAttempt () {
    fn((err, ...values) => {
      if (err === false) return
      if (err && attempt++ < options.times &&
          (typeof options.errorFilter !== 'function' || options.errorFilter(err))) {
        setTimeout(retryAttempt, options.interval(attempt - 1))
      } else {
        done(err, ...values)
      }
    })
  }

  retryAttempt()
  return pc === null ? undefined : pc.promise
}

// retryable([opts], task): a function that retries `task` with its arguments.
// As in async, a call with fewer arguments than the task takes, or with no
// callback last, returns a Promise; any other call returns undefined.
function retryable (opts, task) {
  if (!task) {
    task = opts
    opts = null
  }
  let arity = (opts && opts.arity) || task.length
  if (isAsync(task)) arity += 1
  const fn = wrapAsync(task)
  return function retrying (...args) {
    let callback = args.pop()
    let pc = null
    if (args.length < arity - 1 || callback == null) {
      args.push(callback)
      callback = pc = promiseCallback()
    }
    const attempt = (cb) => fn(...args, cb)
    if (opts) retry(opts, attempt, callback)
    else retry(attempt, callback)
    return pc === null ? undefined : pc.promise
  }
}

module.exports = { retry, retryable }
