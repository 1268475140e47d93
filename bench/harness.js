'use strict'

// The common harness of every client process: it reads the scenario from the
// environment, warms the client up, then times one run and prints one JSON
// line — requests/s, CPU seconds (user+sys of this whole process, every thread
// included), peak RSS and the event-loop delay p99 measured over the timed run
// only. Each client lives in its own process so these numbers are its own.

const fs = require('node:fs')
const { monitorEventLoopDelay, performance } = require('node:perf_hooks')

function intEnv (name, fallback) {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  return n
}

function scenario () {
  const base = process.env.BENCH_URL
  if (!base) throw new Error('BENCH_URL is not set: run the clients through bench/run.js')
  const count = intEnv('BENCH_COUNT', 20000)
  return {
    base,
    count,
    size: intEnv('BENCH_SIZE', 1024),
    concurrency: Math.max(1, intEnv('BENCH_CONCURRENCY', 64)),
    warmup: Math.min(count, intEnv('BENCH_WARMUP', 2000))
  }
}

/**
 * Distinct URLs, as a crawler's would be; the server ignores the query.
 * With BENCH_BASES (comma-separated origins and paths) they go to each in
 * turn, as a crawl over many sites would.
 */
function makeUrls (base, count, round) {
  const bases = process.env.BENCH_BASES ? process.env.BENCH_BASES.split(',') : [base]
  const urls = new Array(count)
  for (let i = 0; i < count; i++) urls[i] = `${bases[i % bases.length]}?r=${round}&i=${i}`
  return urls
}

/** Sockets this process holds open (Linux; NaN elsewhere). */
function openSockets () {
  try {
    let n = 0
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++
      } catch { /* closed meanwhile */ }
    }
    return n
  } catch {
    return NaN
  }
}

/**
 * The limiter the promise-based clients share: `concurrency` loops pulling
 * the next index, so no client pays for a heavier queue than another.
 * Resolves with what `one` returned for each URL, in input order.
 */
async function limit (urls, concurrency, one) {
  const results = new Array(urls.length)
  let next = 0
  async function lane () {
    while (next < urls.length) {
      const k = next++
      results[k] = await one(urls[k])
    }
  }
  const lanes = []
  for (let k = 0; k < Math.min(concurrency, urls.length); k++) lanes.push(lane())
  await Promise.all(lanes)
  return results
}

/** The body recorded for a non-200 response: it fails the byte count. */
const EMPTY = new Uint8Array(0)

function fail (name, err) {
  process.stdout.write(JSON.stringify({ client: name, error: String((err && err.stack) || err) }) + '\n')
  process.exitCode = 1
}

/**
 * Runs one client: `setup(scn)` returns `{ run(urls, concurrency) → bodies,
 * close() }`, where `bodies` holds every response body (a Buffer, Uint8Array
 * or ArrayBuffer; empty for a non-200 status) in input order. Every client
 * keeps all its bodies until the run ends, as `gather` must, so peak RSS is
 * compared on equal terms. Prints one JSON line and exits.
 */
async function runClient (name, setup) {
  let client
  try {
    const scn = scenario()
    client = await setup(scn)
    if (scn.warmup > 0) {
      const bodies = await client.run(makeUrls(scn.base, scn.warmup, 'w'), scn.concurrency)
      check(bodies, scn.warmup, scn.size)
    }
    const urls = makeUrls(scn.base, scn.count, 't')
    // A timer every millisecond: over a long, mostly idle run its wake-ups
    // cost more CPU than the client's own work, so BENCH_ELD=0 leaves it out.
    const eld = process.env.BENCH_ELD === '0' ? null : monitorEventLoopDelay({ resolution: 1 })
    const cpu0 = process.cpuUsage()
    if (eld) eld.enable()
    const t0 = performance.now()
    const bodies = await client.run(urls, scn.concurrency)
    const seconds = (performance.now() - t0) / 1000
    if (eld) eld.disable()
    const cpu = process.cpuUsage(cpu0)
    check(bodies, scn.count, scn.size)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const line = {
      client: name,
      count: scn.count,
      size: scn.size,
      concurrency: scn.concurrency,
      seconds,
      rps: scn.count / seconds,
      cpuSeconds,
      cpuUsPerRequest: (cpuSeconds * 1e6) / scn.count,
      // maxRSS is in KiB on Linux: the process's peak, warm-up included.
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      eldP99Ms: eld ? eld.percentile(99) / 1e6 : NaN,
      eldMaxMs: eld ? eld.max / 1e6 : NaN,
      // After the run: the connections the client keeps idle, and its own.
      openSockets: openSockets()
    }
    process.stdout.write(JSON.stringify(line) + '\n')
  } catch (err) {
    fail(name, err)
  } finally {
    if (client && typeof client.close === 'function') {
      try { await client.close() } catch { /* the run is over; a close error changes no figure */ }
    }
  }
  // Some clients keep pools or native threads alive; the figures are out.
  setImmediate(() => process.exit())
}

function check (bodies, count, size) {
  let bytes = 0
  for (let k = 0; k < bodies.length; k++) bytes += bodies[k].byteLength
  if (bodies.length !== count || bytes !== count * size) {
    throw new Error(`received ${bytes} bytes, expected ${count} × ${size} = ${count * size}`)
  }
}

module.exports = { runClient, limit, scenario, EMPTY }
