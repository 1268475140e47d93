'use strict'

// The native batch path: map/each/eachOf/mapValues with fetchpool's own `fetch`
// as the iteratee, or with no iteratee at all, hand the whole collection to the
// Rust pool in one call (native.mapNative) instead of one JS call per item.

const { isArrayLike, isAsyncIterable, getIterator, ownKeys } = require('./collection')

// Shapes of the final callback's value.
const RESULTS = 0 // (err, results[])
const NONE = 1    // (err)
const VALUES = 2  // (err, { key: result })

function isNativeCall (native, iteratee) {
  return native != null && (iteratee === undefined || native.isNativeIteratee(iteratee) === true)
}

// Items and keys as the JS path would visit them: a Map gives [key, value]
// entries, an object its own values, null/undefined nothing. An array is
// copied: the pool reads it in parts over later turns, and the caller may
// refill it once the call is made.
function normalise (coll) {
  if (!coll) return { items: [], keys: null }
  if (isArrayLike(coll)) return { items: Array.isArray(coll) ? coll.slice() : Array.from(coll), keys: null }
  const iter = getIterator(coll)
  if (iter !== null) {
    const items = []
    for (let step = iter.next(); !step.done; step = iter.next()) items.push(step.value)
    return { items, keys: null }
  }
  const keys = ownKeys(coll)
  const items = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) items[i] = coll[keys[i]]
  return { items, keys }
}

async function collectAsync (coll) {
  const items = []
  for await (const item of coll) items.push(item)
  return { items, keys: null }
}

function deliver (shape, keys, callback) {
  return function nativeDone (err, results) {
    const error = err || null
    if (shape === NONE) {
      callback(error)
    } else if (shape === RESULTS) {
      callback(error, results)
    } else {
      const out = {}
      const n = results ? results.length : 0
      for (let i = 0; i < n; i++) {
        if (results[i] !== undefined) out[keys === null ? i : keys[i]] = results[i]
      }
      callback(error, out)
    }
  }
}

// `limit` is already validated (Infinity for the plain forms, 1 for Series).
// The iteratee (fetchpool's fetch, a client's fetch, or undefined) goes along
// so the core can pick the client it belongs to.
function runNative (native, coll, limit, shape, callback, iteratee) {
  if (!isArrayLike(coll) && isAsyncIterable(coll)) {
    collectAsync(coll).then(
      ({ items, keys }) => native.mapNative(items, limit, deliver(shape, keys, callback), iteratee),
      (err) => callback(err)
    )
    return
  }
  const { items, keys } = normalise(coll)
  native.mapNative(items, limit, deliver(shape, keys, callback), iteratee)
}

module.exports = { RESULTS, NONE, VALUES, isNativeCall, runNative }
