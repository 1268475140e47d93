'use strict'

// Waiting on what a test can observe (a server's counters, a pool's stats)
// instead of sleeping for a guessed time.

// A fail-safe for a broken build, not a bound on a working one: a check that
// holds at all holds within milliseconds.
const FAIL_SAFE_MS = 10000

/** Resolves once `check()` is true, looking every few milliseconds. */
async function waitFor (check, what = 'the condition') {
  const deadline = performance.now() + FAIL_SAFE_MS
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`waited ${FAIL_SAFE_MS} ms for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

module.exports = { waitFor }
