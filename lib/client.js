'use strict'

const { performance } = require('node:perf_hooks')
const { NativeClient } = require('../binding')
const { Response } = require('./response')
const { FetchError, inputError, isInputCode, abortError, invalidArgType } = require('./errors')
const { callOptions, clientOptions } = require('./options')
const { normalize, urlOf } = require('./requests')
const { SignalWatch } = require('./signals')

// A Client owns one native pool. Every call (fetch, gather, stream, the native
// map) is a batch: its requests cross into Rust in one `submit`, and results
// come back through one shared channel in coalesced chunks (`_onChunk`), which
// routes each row to its batch by id.

const kNativeFetch = Symbol.for('fetchpool.nativeFetch')
const BATCH_ID_LIMIT = 0x7fffffff
const PROGRESS_INTERVAL_MS = 100
/** Requests per submit when a call crosses in parts (see `Batch.submitAll`). */
const SUBMIT_PART = 1024
// How a part starts in the engine (`submit`'s last argument).
const START_NOW = 0
const START_HOLD = 1
const START_OPEN = 2
/** Numbers per completion row (src/binding/delivery.rs `ROW`). */
const ROW_SIZE = 16

function noop () {}

/**
 * Turns an error row into the error the caller sees; `extra` is
 * `[code, message, url, cause|null]` (rows: see src/binding/delivery.rs).
 */
function rowError (rows, off, extra, index) {
  const [code, message, url, cause] = extra
  if (isInputCode(code)) return inputError(code, message, { index, url })
  if (code === 'ABORT_ERR') return abortError(undefined, { url, index })
  return new FetchError(message, {
    code,
    url,
    index,
    attempts: rows[off + 4],
    cause: cause === null ? undefined : new Error(cause),
    status: rows[off + 5]
  })
}

/**
 * One call's requests. `onResult(index, err, response)` sees every outcome
 * (at most one error in fail-fast mode); `onEnd()` runs once nothing of the
 * batch is outstanding any more.
 */
class Batch {
  constructor (client, id, settle) {
    this.client = client
    this.id = id
    this.settle = settle
    this.outstanding = 0
    this.urls = null
    this.urlBase = 0
    this.preErrors = null
    // index → unsubscribe, for requests with their own signal
    this.itemSignals = null
    this.unwatch = null
    this.ended = false
    // More requests may still be submitted (a stream): do not end when idle.
    this.open = false
    // A lone `fetch`: input errors name `request`, not `requests[0]`.
    this.single = false
    // The index results show, when not their position in the batch (the
    // batch that plain `fetch` calls share shows each as 0, as a lone one).
    this.shownIndex = null
    // The batch plain `fetch` calls share: its options live in the engine.
    this.shared = false
    // A batch `fetch` calls of one tick join (see `_join`), with or without options.
    this.joined = false
    this.sharedOptions = null
    this.throwInput = false
    this.onResult = noop
    this.onEnd = noop
    // How the call ends when cancelled from outside (signal, close).
    this.onAbort = noop
  }

  /**
   * Sends `items[from..to)` as indices `base…`. `start`: START_NOW; START_HOLD,
   * they wait in the engine for a later part without it; START_OPEN, they
   * start at once on lanes of the call's own that wait for its next part.
   * Returns false when the call was refused for a malformed item
   * (fail-fast), which ends it.
   */
  submit (items, from, to, base, native, start = START_NOW) {
    const { lines, urls, extras, signals, errors } = normalize(items, from, to, base, this.single)
    if (errors !== null && !this.settle) {
      const first = errors.values().next().value
      this.end()
      if (this.throwInput) throw first
      this.onResult(first.index, first, undefined)
      return false
    }
    if (errors !== null) {
      if (this.shownIndex !== null) for (const err of errors.values()) err.index = this.shownIndex
      if (this.preErrors === null) this.preErrors = errors
      else for (const [k, v] of errors) this.preErrors.set(k, v)
    }
    if (this.urls === null) {
      this.urls = urls
      this.urlBase = base
    } else {
      for (let k = 0; k < urls.length; k++) this.urls[base - this.urlBase + k] = urls[k]
    }
    const count = to - from
    this.outstanding += count
    this.client._hold(count)
    let problem
    try {
      problem = this.shared
        ? this.client._native.submitShared(this.id, base, lines, extras)
        : this.client._native.submit(this.id, base, lines, extras, native, start)
    } catch (cause) {
      // Options the checks in lib/options.js let through and the engine
      // refused: nothing of this part was sent, and every request of it fails.
      this.outstanding -= count
      this.client._release(count)
      const err = inputError('ERR_INVALID_ARG_VALUE', cause.message)
      if (this.throwInput) {
        this.end()
        throw err
      }
      // Joined calls fail each on its own; any other call fails whole.
      if (this.joined) for (let k = base; k < base + count; k++) this.onResult(k, err, undefined)
      else this.abort(err)
      return false
    }
    if (problem !== null) {
      // The engine refused the call: nothing of this part was sent.
      this.outstanding -= count
      this.client._release(count)
      const index = Number(problem[2])
      const shown = this.shownIndex === null ? index : this.shownIndex
      const err = (this.preErrors && this.preErrors.get(index)) ||
        inputError(problem[0], problem[1], { index: shown, url: this.url(index) })
      if (!this.settle || (this.outstanding === 0 && !this.open)) this.end()
      if (this.throwInput) throw err
      this.onResult(index, err, undefined)
      return this.settle
    }
    if (signals !== null) this.watchItems(signals)
    return true
  }

