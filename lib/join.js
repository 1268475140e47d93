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
    // options key → the batch the joined calls with those options share
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
    for (const [key, { native, requests, dones, signals }] of groups) {
      let batch = this.shared.get(key)
      if (batch === undefined || batch.ended) {
        batch = this.sharedBatch(key, native)
        this.shared.set(key, batch)
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
  sharedBatch (key, native) {
    const batch = this.client._batch(true)
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
      if (this.shared.get(key) === batch) this.shared.delete(key)
    }
    return batch
  }

  /** Fails the calls still waiting for the end of the tick (the client closes). */
  failWaiting (err) {
    if (this.joining === null) return
    const groups = this.joining
    this.joining = null
    for (const { dones } of groups.values()) for (const done of dones) done(err)
  }
}

module.exports = { TickJoin }
