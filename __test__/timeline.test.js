'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { timeline } = fetchpool
const { fromColumns } = require('../lib/timeline')
const { startServer, refusedPort } = require('./support/server')

let server
before(async () => { server = await startServer() })
after(() => server.close())

const req = (queued, start, end, extra = {}) => ({ timing: { queued, start, firstByte: end, end }, ...extra })

test('timeline draws f(t) from constructed timings: steps, peak, mean and makespan', () => {
  // Three requests queued at 100: [100,110), [105,120), [110,130) in flight.
  const t = timeline([req(100, 100, 110), req(100, 105, 120), req(100, 110, 130, { bytes: 7 })])
  assert.deepEqual(t.concurrency, [
    { t: 0, inFlight: 1 },
    { t: 5, inFlight: 2 },
    { t: 20, inFlight: 1 },
    { t: 30, inFlight: 0 }
  ])
  // At 110 one ends as another starts: applied together, no spike to 3.
  assert.equal(t.peakInFlight, 2)
  assert.equal(t.start, 100)
  assert.equal(t.end, 130)
  assert.equal(t.makespan, 30)
  // Σ (end − start) / makespan = (10 + 15 + 20) / 30
  assert.equal(t.meanInFlight, 45 / 30)
  assert.equal(t.done, 3)
  assert.equal(t.failed, 0)
  assert.equal(t.bytes, 7)
  assert.equal(t.rate, 100)
})

test('timeline measures the makespan from the first queued moment', () => {
  const t = timeline([req(0, 40, 50), req(10, 50, 60)])
  assert.equal(t.makespan, 60)
  assert.deepEqual(t.concurrency[0], { t: 0, inFlight: 0 })
  assert.deepEqual(t.concurrency[1], { t: 40, inFlight: 1 })
  assert.equal(t.peakInFlight, 1)
})

test('timeline latency percentiles are values that occurred, by nearest rank', () => {
  const results = Array.from({ length: 100 }, (_, i) => req(0, 0, i + 1))
  const { latency } = timeline(results)
  assert.deepEqual(latency, { min: 1, mean: 50.5, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 })
})

test('timeline counts completions per bucket of throughput', () => {
  const results = [req(0, 0, 1), req(0, 0, 2), req(0, 0, 15), req(0, 0, 39)]
  const t = timeline(results, { bucket: 10 })
  assert.equal(t.bucket, 10)
  assert.deepEqual(t.throughput.map((b) => [b.t, b.done, b.rate]), [[0, 2, 200], [10, 1, 100], [20, 0, 0], [30, 1, 100]])
})

test('timeline reads settled outcomes and errors, and counts untimed ones', () => {
  const err = Object.assign(new Error('refused'), { code: 'ECONNREFUSED', timing: { queued: 0, start: 2, end: 4 } })
  const input = Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_URL' })
  const t = timeline([
    { status: 'fulfilled', value: req(0, 0, 10) },
    { status: 'rejected', reason: err },
    { status: 'rejected', reason: input },
    req(0, 1, 3, { error: 'ECONNRESET' })
  ])
  assert.equal(t.done, 4)
  assert.equal(t.failed, 3)
  assert.equal(t.untimed, 1)
  assert.equal(t.peakInFlight, 3)
})

test('timeline of nothing is all zero', () => {
  const t = timeline([])
  assert.equal(t.done, 0)
  assert.equal(t.makespan, 0)
  assert.equal(t.peakInFlight, 0)
  assert.deepEqual(t.concurrency, [{ t: 0, inFlight: 0 }])
  assert.equal(t.latency.p99, 0)
})

test('timeline refuses what is not a list of results, with Node codes', () => {
  for (const results of [42, null, {}, '']) {
    assert.throws(() => timeline(results), { code: 'ERR_INVALID_ARG_TYPE' }, JSON.stringify(results))
  }
  assert.throws(() => timeline([null]), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => timeline([42]), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => timeline([], 5), { code: 'ERR_INVALID_ARG_TYPE' })
  for (const options of [{ bucket: 0 }, { buckets: 1.5 }, { buckets: 0 }, { buckets: 1e6 + 1 }]) {
    assert.throws(() => timeline([], options), { code: 'ERR_OUT_OF_RANGE' }, JSON.stringify(options))
  }
  // The bounds themselves are accepted, and null options are none.
  assert.equal(timeline([req(0, 0, 10)], { buckets: 1 }).throughput.length, 1)
  assert.equal(timeline([req(0, 0, 10)], { buckets: 1e6 }).bucket, 1)
  assert.equal(timeline([req(0, 0, 10)], null).done, 1)
})

test('timeline of a real batch peaks at the concurrency the server saw', async () => {
  const urls = Array.from({ length: 24 }, (_, i) => server.url(`/slow?ms=30&id=${i}`))
  const results = await fetchpool.gather(urls, { concurrency: 6 })
  const t = timeline(results)
  assert.equal(t.done, 24)
  assert.equal(t.failed, 0)
  assert.ok(t.peakInFlight <= 6, `peak ${t.peakInFlight}`)
  assert.ok(t.peakInFlight >= server.stats.maxInFlight, `peak ${t.peakInFlight} < server ${server.stats.maxInFlight}`)
  assert.equal(t.concurrency.at(-1).inFlight, 0)
  assert.equal(t.throughput.reduce((s, b) => s + b.done, 0), 24)
  const bytes = results.reduce((sum, res) => sum + res.buffer.length, 0)
  assert.ok(bytes > 0)
  assert.equal(t.bytes, bytes)
})