  /**
   * Sends a whole call. A long list crosses in parts of SUBMIT_PART, one per
   * turn of the event loop, so that converting and checking it never holds
   * the JavaScript thread for long; the engine starts the call with its last
   * part, so a malformed item still refuses it before anything is sent.
   */
  submitAll (items, native) {
    const n = items.length
    const part = (from) => {
      if (this.ended) return
      const to = Math.min(n, from + SUBMIT_PART)
      if (this.submit(items, from, to, from, native, to < n ? START_HOLD : START_NOW) && to < n) setImmediate(part, to)
    }
    part(0)
  }

  watchItems (signals) {
    if (this.itemSignals === null) this.itemSignals = new Map()
    for (const [index, signal] of signals) {
      const cancel = () => this.client._native.cancelItem(this.id, index)
      if (signal.aborted) cancel()
      else this.itemSignals.set(index, this.client._signals.subscribe(signal, cancel))
    }
  }

  /** Cancels the whole batch when `signal` fires. Returns false if it already has. */
  watch (signal) {
    if (signal === undefined) return true
    if (signal.aborted) return false
    this.unwatch = this.client._signals.subscribe(signal, () => this.abort(abortError(signal.reason)))
    return true
  }

  url (index) {
    return this.urls[index - this.urlBase]
  }

  /** One completion: row `off` of the chunk `rows`, see src/binding/delivery.rs. */
  row (rows, off, data, bodies, extras) {
    const index = rows[off + 1]
    this.outstanding--
    this.client._release(1)
    if (this.itemSignals !== null) {
      const unsubscribe = this.itemSignals.get(index)
      if (unsubscribe !== undefined) {
        unsubscribe()
        this.itemSignals.delete(index)
      }
    }
    const shown = this.shownIndex === null ? index : this.shownIndex
    if (rows[off + 2] === 0) {
      const pre = this.preErrors !== null ? this.preErrors.get(index) : undefined
      const err = pre !== undefined ? pre : rowError(rows, off, extras[rows[off + 15]], shown)
      if (!this.settle) this.end()
      this.onResult(index, err, undefined)
    } else {
      this.onResult(index, null, new Response(rows, off, data, bodies, extras, this.url(index), shown))
    }
    if (this.outstanding === 0 && !this.ended && !this.open) this.end()
  }

  /** Ends the batch from outside: cancels its requests and fails the call with `err`. */
  abort (err) {
    if (this.ended) return
    this.end()
    this.onAbort(err)
  }

  /** Stops routing results here and lets go of the event loop. */
  end () {
    if (this.ended) return
    this.ended = true
    this.client._batches.delete(this.id)
    if (this.outstanding > 0) {
      this.client._native.cancel(this.id)
      this.client._release(this.outstanding)
      this.outstanding = 0
    }
    if (this.unwatch !== null) this.unwatch()
    if (this.itemSignals !== null) {
      for (const unsubscribe of this.itemSignals.values()) unsubscribe()
      this.itemSignals = null
    }
    this.onEnd()
  }
}

