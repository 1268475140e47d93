'use strict'

const { performance } = require('node:perf_hooks')
const { inputError, isInputCode, abortError, invalidArgType, invalidArgValue } = require('./errors')
const { callOptions, clientOptions, requestFromInit } = require('./options')
const { snapshot, urlOf, itemUrl } = require('./requests')
const { SignalWatch } = require('./signals')
const { Batch } = require('./batch')
const { TickJoin } = require('./join')
const { gatherResults } = require('./gather')
const { streamResults } = require('./stream')
const { toArray, tail, run } = require('./calls')
const L = require('./layout')
const { checkDownload, downloadChecked } = require('./download')

// A Client owns one native pool. Every call (fetch, gather, stream, the native
// map) is a batch (lib/batch.js): its requests cross into Rust in one
// `submit`, and results come back through one shared channel in coalesced
// chunks (`_onChunk`), which routes each row to its batch by id.

const kNativeFetch = Symbol.for('fetchpool.nativeFetch')
const BATCH_ID_LIMIT = 0x7fffffff
// The completion rows: defined in src/binding/layout.rs.
const { ROW: ROW_SIZE } = L

function noop () {}

class Client {
  /** @param {object} [options] see the README: client options and call defaults */
  constructor (options) {
    const native = clientOptions(options)
    this._batches = new Map()
    this._signals = new SignalWatch()
    this._nextId = 1
    // Promise-style `fetch` calls made in one tick join one submit per set of
    // options, on a batch those calls share (lib/join.js).
    this._joins = new TickJoin(this)
    this._active = 0
    this._keepAlive = null
    this._closed = false
    const concurrency = options && options.concurrency
    this._concurrency = typeof concurrency === 'number' ? concurrency : 64
    // Under 'auto', windows and progress are sized by the most it may reach.
    if (native.defaults && native.defaults.adaptive) this._concurrency = native.defaults.concurrency
    this._native = makeNative(native, (rows, data, bodies, extras) => this._onChunk(rows, data, bodies, extras))
    this.fetch = this.fetch.bind(this)
    this.fetch[kNativeFetch] = this
  }

  /** Worker threads of this client's pool. */
  get workers () {
    return this._native.workers
  }

  // A chunk of completions: numeric rows of ROW_SIZE, the bytes they point
  // into, large bodies as their own Buffers, and the rare strings as JSON.
  _onChunk (rows, data, bodies, extras) {
    const list = extras.length === 0 ? null : JSON.parse(extras)
    for (let off = 0; off < rows.length; off += ROW_SIZE) {
      const batch = this._batches.get(rows[off + L.BATCH])
      if (batch !== undefined) batch.row(rows, off, data, bodies, list)
    }
  }

  // Work in flight keeps the process alive, as an open socket would: one
  // timer, referenced only while something is outstanding.
  _hold (n) {
    this._active += n
    if (this._active === n) {
      if (this._keepAlive === null) this._keepAlive = setInterval(noop, 0x7fffffff)
      else this._keepAlive.ref()
    }
  }

  _release (n) {
    this._active -= n
    if (this._active === 0 && this._keepAlive !== null) this._keepAlive.unref()
  }

  _batch (settle) {
    if (this._closed) {
      throw inputError('ERR_INVALID_STATE', 'The client is closed')
    }
    const id = this._nextId
    this._nextId = id >= BATCH_ID_LIMIT ? 1 : id + 1
    const batch = new Batch(this, id, settle)
    this._batches.set(id, batch)
    return batch
  }

  /**
   * fetch(request, [options], [callback]) → Response
   */
  fetch (request, options, callback) {
    [options, callback] = tail(options, callback)
    let opts
    try {
      [request, options] = requestFromInit(request, options)
      opts = callOptions(options)
      if (opts.onProgress !== undefined) {
        throw invalidArgValue('options.onProgress', opts.onProgress, 'applies to calls of many requests (gather, stream, download)')
      }
      if (request === undefined || request === null || (typeof request !== 'string' && typeof request !== 'object')) {
        throw invalidArgType('request', 'a string, a URL or a request object', request)
      }
    } catch (err) {
      if (callback !== undefined) throw err
      return Promise.reject(err)
    }
    if (callback === undefined) {
      const signal = opts.signal
      if (signal === undefined) {
        // Sent at the end of the tick: the request as it is now.
        const own = snapshot(request)
        return new Promise((resolve, reject) => {
          this._joins.join(own, opts.native, undefined, (err, res) => (err ? reject(err) : resolve(res)))
        })
      }
      // A call-level signal on a URL joins as that request's own signal.
      if (typeof request === 'string' || request instanceof URL) {
        if (signal.aborted) return Promise.reject(abortError(signal.reason, { url: urlOf(request), index: 0 }))
        return new Promise((resolve, reject) => {
          this._joins.join({ url: request, signal }, opts.native, signal, (err, res) => (err ? reject(err) : resolve(res)))
        })
      }
    }
    if (opts.signal === undefined && (typeof request === 'string' || request instanceof URL)) {
      // A callback-style call of a URL joins the others of its tick too,
      // once the URL is known good: its input errors are still thrown here.
      const url = this._checkUrl(request)
      this._joins.join(url, opts.native, undefined, (err, res) => process.nextTick(callback, err, res))
      return undefined
    }
    return run(callback, (done) => this._fetchOne(request, opts, done, callback !== undefined))
  }

