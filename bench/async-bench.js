'use strict'

// fetchpool's lib/async against async and neo-async on the hot functions, over
// N synchronous and N asynchronous (setImmediate) iteratees. Libraries run in
// alternating order each round; the table shows the median items per second
// and the ratios fetchpool/async and fetchpool/neo-async.
//
//   node bench/async-bench.js            (FETCHPOOL_BENCH_N=100000, _ROUNDS=7)
//   node --expose-gc bench/async-bench.js   collects garbage between runs

const N = Number(process.env.FETCHPOOL_BENCH_N || 100000)
const ROUNDS = Number(process.env.FETCHPOOL_BENCH_ROUNDS || 7)
const LIMIT = Number(process.env.FETCHPOOL_BENCH_LIMIT || 16)
const SAMPLE_MS = Number(process.env.FETCHPOOL_BENCH_SAMPLE_MS || 60)
const ONLY = process.env.FETCHPOOL_BENCH_ONLY ? new RegExp(process.env.FETCHPOOL_BENCH_ONLY) : null

function load (name, path) {
  try {
    return { name, lib: require(path) }
  } catch (err) {
    console.error(`(${name} not available: ${err.code || err.message}; install it with npm i --prefix bench)`)
    return null
  }
}

const libs = [
  load('fetchpool', '../lib/async'),
  load('async', 'async'),
  load('neo-async', 'neo-async')
].filter(Boolean)

const items = Array.from({ length: N }, (_, i) => i)
const syncIteratee = (x, cb) => cb(null, x)
const asyncIteratee = (x, cb) => setImmediate(cb, null, x)
const syncTask = (cb) => cb(null, 1)
const asyncTask = (cb) => setImmediate(cb, null, 1)
const syncTasks = new Array(N).fill(syncTask)
const asyncTasks = new Array(N).fill(asyncTask)
const syncChain = [(cb) => cb(null, 0)].concat(new Array(N - 1).fill((x, cb) => cb(null, x + 1)))
const asyncChain = [(cb) => setImmediate(cb, null, 0)]
  .concat(new Array(N - 1).fill((x, cb) => setImmediate(cb, null, x + 1)))

// v3 sets the drain handler with q.drain(fn); neo-async keeps v2's property.
function onDrain (name, q, fn) {
  if (name === 'neo-async') q.drain = fn
  else q.drain(fn)
}

const noop = () => {}

// push(task, callback) in every library; with `promises`, v3's push(task) that
// returns a Promise per task (neo-async, a v2 API, has no such form).
function queueCase (worker, promises) {
  return (lib, done, name) => {
    if (promises && name === 'neo-async') return done(new Error('n/a'))
    const q = lib.queue(worker, LIMIT)
    onDrain(name, q, () => done(null))
    if (promises) for (let i = 0; i < N; i++) q.push(i)
    else for (let i = 0; i < N; i++) q.push(i, noop)
  }
}

const cases = [
  ['map sync', (lib, done) => lib.map(items, syncIteratee, done)],
  ['map async', (lib, done) => lib.map(items, asyncIteratee, done)],
  [`mapLimit(${LIMIT}) sync`, (lib, done) => lib.mapLimit(items, LIMIT, syncIteratee, done)],
  [`mapLimit(${LIMIT}) async`, (lib, done) => lib.mapLimit(items, LIMIT, asyncIteratee, done)],
  ['each sync', (lib, done) => lib.each(items, syncIteratee, done)],
  ['each async', (lib, done) => lib.each(items, asyncIteratee, done)],
  ['parallel sync', (lib, done) => lib.parallel(syncTasks, done)],
  ['parallel async', (lib, done) => lib.parallel(asyncTasks, done)],
  ['series sync', (lib, done) => lib.series(syncTasks, done)],
  ['series async', (lib, done) => lib.series(asyncTasks, done)],
  ['waterfall sync', (lib, done) => lib.waterfall(syncChain, done)],
  ['waterfall async', (lib, done) => lib.waterfall(asyncChain, done)],
  [`queue(${LIMIT}) sync`, queueCase(syncIteratee, false)],
  [`queue(${LIMIT}) async`, queueCase(asyncIteratee, false)],
  [`queue(${LIMIT}) async, push→Promise`, queueCase(asyncIteratee, true)]
]

