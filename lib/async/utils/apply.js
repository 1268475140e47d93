'use strict'

// apply(fn, ...args): a task that calls fn with args and then its own arguments.
function apply (fn, ...args) {
  return (...callArgs) => fn(...args, ...callArgs)
}

module.exports = { apply }
