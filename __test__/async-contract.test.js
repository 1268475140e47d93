'use strict'

// The cross-cutting contract of lib/async: calling styles, errors, limits,
// kinds of collection, cancellation and stack safety.

const { test } = require('node:test')
const assert = require('node:assert')
const async = require('../lib/async')

const double = (x, cb) => cb(null, x * 2)
const tick = () => new Promise((resolve) => setImmediate(resolve))

test('exports every async 3.2.6 name, aliases pointing at their targets', () => {
  const names = `all allLimit allSeries any anyLimit anySeries apply applyEach applyEachSeries asyncify auto
    autoInject cargo cargoQueue compose concat concatLimit concatSeries constant detect detectLimit detectSeries dir
    doDuring doUntil doWhilst during each eachLimit eachOf eachOfLimit eachOfSeries eachSeries ensureAsync every
    everyLimit everySeries filter filterLimit filterSeries find findLimit findSeries flatMap flatMapLimit
    flatMapSeries foldl foldr forEach forEachLimit forEachOf forEachOfLimit forEachOfSeries forEachSeries forever
    groupBy groupByLimit groupBySeries inject log map mapLimit mapSeries mapValues mapValuesLimit mapValuesSeries
    memoize nextTick parallel parallelLimit priorityQueue queue race reduce reduceRight reflect reflectAll reject
    rejectLimit rejectSeries retry retryable select selectLimit selectSeries seq series setImmediate some someLimit
    someSeries sortBy timeout times timesLimit timesSeries transform tryEach unmemoize until waterfall whilst
    wrapSync`.split(/\s+/)
  for (const name of names) assert.strictEqual(typeof async[name], 'function', name)
  assert.strictEqual(async.forEachOf, async.eachOf)
  assert.strictEqual(async.inject, async.reduce)
  assert.strictEqual(async.foldr, async.reduceRight)
  assert.strictEqual(async.wrapSync, async.asyncify)
  assert.strictEqual(async.during, async.whilst)
  assert.strictEqual(async.doDuring, async.doWhilst)
  assert.strictEqual(async.flatMapLimit, async.concatLimit)
  const fresh = async.createAsync()
  for (const name of names) assert.strictEqual(typeof fresh[name], 'function', name)
})

test('callback style returns undefined; no callback returns a Promise', async () => {
  assert.strictEqual(async.map([1], double, () => {}), undefined)
  assert.strictEqual(async.each([1], (x, cb) => cb(), () => {}), undefined)
  assert.strictEqual(async.parallel([(cb) => cb()], () => {}), undefined)
  const p = async.map([1, 2], double)
  assert.ok(p instanceof Promise)
  assert.deepStrictEqual(await p, [2, 4])
  assert.deepStrictEqual(await async.mapLimit([1, 2, 3], 2, double), [2, 4, 6])
  assert.deepStrictEqual(await async.series([(cb) => cb(null, 1), (cb) => cb(null, 2, 3)]), [1, [2, 3]])
  // A non-function in the callback position means Promise style, as in async.
  assert.ok(async.map([1], double, 'nope') instanceof Promise)
})

test('synchronous iteratees complete synchronously', () => {
  let result = null
  async.map([1, 2, 3], double, (err, r) => { result = r })
  assert.deepStrictEqual(result, [2, 4, 6])
  async.mapSeries([1, 2], double, (err, r) => { result = r })
  assert.deepStrictEqual(result, [2, 4])
  async.eachOfLimit({ a: 1 }, 3, (v, k, cb) => cb(), (err) => { result = err })
  assert.strictEqual(result, null)
  async.waterfall([(cb) => cb(null, 1), (x, cb) => cb(null, x + 1)], (err, r) => { result = r })
  assert.strictEqual(result, 2)
})

test('results keep input order whatever the finishing order', async () => {
  const out = await async.map([30, 10, 20, 0], (ms, cb) => setTimeout(cb, ms, null, ms))
  assert.deepStrictEqual(out, [30, 10, 20, 0])
  const lim = await async.mapLimit([30, 10, 20, 0], 2, (ms, cb) => setTimeout(cb, ms, null, ms))
  assert.deepStrictEqual(lim, [30, 10, 20, 0])
})

test('first error: partial live results, later errors ignored, callback once', async () => {
  const calls = []
  await new Promise((resolve) => {
    async.map([1, 2, 3, 4], (x, cb) => {
      setTimeout(() => (x % 2 === 0 ? cb(Object.assign(new Error('bad'), { item: x })) : cb(null, x * 10)), x * 5)
    }, (err, results) => {
      calls.push([err.item, results.slice()])
      setTimeout(resolve, 40)
    })
  })
  assert.strictEqual(calls.length, 1)
  assert.strictEqual(calls[0][0], 2)
  assert.deepStrictEqual(calls[0][1], [10, undefined])
  await assert.rejects(async.map([1, 2], (x, cb) => cb(x === 2 ? new Error('x') : null)), { message: 'x' })
})

