'use strict'

const { wrapAsync } = require('../internal/wrap-async')

// reflect(fn): a function that always succeeds, with { error } and/or { value }.
function reflect (fn) {
  const wrapped = wrapAsync(fn)
  return function reflected (...args) {
    const reflectCallback = args.pop()
    args.push((error, ...values) => {
      const outcome = {}
      if (error) outcome.error = error
      if (values.length > 0) outcome.value = values.length <= 1 ? values[0] : values
      reflectCallback(null, outcome)
    })
    return wrapped.apply(this, args)
  }
}

function reflectAll (tasks) {
  if (Array.isArray(tasks)) return tasks.map((task) => reflect(task))
  const out = {}
  for (const key of Object.keys(tasks)) out[key] = reflect(tasks[key])
  return out
}

module.exports = { reflect, reflectAll }
