'use strict'

// whilst, doWhilst, until and doUntil. The test and the body alternate, each
// started inside the other's callback as in async (see internal/nest). The
// final callback gets the values the last body call passed.

const { wrapAsync } = require('../internal/wrap-async')
const { onlyOnce } = require('../internal/once')
const { awaitify } = require('../internal/awaitify')
const { nester } = require('../internal/nest')

function whilst (test, iteratee, callback) {
  callback = onlyOnce(callback)
  const body = wrapAsync(iteratee)
  const check = wrapAsync(test)
  const schedule = nester()
  let results = []

  const runTest = () => check(afterTest)
  const runBody = () => body(afterBody)

  function afterBody (err, ...values) {
    if (err) return callback(err)
    results = values
    if (err === false) return
    schedule(runTest)
  }

  function afterTest (err, truth) {
    if (err) return callback(err)
    if (err === false) return
    if (!truth) return callback(null, ...results)
    schedule(runBody)
  }

  schedule(runTest)
}

function doWhilst (iteratee, test, callback) {
  callback = onlyOnce(callback)
  const body = wrapAsync(iteratee)
  const check = wrapAsync(test)
  const schedule = nester()
  let results

  const runBody = () => body(afterBody)
  const runTest = () => check(...results, afterTest)

  function afterBody (err, ...values) {
    if (err) return callback(err)
    if (err === false) return
    results = values
    schedule(runTest)
  }

  function afterTest (err, truth) {
    if (err) return callback(err)
    if (err === false) return
    if (!truth) return callback(null, ...results)
    schedule(runBody)
  }

  schedule(runBody)
}

const whilstAwaitable = awaitify(whilst, 3)
const doWhilstAwaitable = awaitify(doWhilst, 3)

function until (test, iteratee, callback) {
  const check = wrapAsync(test)
  return whilstAwaitable((cb) => check((err, truth) => cb(err, !truth)), iteratee, callback)
}

function doUntil (iteratee, test, callback) {
  const check = wrapAsync(test)
  return doWhilstAwaitable(iteratee, (...args) => {
    const cb = args.pop()
    check(...args, (err, truth) => cb(err, !truth))
  }, callback)
}

module.exports = { whilst: whilstAwaitable, doWhilst: doWhilstAwaitable, until, doUntil }