test('Limit and Series start nothing new after an error', async () => {
  const started = []
  const err = await new Promise((resolve) => {
    async.mapLimit([1, 2, 3, 4, 5, 6], 2, (x, cb) => {
      started.push(x)
      setImmediate(() => cb(x === 2 ? new Error('stop') : null, x))
    }, resolve)
  })
  assert.ok(err instanceof Error)
  await new Promise((r) => setTimeout(r, 10))
  assert.deepStrictEqual(started, [1, 2, 3])
  const seen = []
  await assert.rejects(async.eachSeries([1, 2, 3], async (x) => {
    seen.push(x)
    if (x === 2) throw new Error('two')
  }), { message: 'two' })
  assert.deepStrictEqual(seen, [1, 2])
})

test('never more than `limit` at once, started in input order', async () => {
  let running = 0
  let peak = 0
  const order = []
  await async.eachLimit([...Array(20).keys()], 3, (x, cb) => {
    order.push(x)
    running++
    peak = Math.max(peak, running)
    setTimeout(() => { running--; cb() }, (x * 7) % 5)
  })
  assert.strictEqual(peak, 3)
  assert.deepStrictEqual(order, [...Array(20).keys()])
})

test('limit < 1 throws RangeError in callback style and rejects in Promise style', async () => {
  for (const limit of [0, -1, NaN, undefined]) {
    assert.throws(() => async.mapLimit([1], limit, double, () => {}),
      (e) => e instanceof RangeError && e.message === 'concurrency limit cannot be less than 1')
    await assert.rejects(async.eachLimit([1], limit, (x, cb) => cb()),
      (e) => e instanceof RangeError && e.message === 'concurrency limit cannot be less than 1')
  }
  await assert.rejects(async.parallelLimit([], 0), RangeError)
  await assert.rejects(async.timesLimit(3, 0, (n, cb) => cb()), RangeError)
  await assert.rejects(async.filterLimit([1], 0, (x, cb) => cb()), RangeError)
})

test("'expected a function' for a non-function iteratee", async () => {
  assert.throws(() => async.map([1], null, () => {}), { message: 'expected a function' })
  assert.throws(() => async.each([1], 42, () => {}), { message: 'expected a function' })
  await assert.rejects(async.map([1], 'nope'), { message: 'expected a function' })
  await assert.rejects(async.parallel([1]), { message: 'expected a function' })
})

test("'Callback was already called.' when an iteratee calls back twice", () => {
  const fns = {
    map: (fn) => async.map([1], fn, () => {}),
    mapSeries: (fn) => async.mapSeries([1], fn, () => {}),
    mapLimit: (fn) => async.mapLimit({ a: 1 }, 2, fn, () => {}),
    each: (fn) => async.each([1], fn, () => {}),
    filter: (fn) => async.filter([1], fn, () => {}),
    parallel: (fn) => async.parallel([(cb) => fn(1, cb)], () => {}),
    series: (fn) => async.series({ a: (cb) => fn(1, cb) }, () => {}),
    waterfall: (fn) => async.waterfall([(cb) => fn(1, cb)], () => {})
  }
  for (const [name, run] of Object.entries(fns)) {
    assert.throws(() => run((x, cb) => { cb(null, x); cb(null, x) }),
      { message: 'Callback was already called.' }, name)
  }
})

test('cb(false) cancels silently: the final callback never runs', async () => {
  let finals = 0
  const started = []
  async.mapSeries([1, 2, 3], (x, cb) => { started.push(x); cb(x === 2 ? false : null, x) }, () => finals++)
  async.map([1, 2, 3], (x, cb) => setImmediate(cb, x === 1 ? false : null), () => finals++)
  async.parallel([(cb) => cb(false)], () => finals++)
  async.waterfall([(cb) => cb(false)], () => finals++)
  async.whilst((cb) => cb(null, true), (cb) => cb(false), () => finals++)
  async.auto({ a: (cb) => cb(false), b: ['a', (r, cb) => cb()] }, () => finals++)
  await new Promise((r) => setTimeout(r, 20))
  assert.strictEqual(finals, 0)
  assert.deepStrictEqual(started, [1, 2])
  // Other falsy errors count as success.
  assert.deepStrictEqual(await async.map([1, 2], (x, cb) => cb(x === 1 ? 0 : '', x)), [1, 2])
})

test('async functions: return value used, rejections propagate, falsy rejections become Errors', async () => {
  assert.deepStrictEqual(await async.map([1, 2], async (x) => x + 1), [2, 3])
  const err = await new Promise((resolve) => async.map([1], async () => { throw undefined }, resolve))
  assert.ok(err instanceof Error)
  const err2 = await new Promise((resolve) => async.each([1], async () => Promise.reject(false), resolve))
  assert.ok(err2 instanceof Error, 'a rejection with false is an error, not a cancel')
  const err3 = await new Promise((resolve) => async.each([1], async () => Promise.reject('text'), resolve))
  assert.ok(err3 instanceof Error)
  assert.strictEqual(err3.message, 'text')
  const withMessage = { message: 'duck' }
  const err4 = await new Promise((resolve) => async.each([1], async () => Promise.reject(withMessage), resolve))
  assert.strictEqual(err4, withMessage)
})

