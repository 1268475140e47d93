'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const async = require('../lib/async')

const later = (fn) => setImmediate(fn)
const delayed = (ms, value) => (cb) => setTimeout(cb, ms, null, value)
const both = (fn, ...args) => new Promise((resolve, reject) =>
  fn(...args, (err, value) => (err ? reject(err) : resolve(value))))

test('map / mapLimit / mapSeries: values, both styles, async fn', async () => {
  const sq = (x, cb) => later(() => cb(null, x * x))
  assert.deepStrictEqual(await both(async.map, [1, 2, 3], sq), [1, 4, 9])
  assert.deepStrictEqual(await async.map([1, 2, 3], sq), [1, 4, 9])
  assert.deepStrictEqual(await async.mapLimit([1, 2, 3], 2, async (x) => x * x), [1, 4, 9])
  assert.deepStrictEqual(await both(async.mapSeries, { a: 1, b: 2 }, sq), [1, 4])
  // Only the first value an iteratee passes is kept.
  assert.deepStrictEqual(await async.map([1], (x, cb) => cb(null, 'a', 'b')), ['a'])
})

test('each / eachLimit / eachSeries: callback gets only (err)', async () => {
  const seen = []
  await new Promise((resolve) => async.each([1, 2], (x, cb) => { seen.push(x); cb(null, 'ignored') }, (...args) => {
    assert.deepStrictEqual(args, [null])
    resolve()
  }))
  assert.strictEqual(await async.eachLimit([1, 2, 3], 2, (x, cb) => later(cb)), undefined)
  const order = []
  await async.eachSeries([3, 1, 2], (x, cb) => setTimeout(() => { order.push(x); cb() }, x))
  assert.deepStrictEqual(order, [3, 1, 2])
  await assert.rejects(async.forEach([1], (x, cb) => cb(new Error('e'))), { message: 'e' })
})

test('eachOf / eachOfLimit / eachOfSeries get keys', async () => {
  const pairs = []
  await async.eachOf({ a: 1, b: 2 }, (v, k, cb) => { pairs.push(`${k}=${v}`); cb() })
  await async.eachOfLimit(['x', 'y'], 1, (v, k, cb) => { pairs.push(`${k}=${v}`); later(cb) })
  await async.forEachOfSeries('hi', async (v, k) => { pairs.push(`${k}=${v}`) })
  assert.deepStrictEqual(pairs, ['a=1', 'b=2', '0=x', '1=y', '0=h', '1=i'])
})

test('mapValues family keeps keys', async () => {
  const fn = (v, k, cb) => later(() => cb(null, `${k}:${v * 2}`))
  assert.deepStrictEqual(await async.mapValues({ a: 1, b: 2 }, fn), { a: 'a:2', b: 'b:4' })
  assert.deepStrictEqual(await async.mapValuesLimit({ a: 1, b: 2 }, 1, fn), { a: 'a:2', b: 'b:4' })
  assert.deepStrictEqual(await async.mapValuesSeries([5], fn), { 0: '0:10' })
  const partial = await new Promise((resolve) => async.mapValuesSeries({ a: 1, b: 2, c: 3 },
    (v, k, cb) => cb(v === 2 ? new Error('b') : null, v), (err, obj) => resolve([err.message, obj])))
  assert.deepStrictEqual(partial, ['b', { a: 1 }])
})

test('filter / reject / select (+Limit/Series) keep input order', async () => {
  const odd = (x, cb) => setTimeout(cb, 10 - x, null, x % 2 === 1)
  assert.deepStrictEqual(await async.filter([1, 2, 3, 4, 5], odd), [1, 3, 5])
  assert.deepStrictEqual(await async.filterLimit([1, 2, 3, 4, 5], 2, odd), [1, 3, 5])
  assert.deepStrictEqual(await async.selectSeries([1, 2, 3], odd), [1, 3])
  assert.deepStrictEqual(await async.reject([1, 2, 3, 4, 5], odd), [2, 4])
  assert.deepStrictEqual(await async.rejectLimit(new Set([1, 2, 3]), 2, odd), [2])
  assert.deepStrictEqual(await async.rejectSeries({ a: 1, b: 2 }, odd), [2])
  assert.deepStrictEqual(await async.filter([1, 2], async (x) => x > 1), [2])
  await assert.rejects(async.filter([1], (x, cb) => cb(new Error('f'))), { message: 'f' })
})

test('detect / some / every and aliases stop early', async () => {
  const started = []
  const gt = (n) => (x, cb) => { started.push(x); later(() => cb(null, x > n)) }
  assert.strictEqual(await async.detectSeries([1, 5, 7, 9], gt(4)), 5)
  assert.deepStrictEqual(started, [1, 5])
  assert.strictEqual(await async.find([1, 2], gt(4)), undefined)
  assert.strictEqual(await async.detectLimit([1, 6, 7], 2, gt(4)), 6)
  assert.strictEqual(await async.some([1, 2, 3], gt(2)), true)
  assert.strictEqual(await async.anyLimit([1, 2, 3], 1, gt(5)), false)
  assert.strictEqual(await async.someSeries([], gt(5)), false)
  assert.strictEqual(await async.every([3, 4], gt(2)), true)
  assert.strictEqual(await async.allSeries([3, 1, 4], gt(2)), false)
  assert.strictEqual(await async.everyLimit([], 2, gt(2)), true)
  assert.strictEqual(await async.all([1], async (x) => x === 1), true)
  await assert.rejects(async.some([1], (x, cb) => cb(new Error('s'))), { message: 's' })
  let infinite = 0
  function* naturals () { for (;;) yield infinite++ }
  assert.strictEqual(await async.detectSeries(naturals(), (x, cb) => cb(null, x === 3)), 3)
})