  /** Throws the input error a plain GET of `request` would fail with; returns its URL. */
  _checkUrl (request) {
    if (this._closed) throw inputError('ERR_INVALID_STATE', 'The client is closed')
    const url = urlOf(request)
    const problem = this._native.checkUrl(url)
    if (problem !== null) throw inputError(problem[0], problem[1], { index: 0, url })
    return url
  }

  _fetchOne (request, opts, done, throwInput) {
    const batch = this._batch(false)
    batch.throwInput = throwInput
    batch.single = true
    let settled = false
    const finish = (err, res) => {
      if (settled) return
      settled = true
      done(err, res)
    }
    batch.onAbort = finish
    if (!batch.watch(opts.signal)) {
      batch.end()
      finish(abortError(opts.signal.reason, { url: itemUrl(request), index: 0 }))
      return
    }
    batch.onResult = (index, err, res) => finish(err, res)
    batch.submit([request], 0, 1, 0, opts.native)
  }

  /**
   * download(requests, dir, [options], [callback]) → one result per request
   * (see lib/download.js and docs/downloads.md).
   */
  download (requests, dir, options, callback) {
    [options, callback] = tail(options, callback)
    let checked
    try {
      checked = checkDownload(requests, dir, options)
    } catch (err) {
      if (callback !== undefined) throw err
      return Promise.reject(err)
    }
    return run(callback, (done) => {
      downloadChecked(this, checked).then((results) => done(null, results), done)
    })
  }

  /**
   * gather(requests, [options], [callback]) → Response[] in input order, or
   * allSettled-shaped outcomes with `settle: true`.
   */
  gather (requests, options, callback) {
    [options, callback] = tail(options, callback)
    let list, opts
    try {
      list = toArray(requests)
      opts = callOptions(options)
    } catch (err) {
      if (callback !== undefined) throw err
      return Promise.reject(err)
    }
    return run(callback, (done) => {
      this._gather(list, opts, (err, results) => done(err, results))
    })
  }

  /**
   * The engine of gather and the native map: `done(err, results)` once, with
   * the live partial results on error.
   */
  _gather (list, opts, done) {
    gatherResults(this, list, opts, done)
  }

  /**
   * stream(requests, [options]) → async iterable of results in completion
   * order. At most `window` requests are submitted and not yet consumed.
   */
  stream (requests, options) {
    const opts = callOptions(options)
    // A string is iterable too, but as characters: a URL alone is refused.
    if (requests === null || requests === undefined || typeof requests === 'string' ||
        (typeof requests[Symbol.iterator] !== 'function' && typeof requests[Symbol.asyncIterator] !== 'function')) {
      throw invalidArgType('requests', 'an iterable or async iterable of requests', requests)
    }
    const concurrency = (opts.native && opts.native.concurrency) || this._concurrency
    const window = Math.max(16, Math.min(concurrency * 2, 4096))
    return streamResults(this, requests, opts, window, concurrency)
  }

  /** Counters of this client's pool. */
  stats () {
    const s = this._native.stats()
    return {
      queued: s.queued,
      inFlight: s.inFlight,
      done: s.done,
      failed: s.failed,
      bytes: s.bytes,
      batches: s.batches,
      // origin → limit, for the running calls with concurrency: 'auto'
      limits: this._native.limits()
    }
  }

  /** Cancels everything in flight and stops the pool. Further calls fail. */
  close () {
    if (this._closed) return
    this._closed = true
    const closed = abortError(new Error('The client was closed'))
    this._joins.failWaiting(closed)
    for (const batch of [...this._batches.values()]) batch.abort(closed)
    this._native.close()
    if (this._keepAlive !== null) {
      clearInterval(this._keepAlive)
      this._keepAlive = null
    }
  }
}

/**
 * The engine's client. What the engine refuses when it builds one (a `ca`
 * that does not parse, say) comes back as `<code>: <message>`, and is
 * thrown with that code, as every other refused option is.
 */
function makeNative (options, onChunk) {
  // The addon is loaded by the first client, not with the module: the async
  // surface is JavaScript, and works where no binary does.
  const { NativeClient } = require('./native')
  try {
    return new NativeClient(options, performance.now(), onChunk)
  } catch (cause) {
    const coded = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(cause && cause.message)
    if (coded === null) throw cause
    const err = isInputCode(coded[1]) ? inputError(coded[1], coded[2]) : Object.assign(new Error(coded[2]), { code: coded[1] })
    err.cause = cause
    throw err
  }
}

function isNativeFetch (fn) {
  return typeof fn === 'function' && fn[kNativeFetch] !== undefined
}

function clientOfFetch (fn) {
  return fn[kNativeFetch]
}

module.exports = { Client, isNativeFetch, clientOfFetch, kNativeFetch, toArray }
