'use strict'

// async 3 defers with queueMicrotask where it exists (it does in Node 20):
// its `setImmediate`, ensureAsync, memoize hits and queue scheduling all run
// in a microtask. Keeping the same clock keeps callback order identical.
function setImmediateLike (fn, ...args) {
  if (args.length === 0) queueMicrotask(fn)
  else queueMicrotask(() => fn(...args))
}

function nextTick (fn, ...args) {
  process.nextTick(fn, ...args)
}

module.exports = { setImmediate: setImmediateLike, nextTick }
