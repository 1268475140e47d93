'use strict'

// The async v3 drop-in surface. `createAsync(native)` builds it; `native` is
// fetchpool's core (see the README, "The async surface") and only changes the
// map/each/eachOf/mapValues families and queue(): with fetchpool's `fetch` as
// the iteratee (or no iteratee, or no queue worker) they run on the native
// pool. Without `native` the surface is pure JavaScript and behaves as async
// 3.2.6.

const { createLoader, ALIASES, NAMES } = require('./registry')

function createAsync (native) {
  if (native != null) {
    for (const name of ['isNativeIteratee', 'mapNative', 'fetch']) {
      if (typeof native[name] !== 'function') {
        throw new TypeError(`createAsync: native.${name} must be a function`)
      }
    }
  }
  const load = createLoader(native)
  const surface = {}
  for (const name of NAMES) surface[name] = load(name)
  return surface
}

// require('./lib/async') is itself a pure-JS async drop-in, plus the factory.
module.exports = Object.assign(createAsync(null), { createAsync, ALIASES })
