'use strict'

// Continuations run inside the callback that triggers them, as in async: when a
// task calls back synchronously, the rest of the chain runs before the code
// after its `callback()` call. async itself overflows the stack after about
// 2,000 such steps; past MAX_DEPTH nested steps, the next one waits until the
// current step returns, so a long synchronous chain runs in bounded stack (the
// one place where the order of the caller's own code can differ from async's).
const MAX_DEPTH = 1000

function nester () {
  let depth = 0
  let queued = null
  return function run (step) {
    if (depth >= MAX_DEPTH) {
      queued = step
      return
    }
    depth++
    try {
      step()
      while (queued !== null) {
        const next = queued
        queued = null
        next()
      }
    } finally {
      depth--
    }
  }
}

module.exports = { nester, MAX_DEPTH }