/** Calls `onProgress` at most every PROGRESS_INTERVAL_MS, and once at the end. */
class Progress {
  constructor (fn, total) {
    this.fn = fn
    this.total = total
    this.done = 0
    this.failed = 0
    this.bytes = 0
    this.last = 0
  }

  count (err, res, concurrency) {
    this.done++
    if (err) this.failed++
    else this.bytes += res.buffer.length
    const now = performance.now()
    if (now - this.last >= PROGRESS_INTERVAL_MS || this.done === this.total) {
      this.last = now
      this.report(concurrency)
    }
  }

  report (concurrency) {
    const inFlight = Math.max(0, Math.min(this.total - this.done, concurrency))
    try {
      this.fn({ done: this.done, failed: this.failed, inFlight, total: this.total, bytes: this.bytes })
    } catch (err) {
      process.nextTick(() => { throw err })
    }
  }
}

function toArray (requests, name = 'requests') {
  if (Array.isArray(requests)) return requests
  if (requests !== null && typeof requests === 'object' && typeof requests[Symbol.iterator] === 'function' &&
      typeof requests !== 'string') {
    return Array.from(requests)
  }
  throw invalidArgType(name, 'an array or an iterable of requests', requests)
}

/** Splits `(args…, [options], [callback])`. */
function tail (options, callback) {
  if (typeof options === 'function' && callback === undefined) return [undefined, options]
  if (callback !== undefined && typeof callback !== 'function') {
    throw invalidArgType('callback', 'of type function', callback)
  }
  return [options, callback]
}

/**
 * Runs `start(done)` in callback or Promise style. Input errors thrown by
 * `start` are thrown in callback style and reject in Promise style.
 */
function run (callback, start) {
  if (callback !== undefined) {
    start((err, value) => process.nextTick(callback, err, value))
    return undefined
  }
  return new Promise((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)))
  })
}

