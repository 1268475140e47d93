'use strict'

const { wrapAsync } = require('../internal/wrap-async')
const { once, onlyOnce } = require('../internal/once')
const { promiseCallback } = require('../internal/awaitify')
const { nester } = require('../internal/nest')

// auto(tasks, [concurrency], [callback]). A task is a function, or an array of
// dependency names ending with a function that gets (results, callback).
// A factory of closures over one run's state (each of them short); as one
// function it reads as async's own auto does.
// eslint-disable-next-line max-lines-per-function
function auto (tasks, concurrency, callback) {
  if (typeof concurrency !== 'number') {
    callback = concurrency
    concurrency = null
  }
  const pc = callback ? null : promiseCallback()
  const done = once(callback || pc)
  const promise = pc === null ? undefined : pc.promise

  const keys = Object.keys(tasks)
  const total = keys.length
  if (!total) {
    done(null)
    return promise
  }
  if (!concurrency) concurrency = total

  const results = {}
  const ready = []                         // keys whose dependencies are met, FIFO
  const remaining = Object.create(null)    // key -> dependencies not yet done
  let dependents = Object.create(null)     // key -> keys waiting on it (one entry per edge)
  let running = 0
  let canceled = false
  let hasError = false

  for (const key of keys) {
    const task = tasks[key]
    const deps = Array.isArray(task) ? task.slice(0, -1) : []
    if (deps.length === 0) {
      ready.push(key)
      continue
    }
    remaining[key] = deps.length
    for (const dep of deps) {
      if (!tasks[dep]) {
        throw new Error(`async.auto task \`${key}\` has a non-existent dependency \`${dep}\` in ${deps.join(', ')}`)
      }
      (dependents[dep] || (dependents[dep] = [])).push(key)
    }
  }
  checkForCycles()

  const nest = nester()
  nest(processQueue)
  return promise

  // Kahn's algorithm over a copy of the counts: every task must be reachable.
  function checkForCycles () {
    const counts = Object.assign(Object.create(null), remaining)
    const stack = ready.slice()
    let seen = 0
    while (stack.length) {
      const key = stack.pop()
      seen++
      for (const dependent of dependents[key] || []) {
        if (--counts[dependent] === 0) stack.push(dependent)
      }
    }
    if (seen !== total) {
      throw new Error('async.auto cannot execute tasks due to a recursive dependency')
    }
  }

  // A task that calls back synchronously runs what it made ready inside its
  // callback, as in async (see internal/nest).
  function processQueue () {
    if (canceled) return
    if (ready.length === 0 && running === 0) {
      done(null, results)
      return
    }
    while (ready.length && running < concurrency) runTask(ready.shift())
  }

  function runTask (key) {
    if (hasError) return
    const task = tasks[key]
    const withDeps = Array.isArray(task) && task.length > 1
    running++
    const fn = wrapAsync(Array.isArray(task) ? task[task.length - 1] : task)
    const cb = onlyOnce((err, ...values) => {
      running--
      if (err === false) {
        canceled = true
        return
      }
      const value = values.length < 2 ? values[0] : values
      if (err) {
        const partial = Object.assign({}, results)
        partial[key] = value
        hasError = true
        dependents = Object.create(null)
        if (!canceled) done(err, partial)
        return
      }
      results[key] = value
      for (const dependent of dependents[key] || []) {
        if (--remaining[dependent] === 0) ready.push(dependent)
      }
      nest(processQueue)
    })
    if (withDeps) fn(results, cb)
    else fn(cb)
  }
}

module.exports = { auto }
