'use strict'

// fetchpool's public API: the native calls on a default client, the Client
// class, the errors, and the async-compatible surface whose map/each family
// and queue go native when given fetchpool's own `fetch`.

const { Client, isNativeFetch, clientOfFetch } = require('./lib/client')
const { FetchError } = require('./lib/errors')
const { Response } = require('./lib/response')
const { timeline } = require('./lib/timeline')
const ASYNC_NAMES = require('./lib/async/names')

let defaultClient = null

/** The client behind the module-level functions, made on first use. */
function getDefaultClient () {
  if (defaultClient === null) defaultClient = new Client()
  return defaultClient
}

function fetch (request, options, callback) {
  return getDefaultClient().fetch(request, options, callback)
}

function gather (requests, options, callback) {
  return getDefaultClient().gather(requests, options, callback)
}

function download (requests, dir, options, callback) {
  return getDefaultClient().download(requests, dir, options, callback)
}

function stream (requests, options) {
  return getDefaultClient().stream(requests, options)
}

const native = {
  isNativeIteratee (fn) {
    return fn === fetch || isNativeFetch(fn)
  },
  /**
   * async's map contract on the pool: results in input order, the first error
   * ends the call with the partial results and cancels the rest.
   */
  mapNative (items, limit, done, iteratee) {
    const client = iteratee && isNativeFetch(iteratee) ? clientOfFetch(iteratee) : getDefaultClient()
    const concurrency = limit === Infinity || limit === undefined ? undefined : Math.ceil(limit)
    const opts = {
      // async's limit is a number: it turns a client's 'auto' off for the call
      native: concurrency === undefined ? null : { concurrency, adaptive: false },
      settle: false,
      signal: undefined,
      onProgress: undefined
    }
    // Never called back synchronously, though a malformed item fails the
    // call before anything is sent.
    client._gather(items, opts, (err, results) => process.nextTick(done, err, results))
  },
  fetch (request, callback) {
    return getDefaultClient().fetch(request, callback)
  }
}

// The async surface is shared with the deep paths (fetchpool/<name>): each
// name's module loads on its first use, so a script that only gathers and
// fetches does not load them (about 10 ms and 6 MiB at start).
const asyncSurface = require('./lib/async/lazy')
asyncSurface.provide(native)

module.exports = {
  fetch,
  gather,
  stream,
  download,
  Client,
  FetchError,
  Response,
  timeline,
  /** Counters of the default client's pool. */
  stats: () => getDefaultClient().stats(),
  get defaultClient () {
    return getDefaultClient()
  }
}

// `import fetchpool from 'fetchpool'` compiled to CommonJS reads `.default`,
// as it does of async's own module (index.d.ts declares a default export).
module.exports.default = module.exports

// Each async name becomes a plain property, as async's own are, on its first
// read or write.
function settle (name, value) {
  Object.defineProperty(module.exports, name, { value, writable: true, enumerable: true, configurable: true })
  return value
}

for (const name of ASYNC_NAMES) {
  if (name in module.exports) continue
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    configurable: true,
    get: () => settle(name, asyncSurface.load(name)),
    set: (value) => { settle(name, value) }
  })
}