test('concat / flatMap (+Limit/Series) flatten one level, in order', async () => {
  const twice = (x, cb) => setTimeout(cb, 5 - x, null, [x, [x]])
  assert.deepStrictEqual(await async.concat([1, 2, 3], twice), [1, [1], 2, [2], 3, [3]])
  assert.deepStrictEqual(await async.concatLimit([1, 2], 1, twice), [1, [1], 2, [2]])
  assert.deepStrictEqual(await async.flatMapSeries([1, 2], (x, cb) => cb(null, x, x)), [1, 1, 2, 2])
  assert.deepStrictEqual(await async.concat([1, 2], (x, cb) => cb()), [])
  const partial = await new Promise((resolve) => async.concatSeries([1, 2, 3],
    (x, cb) => cb(x === 2 ? new Error('c') : null, [x]), (err, r) => resolve([err.message, r])))
  assert.deepStrictEqual(partial, ['c', [1]])
})

test('groupBy (+Limit/Series)', async () => {
  const parity = (x, cb) => later(() => cb(null, x % 2 ? 'odd' : 'even'))
  assert.deepStrictEqual(await async.groupBy([1, 2, 3, 4], parity), { odd: [1, 3], even: [2, 4] })
  assert.deepStrictEqual(await async.groupByLimit([1, 2], 1, parity), { odd: [1], even: [2] })
  assert.deepStrictEqual(await async.groupBySeries({ a: 5 }, parity), { odd: [5] })
  await assert.rejects(async.groupBy([1], (x, cb) => cb(new Error('g'))), { message: 'g' })
})

test('reduce / inject / foldl / reduceRight / foldr in series', async () => {
  const add = (memo, x, cb) => later(() => cb(null, memo + x))
  assert.strictEqual(await async.reduce([1, 2, 3], 0, add), 6)
  assert.strictEqual(await async.inject([1, 2, 3], 10, add), 16)
  assert.strictEqual(await async.foldl([1, 2], 0, async (m, x) => m + x), 3)
  const cat = (memo, x, cb) => cb(null, memo + x)
  assert.strictEqual(await async.reduceRight(['a', 'b', 'c'], '', cat), 'cba')
  assert.strictEqual(await async.foldr(['a', 'b'], '>', cat), '>ba')
  const partial = await new Promise((resolve) => async.reduce([1, 2, 3], 0,
    (m, x, cb) => cb(x === 3 ? new Error('r') : null, m + x), (err, memo) => resolve([err.message, memo])))
  assert.deepStrictEqual(partial, ['r', 6])
})

test('sortBy', async () => {
  assert.deepStrictEqual(await async.sortBy([3, 1, 2], (x, cb) => later(() => cb(null, x))), [1, 2, 3])
  assert.deepStrictEqual(await async.sortBy([3, 1, 2], async (x) => -x), [3, 2, 1])
  await assert.rejects(async.sortBy([1], (x, cb) => cb(new Error('s'))), { message: 's' })
})

test('transform with and without accumulator', async () => {
  const r1 = await async.transform([1, 2], (acc, v, k, cb) => { acc.push(v * 2); cb() })
  assert.deepStrictEqual(r1, [2, 4])
  const r2 = await async.transform({ a: 1 }, (acc, v, k, cb) => { acc[k.toUpperCase()] = v; cb() })
  assert.deepStrictEqual(r2, { A: 1 })
  const r3 = await new Promise((resolve) => async.transform([1, 2], { sum: 0 },
    (acc, v, k, cb) => { acc.sum += v; later(cb) }, (err, acc) => resolve(acc)))
  assert.deepStrictEqual(r3, { sum: 3 })
  assert.deepStrictEqual(await async.transform([1], {}, async (acc, v) => { acc.x = v }), { x: 1 })
})

test('times / timesLimit / timesSeries', async () => {
  assert.deepStrictEqual(await async.times(3, (n, cb) => later(() => cb(null, n * 2))), [0, 2, 4])
  assert.deepStrictEqual(await async.timesLimit(4, 2, async (n) => n), [0, 1, 2, 3])
  const order = []
  await async.timesSeries(3, (n, cb) => setTimeout(() => { order.push(n); cb() }, 3 - n))
  assert.deepStrictEqual(order, [0, 1, 2])
  assert.deepStrictEqual(await async.times(0, (n, cb) => cb()), [])
})

test('delayed helpers keep order even with timers', async () => {
  const tasks = [delayed(20, 'a'), delayed(5, 'b')]
  assert.deepStrictEqual(await async.parallel(tasks), ['a', 'b'])
})