class Client {
  /** @param {object} [options] see the README: client options and call defaults */
  constructor (options) {
    const native = clientOptions(options)
    this._batches = new Map()
    this._signals = new SignalWatch()
    this._nextId = 1
    // Promise-style `fetch` calls made in one tick join one submit per set of
    // options, on a batch those calls share (see `_join`).
    this._shared = new Map()
    this._joining = null
    this._active = 0
    this._keepAlive = null
    this._closed = false
    const concurrency = options && options.concurrency
    this._concurrency = typeof concurrency === 'number' ? concurrency : 64
    this._native = new NativeClient(native, performance.now(),
      (rows, data, bodies, extras) => this._onChunk(rows, data, bodies, extras))
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
      const batch = this._batches.get(rows[off])
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
      opts = callOptions(options)
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
        return new Promise((resolve, reject) => {
          this._join(request, opts.native, undefined, (err, res) => (err ? reject(err) : resolve(res)))
        })
      }
      // A call-level signal on a URL joins as that request's own signal.
      if (typeof request === 'string' || request instanceof URL) {
        if (signal.aborted) return Promise.reject(abortError(signal.reason))
        return new Promise((resolve, reject) => {
          this._join({ url: request, signal }, opts.native, signal, (err, res) => (err ? reject(err) : resolve(res)))
        })
      }
    }
    if (opts.signal === undefined && (typeof request === 'string' || request instanceof URL)) {
      // A callback-style call of a URL joins the others of its tick too,
      // once the URL is known good: its input errors are still thrown here.
      const url = this._checkUrl(request)
      this._join(url, opts.native, undefined, (err, res) => process.nextTick(callback, err, res))
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

  // A promise-style `fetch`: it waits for the end of the current tick, and
  // every such call made in the meantime with equal options crosses into Rust
  // in one submit, on a batch shared by calls with those options. Each still
  // settles on its own, exactly as a lone call; `signal` is the call's own,
  // whose reason an abort carries.
  _join (request, native, signal, done) {
    if (this._closed) {
      done(inputError('ERR_INVALID_STATE', 'The client is closed'))
      return
    }
    if (this._joining === null) {
      this._joining = new Map()
      queueMicrotask(() => this._submitJoined())
    }
    const key = native === null ? '' : JSON.stringify(native)
    let group = this._joining.get(key)
    if (group === undefined) {
      group = { native, requests: [], dones: [], signals: null }
      this._joining.set(key, group)
    }
    if (signal !== undefined) {
      if (group.signals === null) group.signals = new Map()
      group.signals.set(group.requests.length, signal)
    }
    group.requests.push(request)
    group.dones.push(done)
  }

  _submitJoined () {
    if (this._joining === null) return // close() failed them already
    const groups = this._joining
    this._joining = null
    for (const [key, { native, requests, dones, signals }] of groups) {
      let batch = this._shared.get(key)
      if (batch === undefined || batch.ended) {
        batch = this._sharedBatch(key, native)
        this._shared.set(key, batch)
      }
      const base = batch.nextIndex
      batch.nextIndex += requests.length
      for (let k = 0; k < dones.length; k++) batch.dones.set(base + k, dones[k])
      if (signals !== null) {
        if (batch.callSignals === null) batch.callSignals = new Map()
        for (const [k, signal] of signals) batch.callSignals.set(base + k, signal)
      }
      batch.submit(requests, 0, requests.length, base, batch.sharedOptions)
    }
  }

  /**
   * The batch that joined calls with the options `native` share: no
   * concurrency limit and no fail-fast, so each request starts at once and
   * one failing ends no other. Without options it is the engine's own
   * (`submitShared`), converted once.
   */
  _sharedBatch (key, native) {
    const batch = this._batch(true)
    batch.joined = true
    batch.shared = native === null
    batch.sharedOptions = native === null ? null : { ...native, concurrency: 0x7fffffff, failFast: false }
    batch.open = true
    batch.single = true
    batch.shownIndex = 0
    batch.nextIndex = 0
    batch.dones = new Map()
    // index → the call-level signal of a joined call, for its abort's reason
    batch.callSignals = null
    batch.onResult = (index, err, res) => {
      const done = batch.dones.get(index)
      if (done === undefined) return
      batch.dones.delete(index)
      const signal = batch.callSignals === null ? undefined : batch.callSignals.get(index)
      if (signal !== undefined) {
        batch.callSignals.delete(index)
        if (err && err.code === 'ABORT_ERR') err = abortError(signal.reason, { url: err.url, index: 0 })
      }
      if (batch.outstanding === 0 && batch.dones.size === 0) batch.end()
      done(err, res)
    }
    batch.onAbort = (err) => {
      const dones = [...batch.dones.values()]
      batch.dones.clear()
      for (const done of dones) done(err)
    }
    // Indices stay small: a drained batch is replaced by a fresh one.
    batch.onEnd = () => {
      if (this._shared.get(key) === batch) this._shared.delete(key)
    }
    return batch
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
      finish(abortError(opts.signal.reason))
      return
    }
    batch.onResult = (index, err, res) => finish(err, res)
    batch.submit([request], 0, 1, 0, opts.native)
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
   * the live partial results on error. Returns a function that cancels.
   */
  _gather (list, opts, done) {
    const n = list.length
    const settle = opts.settle
    const results = new Array(n)
    if (n === 0) {
      process.nextTick(done, null, results)
      return noop
    }
    const batch = this._batch(settle)
    let finished = false
    const finish = (err) => {
      if (finished) return
      finished = true
      if (progress !== null) progress.report(0)
      done(err, results)
    }
    const progress = opts.onProgress ? new Progress(opts.onProgress, n) : null
    const concurrency = (opts.native && opts.native.concurrency) || this._concurrency
    let received = 0
    let lastIndex = -1
    batch.onResult = (index, err, res) => {
      received++
      if (index > lastIndex) lastIndex = index
      if (progress !== null) progress.count(err, res, concurrency)
      if (settle) {
        results[index] = err ? { status: 'rejected', reason: err } : { status: 'fulfilled', value: res }
        if (received === n) finish(null)
      } else if (err) {
        // The partial results as async's map leaves them: up to the last
        // request that finished, the failed one's slot set to undefined.
        results[index] = undefined
        results.length = lastIndex + 1
        finish(err)
      } else {
        results[index] = res
        if (received === n) finish(null)
      }
    }
    batch.onAbort = finish
    if (!batch.watch(opts.signal)) {
      batch.end()
      finish(abortError(opts.signal.reason))
      return noop
    }
    const native = settle ? { ...opts.native, failFast: false } : opts.native
    batch.submitAll(list, native)
    return () => batch.abort(abortError())
  }

  /**
   * stream(requests, [options]) → async iterable of results in completion
   * order. At most `window` requests are submitted and not yet consumed.
   */
  stream (requests, options) {
    const opts = callOptions(options)
    if (requests === null || requests === undefined ||
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
    return { queued: s.queued, inFlight: s.inFlight, done: s.done, failed: s.failed, bytes: s.bytes, batches: s.batches }
  }

  /** Cancels everything in flight and stops the pool. Further calls fail. */
  close () {
    if (this._closed) return
    this._closed = true
    const closed = abortError(new Error('The client was closed'))
    if (this._joining !== null) {
      const groups = this._joining
      this._joining = null
      for (const { dones } of groups.values()) for (const done of dones) done(closed)
    }
    for (const batch of [...this._batches.values()]) batch.abort(closed)
    this._native.close()
    if (this._keepAlive !== null) {
      clearInterval(this._keepAlive)
      this._keepAlive = null
    }
  }
}

/** The async generator behind `stream`. */
async function * streamResults (client, requests, opts, window, concurrency) {
  const settle = opts.settle
  const batch = client._batch(settle)
  batch.open = true
  const native = { ...opts.native, failFast: false }
  const ready = []
  let wake = null
  let failure = null
  let nextIndex = 0
  let exhausted = false
  let pumping = false
  const isAsync = typeof requests[Symbol.asyncIterator] === 'function'
  const iterator = isAsync ? requests[Symbol.asyncIterator]() : requests[Symbol.iterator]()
  const progress = opts.onProgress ? new Progress(opts.onProgress, Infinity) : null

  const wakeUp = () => {
    if (wake !== null) {
      const w = wake
      wake = null
      w()
    }
  }
  const fail = (err) => {
    failure = failure || err
    wakeUp()
  }
  batch.onResult = (index, err, res) => {
    if (progress !== null) progress.count(err, res, concurrency)
    if (err && !settle) return fail(err)
    ready.push(settle ? (err ? { status: 'rejected', reason: err, index } : { status: 'fulfilled', value: res, index }) : res)
    wakeUp()
  }
  batch.onAbort = fail
  if (!batch.watch(opts.signal)) {
    batch.end()
    throw abortError(opts.signal.reason)
  }

  const submit = (items) => {
    const base = nextIndex
    nextIndex += items.length
    batch.submit(items, 0, items.length, base, native, START_OPEN)
  }
  const finishSource = () => {
    exhausted = true
    batch.open = false
    if (batch.outstanding === 0 && !batch.ended) batch.end()
  }

  // Pulls from the source while there is room in the window. A synchronous
  // source is read in one go up to the room; an asynchronous one item by item,
  // each sent as soon as it arrives. Runs beside the consumer, not in its way.
  async function pump () {
    if (pumping) return
    pumping = true
    try {
      while (!exhausted && !batch.ended && failure === null) {
        const room = window - batch.outstanding - ready.length
        if (room <= 0) break
        if (isAsync) {
          const step = await iterator.next()
          if (step.done) finishSource()
          else if (!batch.ended) submit([step.value])
        } else {
          const items = []
          while (items.length < room) {
            const step = iterator.next()
            if (step.done) break
            items.push(step.value)
          }
          if (items.length > 0) submit(items)
          if (items.length < room) finishSource()
        }
      }
    } catch (err) {
      fail(err)
    } finally {
      pumping = false
      wakeUp()
    }
  }

  try {
    while (true) {
      if (failure !== null) throw failure
      if (ready.length > 0) {
        yield ready.shift()
        continue
      }
      pump()
      if (failure !== null) throw failure
      if (ready.length > 0) continue
      if (exhausted && batch.outstanding === 0 && !pumping) break
      await new Promise((resolve) => { wake = resolve })
    }
  } finally {
    batch.open = false
    if (!exhausted && typeof iterator.return === 'function') {
      try { await iterator.return() } catch { /* the source's own cleanup failed; nothing to add */ }
    }
    batch.end()
    if (progress !== null) progress.report(0)
  }
}

function isNativeFetch (fn) {
  return typeof fn === 'function' && fn[kNativeFetch] !== undefined
}

function clientOfFetch (fn) {
  return fn[kNativeFetch]
}

module.exports = { Client, isNativeFetch, clientOfFetch, kNativeFetch, toArray }