test('every kind of collection', async () => {
  const id = (x, cb) => cb(null, x)
  assert.deepStrictEqual(await async.map([1, 2], id), [1, 2])
  assert.deepStrictEqual(await async.map('ab', id), ['a', 'b'])
  assert.deepStrictEqual(await async.map({ length: 2, 0: 'x', 1: 'y' }, id), ['x', 'y'])
  assert.deepStrictEqual(await async.map(new Set([3, 4]), id), [3, 4])
  assert.deepStrictEqual(await async.map(new Map([['k', 1]]), id), [['k', 1]])
  assert.deepStrictEqual(await async.map({ a: 1, b: 2 }, id), [1, 2])
  assert.deepStrictEqual(await async.map((function* g () { yield 5; yield 6 })(), id), [5, 6])
  assert.deepStrictEqual(await async.mapLimit((async function* g () { yield 7; yield 8 })(), 2, id), [7, 8])
  const asyncIterable = { async *[Symbol.asyncIterator] () { yield 'p'; yield 'q' } }
  assert.deepStrictEqual(await async.map(asyncIterable, id), ['p', 'q'])
  assert.deepStrictEqual(await async.map(null, id), [])
  assert.deepStrictEqual(await async.map(undefined, id), [])
  assert.deepStrictEqual(await async.mapSeries(null, id), [])
  assert.deepStrictEqual(await async.mapValues(null, id), {})
  assert.strictEqual(await async.each(null, id), undefined)
  const keys = []
  await async.eachOf({ a: 1, b: 2 }, (v, k, cb) => { keys.push(k); cb() })
  await async.eachOf(['x'], (v, k, cb) => { keys.push(k); cb() })
  await async.eachOf(new Map([['m', 1]]), (v, k, cb) => { keys.push([k, v]); cb() })
  assert.deepStrictEqual(keys, ['a', 'b', 0, [0, ['m', 1]]])
})

test('1e6 synchronous iteratees: no stack overflow', () => {
  const n = 1e6
  const items = new Array(n).fill(1)
  for (const run of [
    (cb) => async.map(items, double, cb),
    (cb) => async.mapSeries(items, double, cb),
    (cb) => async.mapLimit(items, 8, double, cb),
    (cb) => async.eachSeries(items, (x, next) => next(), (err) => cb(err, [])),
    (cb) => async.eachOfLimit(items, 4, (x, k, next) => next(), (err) => cb(err, []))
  ]) {
    let out = null
    run((err, r) => { out = [err, r] })
    assert.ok(out, 'completed synchronously')
    assert.strictEqual(out[0], null)
  }
  let last = null
  async.mapSeries(items, double, (err, r) => { last = r })
  assert.strictEqual(last.length, n)
  assert.strictEqual(last[n - 1], 2)
})

test('long synchronous waterfall, whilst and auto chains do not overflow either', () => {
  const tasks = [(cb) => cb(null, 0)]
  for (let i = 0; i < 1e5; i++) tasks.push((x, cb) => cb(null, x + 1))
  let result = null
  async.waterfall(tasks, (err, r) => { result = r })
  assert.strictEqual(result, 1e5)
  let i = 0
  async.whilst((cb) => cb(null, i < 1e5), (cb) => { i++; cb(null, i) }, (err, r) => { result = r })
  assert.strictEqual(result, 1e5)
  i = 0
  async.doUntil((cb) => { i++; cb(null, i) }, (n, cb) => cb(null, n >= 1e5), (err, r) => { result = r })
  assert.strictEqual(result, 1e5)
  const chain = { t0: (cb) => cb(null, 0) }
  for (let k = 1; k < 1e5; k++) chain[`t${k}`] = [`t${k - 1}`, (r, cb) => cb(null, r[`t${k - 1}`] + 1)]
  async.auto(chain, (err, r) => { result = r.t99999 })
  assert.strictEqual(result, 99999)
})

test('Promise mode: no unhandled partial results, rejection carries the error', async () => {
  const error = new Error('boom')
  await assert.rejects(async.parallel([(cb) => cb(null, 1), (cb) => cb(error)]), (e) => e === error)
  await tick()
})

test('fractional limits run up to their ceiling at once, as in async', async () => {
  for (const [limit, expected] of [[0.5, 1], [1.5, 2], [2.2, 3]]) {
    let running = 0
    let max = 0
    const out = await async.mapLimit([1, 2, 3, 4, 5, 6], limit, async (x) => {
      running++
      max = Math.max(max, running)
      await new Promise((resolve) => setTimeout(resolve, 5))
      running--
      return x * 2
    })
    assert.deepStrictEqual(out, [2, 4, 6, 8, 10, 12])
    assert.strictEqual(max, expected)
  }
})