test('a failed request carries its timing, so timeline draws it', async () => {
  const url = `http://127.0.0.1:${await refusedPort()}/`
  const [outcome] = await fetchpool.gather([url], { settle: true })
  assert.equal(outcome.reason.code, 'ECONNREFUSED')
  const { timing } = outcome.reason
  assert.ok(timing.queued <= timing.start && timing.start <= timing.end)
  assert.equal(timing.firstByte, undefined)
  const t = timeline([outcome])
  assert.equal(t.failed, 1)
  assert.equal(t.untimed, 0)
  assert.equal(t.peakInFlight, 1)
})

test('timeline throughput: nice bucket widths, every completion counted once', () => {
  // 1,300 ms over the default 100 buckets: 13 ms rounds up to a width of
  // 1, 2 or 5 times a power of ten, here 20 ms, and 65 buckets.
  const spread = Array.from({ length: 14 }, (_, i) => req(0, 0, i * 100))
  const t = timeline(spread)
  assert.equal(t.makespan, 1300)
  assert.equal(t.bucket, 20)
  assert.equal(t.throughput.length, 65)
  // The last completion, at the very end, lands in the last bucket.
  assert.equal(t.throughput.reduce((sum, b) => sum + b.done, 0), 14)
  assert.equal(t.throughput.at(-1).done, 1)
  // A run with no length still has one bucket holding its completions.
  const instant = timeline([req(5, 5, 5), req(5, 5, 5)])
  assert.equal(instant.makespan, 0)
  assert.equal(instant.rate, 0)
  assert.equal(instant.meanInFlight, 0)
  assert.deepEqual(instant.throughput.map((b) => b.done), [2])
})

test('timeline reads results given in any order', () => {
  // In flight [120,150), [100,110) and [105,130), ends out of order.
  const t = timeline([req(100, 120, 150), req(100, 100, 110), req(100, 105, 130)], { bucket: 10 })
  assert.deepEqual(t.concurrency, [
    { t: 0, inFlight: 1 },
    { t: 5, inFlight: 2 },
    { t: 10, inFlight: 1 },
    { t: 20, inFlight: 2 },
    { t: 30, inFlight: 1 },
    { t: 50, inFlight: 0 }
  ])
  assert.equal(t.end, 150)
  assert.equal(t.makespan, 50)
  assert.deepEqual(t.throughput.map((b) => b.done), [0, 1, 0, 1, 1])
  assert.deepEqual(t.latency, { min: 10, mean: 65 / 3, p50: 25, p90: 30, p95: 30, p99: 30, max: 30 })
})

test('timeline reads each kind of result by what it is', () => {
  const t = timeline([
    Object.assign(new Error('reset'), { code: 'ECONNRESET', timing: { queued: 0, start: 0, end: 10 } }),
    req(0, 0, 10, { error: null, bytes: 3 }),
    { status: 'rejected', reason: null },
    { status: 'rejected', reason: undefined },
    { status: 'rejected', reason: 'boom' },
    { timing: null },
    // Plain records, not settled outcomes, whatever their fields are named.
    req(0, 0, 10, { value: 'x' }),
    req(0, 0, 10, { reason: 'x' }),
    // A body saved to a file counts by its saved length.
    req(0, 0, 10, { savedBytes: 5, buffer: Buffer.alloc(0) })
  ])
  assert.deepEqual([t.done, t.failed, t.untimed, t.bytes], [9, 4, 4, 8])
})

test('timeline uses a timing only when it is whole and in order', () => {
  const t = timeline([
    { timing: { queued: 0, start: 1 } },
    { timing: { queued: 0, start: 5, end: 3 } },
    { timing: { queued: 0, start: 0, end: Infinity } },
    // A start below zero is no start: the interval runs from queued.
    { timing: { queued: 0, start: -1, end: 10 } }
  ])
  assert.deepEqual([t.done, t.untimed, t.start, t.makespan, t.latency.max], [4, 3, 0, 10, 10])
})

test('timeline bucket widths are 1, 2 or 5 times a power of ten, from options.buckets', () => {
  for (const [makespan, buckets, width] of [[1000, 100, 10], [1500, 100, 20], [1000, 50, 20], [3000, 100, 50],
    [1000, 20, 50], [700, 1, 1000], [50, 100, 1]]) {
    const t = timeline([req(0, 0, makespan)], { buckets })
    assert.equal(t.bucket, width, `${makespan} ms in ${buckets} buckets`)
  }
  // fromColumns, which the command uses, takes the same default of 100.
  const cols = { done: 1, failed: 0, bytes: 0, from: Float64Array.of(0), to: Float64Array.of(1300), queued: Float64Array.of(0) }
  assert.equal(fromColumns(cols).bucket, 20)
})
