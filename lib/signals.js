'use strict'

// One 'abort' listener per AbortSignal per client, however many requests share
// the signal: thousands of requests under one signal add no listeners beyond
// the first (and trigger no MaxListenersExceededWarning), and each
// subscription is removed when its request ends.

class SignalWatch {
  constructor () {
    /** @type {Map<AbortSignal, Set<() => void>>} */
    this.watched = new Map()
  }

  /** Calls `onAbort` when `signal` fires; returns the function that unsubscribes. */
  subscribe (signal, onAbort) {
    let subscribers = this.watched.get(signal)
    if (subscribers === undefined) {
      subscribers = new Set()
      this.watched.set(signal, subscribers)
      const fire = () => {
        this.watched.delete(signal)
        for (const fn of subscribers) fn()
      }
      subscribers.fire = fire
      signal.addEventListener('abort', fire, { once: true })
    }
    subscribers.add(onAbort)
    return () => {
      if (!subscribers.delete(onAbort) || subscribers.size > 0) return
      if (this.watched.get(signal) === subscribers) {
        this.watched.delete(signal)
        signal.removeEventListener('abort', subscribers.fire)
      }
    }
  }
}

module.exports = { SignalWatch }
