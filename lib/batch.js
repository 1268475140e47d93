'use strict'

const { Response, rowTiming } = require('./response')
const { FetchError, inputError, isInputCode, abortError } = require('./errors')
const { normalize } = require('./requests')
const L = require('./layout')

// A batch is one call's requests as the engine sees them: its id routes the
// completion rows back here, and it ends the call once nothing of it is
// outstanding. The Client makes batches and routes rows to them; the calls
// (gather, stream, the tick's joined fetches) say what a result means.

/** Requests per submit when a call crosses in parts (see `Batch.submitAll`). */
const SUBMIT_PART = 1024
// How a part starts in the engine (`submit`'s last argument): defined in
// src/binding/layout.rs.
const { START_NOW, START_HOLD } = L

function noop () {}

/**
 * Turns an error row into the error the caller sees; `extra` is
 * `[code, message, url, cause|null]` (rows: see src/binding/layout.rs).
 */
function rowError (rows, off, extra, index) {
  const [code, message, url] = extra
  if (isInputCode(code)) return inputError(code, message, { index, url })
  const err = code === 'ABORT_ERR' ? abortError(undefined, { url, index }) : networkError(rows, off, extra, index)
  // When it was queued, started and gave up, for `timeline` and the report.
  err.timing = rowTiming(rows, off)
  return err
}

function networkError (rows, off, [code, message, url, cause], index) {
  return new FetchError(message, {
    code,
    url,
    index,
    attempts: rows[off + L.ATTEMPTS],
    cause: cause === null ? undefined : new Error(cause),
    status: rows[off + L.REDIRECTED]
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
    // index → the reason of a request's own signal that fired, for its error's cause
    this.itemReasons = null
    this.unwatch = null
    this.ended = false
    // More requests may still be submitted (a stream): do not end when idle.
    this.open = false
    // A stream: requests come and go, so only those not yet answered are
    // kept (`urls` is then a Map by index), however long the stream runs.
    this.streaming = false
    // A lone `fetch`: input errors name `request`, not `requests[0]`.
    this.single = false
    // The index results show, when not their position in the batch (the
    // batch that plain `fetch` calls share shows each as 0, as a lone one).
    this.shownIndex = null
    // The batch plain `fetch` calls share: its options live in the engine.
    this.shared = false
    // A batch `fetch` calls of one tick join (lib/join.js), with or without options.
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
    if (errors !== null && !this.settle) return this.refuseMalformed(errors)
    if (errors !== null) this.keepErrors(errors)
    this.keepUrls(urls, base)
    const count = to - from
    this.outstanding += count
    this.client._hold(count)
    let problem
    try {
      problem = this.shared
        ? this.client._native.submitShared(this.id, base, lines, extras)
        : this.client._native.submit(this.id, base, lines, extras, native, start)
    } catch (cause) {
      return this.engineThrew(cause, base, count)
    }
    if (problem !== null) return this.engineRefused(problem, count)
    if (signals !== null) this.watchItems(signals)
    return true
  }

  /** A fail-fast call with a malformed item ends before anything is sent. */
  refuseMalformed (errors) {
    const first = errors.values().next().value
    this.end()
    if (this.throwInput) throw first
    this.onResult(first.index, first, undefined)
    return false
  }

  /**
   * A settling call keeps the input errors of its malformed items, to report
   * each in place of the engine's row for it.
   */
  keepErrors (errors) {
    if (this.shownIndex !== null) for (const err of errors.values()) err.index = this.shownIndex
    if (this.preErrors === null) this.preErrors = errors
    else for (const [k, v] of errors) this.preErrors.set(k, v)
  }

  /** Keeps the URLs of a part sent as indices `base…`, for its results and errors. */
  keepUrls (urls, base) {
    if (this.streaming) {
      if (this.urls === null) this.urls = new Map()
      for (let k = 0; k < urls.length; k++) this.urls.set(base + k, urls[k])
    } else if (this.urls === null) {
      this.urls = urls
      this.urlBase = base
    } else {
      for (let k = 0; k < urls.length; k++) this.urls[base - this.urlBase + k] = urls[k]
    }
  }

  /**
   * Options the checks in lib/options.js let through and the engine
   * refused: nothing of this part was sent, and every request of it fails.
   */
  engineThrew (cause, base, count) {
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

  /** The engine refused the call for item `problem[2]`: nothing of this part was sent. */
  engineRefused (problem, count) {
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
      const cancel = () => {
        if (this.itemReasons === null) this.itemReasons = new Map()
        this.itemReasons.set(index, signal.reason)
        this.client._native.cancelItem(this.id, index)
      }
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
    return this.streaming ? this.urls.get(index) : this.urls[index - this.urlBase]
  }

  /** A stream lets go of what it kept for a request once it is answered. */
  forget (index) {
    this.urls.delete(index)
    if (this.preErrors !== null) this.preErrors.delete(index)
  }

  /** One completion: row `off` of the chunk `rows`, see src/binding/layout.rs. */
  row (rows, off, data, bodies, extras) {
    const index = rows[off + L.INDEX]
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
    if (rows[off + L.STATUS] === 0) {
      const pre = this.preErrors !== null ? this.preErrors.get(index) : undefined
      const err = pre !== undefined ? pre : rowError(rows, off, extras[rows[off + L.EXTRA]], shown)
      if (this.itemReasons !== null && this.itemReasons.has(index)) {
        if (err.code === 'ABORT_ERR') err.cause = this.itemReasons.get(index)
        this.itemReasons.delete(index)
      }
      if (!this.settle) this.end()
      this.onResult(index, err, undefined)
    } else {
      this.onResult(index, null, new Response(rows, off, data, bodies, extras, this.url(index), shown))
    }
    if (this.streaming) this.forget(index)
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
    this.itemReasons = null
    this.onEnd()
  }
}

module.exports = { Batch }
