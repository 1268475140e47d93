'use strict'

// The async surface that fetchpool's index and its deep paths (fetchpool/<name>)
// share: one function per name, each module loaded on the first read of one of
// its names. Its native core is fetchpool's index, registered by the index
// itself when it loads; a deep path that never takes the native path (any
// iteratee but fetchpool's fetch) loads neither the HTTP client nor the addon.

const { createLoader } = require('./registry')

let core = null

/** Called by fetchpool's index with its native core. */
function provide (native) {
  core = native
}

function loadCore () {
  if (core === null) require('../../index.js')
  return core
}

// Until the index has loaded, no fetch of fetchpool's can exist, so nothing is
// a native iteratee; a call with no iteratee still goes native, as through the
// index, and loads it.
const lazyCore = {
  isNativeIteratee: (fn) => core !== null && core.isNativeIteratee(fn),
  mapNative: (items, limit, done, iteratee) => loadCore().mapNative(items, limit, done, iteratee),
  fetch: (request, callback) => loadCore().fetch(request, callback)
}

module.exports = { load: createLoader(lazyCore), provide }
