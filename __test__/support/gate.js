'use strict'

// A server that holds every request until as many are waiting as the call
// under test should have in flight, then answers them together. A client
// that runs fewer at once never reaches the mark and stalls the gate; one
// that runs more shows it in `maxInFlight`, and in what the pool itself
// reported (`probe`) when the mark was first reached. No clock decides a
// pass: a fail-safe opens a gate stalled for STALL_MS, so that a broken
// client fails its assertions instead of hanging the suite, and the first
// mark lingers LINGER_MS so that a client sending more than its limit gets
// them to the server. A correct client sends nothing more while held, so a
// slow machine can only make a broken one harder to catch, never a correct
// one fail.

const http = require('node:http')

// Far longer than any client takes to send its next request, loaded or not.
const STALL_MS = 10000
const LINGER_MS = 50

async function startGate () {
  const state = {
    total: 0,
    limit: Infinity,
    answered: 0,
    held: [],
    maxInFlight: 0,
    stalled: false,
    paths: [],
    timer: null,
    probe: null,
    probed: null,
    lingering: false
  }
  const open = () => {
    clearTimeout(state.timer)
    state.timer = null
    const batch = state.held.splice(0)
    state.answered += batch.length
    for (const { req, res } of batch) res.end(`body ${req.url}`)
  }
  const server = http.createServer((req, res) => {
    state.paths.push(req.url)
    state.held.push({ req, res })
    state.maxInFlight = Math.max(state.maxInFlight, state.held.length)
    if (state.lingering) return
    const target = Math.min(state.limit, state.total - state.answered)
    if (state.held.length >= target) {
      if (state.answered > 0 || target >= state.total) return open()
      if (state.probe !== null) state.probed = state.probe()
      state.lingering = true
      clearTimeout(state.timer)
      state.timer = setTimeout(() => {
        state.lingering = false
        open()
      }, LINGER_MS)
      return
    }
    clearTimeout(state.timer)
    state.timer = setTimeout(() => {
      state.stalled = true
      open()
    }, STALL_MS)
  })
  server.keepAliveTimeout = 30000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  return {
    state,
    url: (path) => `${base}${path}`,
    /**
     * Expects `total` requests, `limit` of them in flight at once; `probe()`
     * is read when the first `limit` are held (into `state.probed`).
     */
    arm (total, limit = Infinity, probe = null) {
      Object.assign(state, {
        total, limit, probe, answered: 0, maxInFlight: 0, stalled: false, paths: [], probed: null, lingering: false
      })
    },
    close () {
      clearTimeout(state.timer)
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    }
  }
}

module.exports = { startGate }
