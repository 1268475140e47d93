'use strict'

const { inputError, abortError } = require('./errors')

// A promise-style `fetch`: it waits for the end of the current tick, and
// every such call made in the meantime with equal options crosses into Rust
// in one submit, on a batch shared by calls with those options. Each still
// settles on its own, exactly as a lone call; `signal` is the call's own,
// whose reason an abort carries.
class TickJoin {
  constructor (client) {
    this.client = client
    // options key → the JoinedCalls of those options
    this.shared = new Map()
    // options key → the calls of this tick, until the tick ends
    this.joining = null
  }

  join (request, native, signal, done) {
    if (this.client._closed) {
      done(inputError('ERR_INVALID_STATE', 'The client is closed'))
      return
    }
    if (this.joining === null) {
      this.joining = new Map()
      queueMicrotask(() => this.submitJoined())
    }
    const key = native === null ? '' : JSON.stringify(native)
    let group = this.joining.get(key)
    if (group === undefined) {
      group = { native, requests: [], dones: [], signals: null }
      this.joining.set(key, group)
    }
    if (signal !== undefined) {
      if (group.signals === null) group.signals = new Map()
      group.signals.set(group.requests.length, signal)
    }
    group.requests.push(request)
    group.dones.push(done)
  }

  submitJoined () {
    if (this.joining === null) return // close() failed them already
    const groups = this.joining
    this.joining = null
    for (const [key, group] of groups) {
      let calls = this.shared.get(key)
      if (calls === undefined || calls.batch.ended) {
        calls = new JoinedCalls(this, key, group.native)
        this.shared.set(key, calls)
      }
      calls.submit(group)
    }
  }

  /** Fails the calls still waiting for the end of the tick (the client closes). */
  failWaiting (err) {
    if (this.joining === null) return
    const groups = this.joining
    this.joining = null
    for (const { dones } of groups.values()) for (const done of dones) done(err)
  }
}

/**
 * The calls joined on the batch that calls with the options `native` share:
 * no concurrency limit and no fail-fast, so each request starts at once and
 * one failing ends no other. Without options it is the engine's own
 * (`submitShared`), converted once. Indices stay small: a drained batch is
 * replaced by a fresh one.
 */
class JoinedCalls {
  constructor (join, key, native) {
    const batch = join.client._batch(true)
    batch.joined = true
    batch.shared = native === null
    // Under 'auto', `concurrency` is the most in flight per origin and stays.
    const concurrency = native !== null && native.adaptive ? native.concurrency : 0x7fffffff
    batch.sharedOptions = native === null ? null : { ...native, concurrency, failFast: false }
    batch.open = true
    batch.single = true
    batch.shownIndex = 0
    batch.onResult = (index, err, res) => this.result(index, err, res)
    batch.onAbort = (err) => this.abort(err)
    batch.onEnd = () => {
      if (join.shared.get(key) === this) join.shared.delete(key)
    }
    this.batch = batch
    this.nextIndex = 0
    // index → the call's `done`, until it settles
    this.dones = new Map()
    // index → the call-level signal of a joined call, for its abort's reason
    this.callSignals = null
  }

  /** Sends one tick's calls of these options as the next indices. */
  submit ({ requests, dones, signals }) {
    const base = this.nextIndex
    this.nextIndex += requests.length
    for (let k = 0; k < dones.length; k++) this.dones.set(base + k, dones[k])
    if (signals !== null) {
      if (this.callSignals === null) this.callSignals = new Map()
      for (const [k, signal] of signals) this.callSignals.set(base + k, signal)
    }
    this.batch.submit(requests, 0, requests.length, base, this.batch.sharedOptions)
  }

  result (index, err, res) {
    const done = this.dones.get(index)
    if (done === undefined) return
    this.dones.delete(index)
    const signal = this.callSignals === null ? undefined : this.callSignals.get(index)
    if (signal !== undefined) {
      this.callSignals.delete(index)
      if (err && err.code === 'ABORT_ERR') err = abortError(signal.reason, { url: err.url, index: 0 })
    }
    if (this.batch.outstanding === 0 && this.dones.size === 0) this.batch.end()
    done(err, res)
  }

  abort (err) {
    const dones = [...this.dones.values()]
    this.dones.clear()
    for (const done of dones) done(err)
  }
}

module.exports = { TickJoin }
