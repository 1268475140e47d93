'use strict'

const { wrapAsync } = require('../internal/wrap-async')
const { onlyOnce } = require('../internal/once')
const { awaitify } = require('../internal/awaitify')
const { ensureAsync } = require('../utils/ensure-async')

// Calls fn(next) until it passes an error; as in async, synchronous calls are
// deferred (ensureAsync), so the stack never grows.
function forever (fn, errback) {
  const done = onlyOnce(errback)
  const task = wrapAsync(ensureAsync(fn))
  function next (err) {
    if (err) return done(err)
    if (err === false) return
    task(next)
  }
  next()
}

module.exports = { forever: awaitify(forever, 2) }