// A library that overflows the stack outside our call (in its own deferred
// callback) fails only that run.
let failCurrent = null
process.on('uncaughtException', (err) => {
  if (failCurrent === null) {
    // The rest of a run that already failed: ignore its later overflows.
    if (err instanceof RangeError) return
    throw err
  }
  failCurrent(err instanceof RangeError ? 'stack overflow' : `threw ${err.name}`)
})

// Items per second over `reps` back-to-back runs, or a word on how the library
// failed. Synchronous cases finish in a few milliseconds, so they are repeated
// until a sample lasts long enough to be measured reliably.
function runOnce (run, lib, name, reps = 1) {
  return new Promise((resolve) => {
    let settled = false
    const finish = (value) => {
      if (settled) return
      settled = true
      failCurrent = null
      resolve(value)
    }
    failCurrent = finish
    if (global.gc) global.gc()
    const start = process.hrtime.bigint()
    let left = reps
    const once = () => {
      try {
        run(lib, (err) => {
          if (err) {
            setImmediate(finish, err.message === 'n/a' ? 'n/a' : `error: ${err.message}`)
          } else if (--left > 0) {
            // Let the stack unwind before the next run starts.
            setImmediate(once)
          } else {
            const ns = Number(process.hrtime.bigint() - start)
            setImmediate(finish, (N * reps) / (ns / 1e9))
          }
        }, name)
      } catch (err) {
        finish(err instanceof RangeError ? 'stack overflow' : `threw ${err.name}`)
      }
    }
    once()
  })
}

function median (values) {
  const numbers = values.filter((v) => typeof v === 'number').sort((a, b) => a - b)
  if (numbers.length === 0) return values[0]
  return numbers[Math.floor(numbers.length / 2)]
}

const fmt = (v) => (typeof v === 'number' ? Math.round(v).toLocaleString('en-US') : v)
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' ? `${(a / b).toFixed(2)}x` : '-')

async function main () {
  console.log(`async-bench: N=${N}, rounds=${ROUNDS}, node ${process.version}; items/s, median`)
  const rows = []
  for (const [label, run] of cases) {
    if (ONLY && !ONLY.test(label)) continue
    const samples = new Map(libs.map((l) => [l.name, []]))
    // Warm-up, which also sizes the samples: the slowest library's run is
    // repeated until a sample lasts about SAMPLE_MS.
    let slowest = Infinity
    for (const l of libs) {
      const rate = await runOnce(run, l.lib, l.name)
      if (typeof rate === 'number') slowest = Math.min(slowest, rate)
    }
    const reps = Number.isFinite(slowest) ? Math.max(1, Math.min(50, Math.round((SAMPLE_MS / 1000) * slowest / N))) : 1
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? libs : [...libs].reverse()
      for (const l of order) samples.get(l.name).push(await runOnce(run, l.lib, l.name, reps))
    }
    const m = Object.fromEntries([...samples].map(([name, s]) => [name, median(s)]))
    rows.push({
      case: label,
      fetchpool: fmt(m.fetchpool),
      async: fmt(m.async),
      'neo-async': fmt(m['neo-async']),
      'fp/async': ratio(m.fetchpool, m.async),
      'fp/neo': ratio(m.fetchpool, m['neo-async'])
    })
  }
  printTable(rows)
}

function printTable (rows) {
  if (rows.length === 0) return
  const cols = Object.keys(rows[0])
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (cells) => '| ' + cells.map((cell, i) => String(cell).padStart(width[i])).join(' | ') + ' |'
  console.log(line(cols))
  console.log('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|')
  for (const r of rows) console.log(line(cols.map((c) => r[c])))
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
