'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const async = require('../lib/async')

const later = (fn) => setImmediate(fn)

test('parallel / parallelLimit / series: arrays, objects, multi-values', async () => {
  const tasks = [(cb) => setTimeout(cb, 10, null, 1), (cb) => cb(null, 2, 3), async () => 4]
  assert.deepStrictEqual(await async.parallel(tasks), [1, [2, 3], 4])
  assert.deepStrictEqual(await async.parallelLimit(tasks, 1), [1, [2, 3], 4])
  assert.deepStrictEqual(await async.series({ a: (cb) => cb(null, 'A'), b: (cb) => later(() => cb()) }),
    { a: 'A', b: undefined })
  const order = []
  await async.series([(cb) => setTimeout(() => { order.push(1); cb() }, 10), (cb) => { order.push(2); cb() }])
  assert.deepStrictEqual(order, [1, 2])
  const partial = await new Promise((resolve) => async.series([(cb) => cb(null, 1), (cb) => cb(new Error('s'), 2),
    (cb) => cb(null, 3)], (err, r) => resolve([err.message, r])))
  assert.deepStrictEqual(partial, ['s', [1, 2]])
  assert.deepStrictEqual(await async.parallel([]), [])
  assert.deepStrictEqual(await async.parallel({}), {})
})

test('waterfall passes values along and stops on error', async () => {
  const r = await async.waterfall([
    (cb) => cb(null, 1, 2),
    (a, b, cb) => later(() => cb(null, a + b)),
    async (sum) => sum * 10
  ])
  assert.strictEqual(r, 30)
  const res = await new Promise((resolve) => async.waterfall([
    (cb) => cb(new Error('w'), 'x'), () => assert.fail('not reached')
  ], (...args) => resolve(args)))
  assert.strictEqual(res[0].message, 'w')
  assert.strictEqual(res[1], 'x')
  assert.strictEqual(await async.waterfall([]), undefined)
  await assert.rejects(async.waterfall('nope'), Error)
  assert.deepStrictEqual(await async.waterfall([(cb) => cb(null, 1, 2)]), [1, 2])
})

test('waterfall runs the next task inside a synchronous callback, as async does', async () => {
  const order = []
  const seen = await new Promise((resolve) => async.waterfall([
    (cb) => { order.push(1); cb(); order.push(2) },
    (cb) => { order.push(3); cb(); order.push(4) },
    () => resolve([...order])
  ]))
  assert.deepStrictEqual(seen, [1, 3])
  assert.deepStrictEqual(order, [1, 3, 4, 2])
})

test('waterfall nests 1,000 synchronous steps, then starts each once the one before returns', async () => {
  const returned = new Set()
  const waited = []
  const tasks = Array.from({ length: 1003 }, (_, i) => (...args) => {
    const cb = args.pop()
    if (returned.has(i - 1)) waited.push(i)
    cb(null)
    returned.add(i)
  })
  await async.waterfall(tasks)
  assert.deepStrictEqual(waited, [1000, 1001, 1002])
})

test('whilst runs past 1,000 iterations whose body calls back later', async () => {
  let n = 0
  await async.whilst((cb) => cb(null, n < 1100), (cb) => queueMicrotask(() => cb(null, ++n)))
  assert.strictEqual(n, 1100)
})

test('waterfall: an async task that rejects passes (err, undefined) on', async () => {
  const args = await new Promise((resolve) => async.waterfall([
    async () => { throw new Error('w') }
  ], (...out) => resolve(out)))
  assert.strictEqual(args.length, 2)
  assert.strictEqual(args[0].message, 'w')
})

test('auto: dependencies, results, concurrency, errors, cycles', async () => {
  const order = []
  const results = await async.auto({
    get: (cb) => { order.push('get'); later(() => cb(null, 'data')) },
    make: (cb) => { order.push('make'); cb(null, 'folder') },
    write: ['get', 'make', (r, cb) => { order.push('write'); cb(null, `${r.get}@${r.make}`) }],
    mail: ['write', async (r) => { order.push('mail'); return r.write.length }]
  })
  assert.deepStrictEqual(results, { make: 'folder', get: 'data', write: 'data@folder', mail: 11 })
  assert.deepStrictEqual(order, ['get', 'make', 'write', 'mail'])
  let running = 0
  let peak = 0
  const t = (cb) => { running++; peak = Math.max(peak, running); setTimeout(() => { running--; cb() }, 5) }
  await async.auto({ a: t, b: t, c: t, d: ['a', (r, cb) => t(cb)] }, 2)
  assert.strictEqual(peak, 2)
  const failure = await new Promise((resolve) => async.auto({
    a: (cb) => cb(null, 1),
    b: ['a', (r, cb) => cb(new Error('b'), 'partial')],
    c: ['b', () => assert.fail('not reached')]
  }, (err, r) => resolve([err.message, r])))
  assert.deepStrictEqual(failure, ['b', { a: 1, b: 'partial' }])
  assert.throws(() => async.auto({ a: ['b', (r, cb) => cb()], b: ['a', (r, cb) => cb()] }, () => {}), Error)
  assert.throws(() => async.auto({ a: ['missing', (r, cb) => cb()] }, () => {}), Error)
  assert.strictEqual(await async.auto({}), undefined) // async 3.2.6 returns no Promise here (a bug)
})

test('autoInject injects results by parameter name', async () => {
  const r = await async.autoInject({
    one: (cb) => cb(null, 1),
    two: (one, cb) => later(() => cb(null, one + 1)),
    three: async function three (one, two) { return one + two },
    four: ['three', (three, cb) => cb(null, three + 1)],
    five (four, callback) { callback(null, four + 1) }
  })
  assert.deepStrictEqual(r, { one: 1, two: 2, three: 3, four: 4, five: 5 })
})

// Two places where fetchpool's autoInject differs from async 3.2.6, which
// cannot parse a default in an arrow's parameters, and runs a task of no
// parameters without ever calling back.
test('autoInject reads parameters with defaults, and refuses a task of none', async () => {
  const r = await async.autoInject({ a: (cb) => cb(null, 1), b: (a = 10, cb) => cb(null, a + 1) })
  assert.deepStrictEqual(r, { a: 1, b: 2 })
  assert.throws(() => async.autoInject({ a: () => 1 }, () => assert.fail('not called')), Error)
})

// A bound function's source shows no parameters ("function () { [native
// code] }"): it is refused, as async 3.2.6 refuses it, and never run.
test('autoInject refuses a bound function for a task, and does not run it', () => {
  const ran = []
  const bound = [
    function (a, cb) { ran.push('callback style'); cb(null, a) }.bind(null),
    async function (a) { ran.push('async'); return a }.bind(null)
  ]
  for (const task of bound) {
    assert.throws(() => async.autoInject({ a: (cb) => cb(null, 1), b: task }, () => assert.fail('not called')), Error)
  }
  assert.deepStrictEqual(ran, [])
})

test('retry and retryable', async () => {
  let attempts = 0
  const flaky = (cb) => { attempts++; cb(attempts < 3 ? new Error(`try ${attempts}`) : null, attempts) }
  assert.strictEqual(await async.retry(flaky), 3)
  attempts = 0
  await assert.rejects(async.retry(2, flaky), { message: 'try 2' })
  attempts = 0
  const waits = []
  const r = await async.retry({ times: 5, interval: (n) => { waits.push(n); return 1 } }, flaky)
  assert.strictEqual(r, 3)
  assert.deepStrictEqual(waits, [1, 2])
  attempts = 0
  await assert.rejects(async.retry({ times: 5, errorFilter: (e) => e.message !== 'try 1' }, flaky),
    { message: 'try 1' })
  let n = 0
  const fetchish = async.retryable(3, (x, cb) => { n++; cb(n < 2 ? new Error('no') : null, x * 2) })
  assert.strictEqual(await fetchish(21), 42)
  const viaCb = await new Promise((resolve) => async.retryable(async (x) => x + 1)(1, (e, v) => resolve(v)))
  assert.strictEqual(viaCb, 2)
  assert.throws(() => async.retry(3, 'nope', () => {}), Error)
})

test('whilst / during / doWhilst / doDuring / until / doUntil', async () => {
  let i = 0
  assert.deepStrictEqual(await async.whilst((cb) => cb(null, i < 3), (cb) => { i++; later(() => cb(null, i, 'x')) }),
    [3, 'x'])
  i = 0
  assert.strictEqual(await async.during(async () => i < 2, async () => { i++; return i }), 2)
  i = 10
  assert.strictEqual(await async.doWhilst((cb) => { i++; cb(null, i) }, (v, cb) => cb(null, v < 5)), 11)
  i = 0
  assert.strictEqual(await async.doDuring((cb) => { i++; cb(null, i) }, (v, cb) => cb(null, v < 4)), 4)
  i = 0
  assert.strictEqual(await async.until((cb) => cb(null, i >= 2), (cb) => { i++; cb(null, i) }), 2)
  i = 0
  assert.strictEqual(await async.doUntil(async () => ++i, async (v) => v >= 3), 3)
  await assert.rejects(async.whilst((cb) => cb(new Error('t')), (cb) => cb()), { message: 't' })
  await assert.rejects(async.whilst((cb) => cb(null, true), (cb) => cb(new Error('b'))), { message: 'b' })
  assert.strictEqual(await async.whilst((cb) => cb(null, false), () => assert.fail('no')), undefined)
})

test('forever stops on error and defers synchronous steps', async () => {
  let n = 0
  let syncDepth = 0
  const err = await new Promise((resolve) => async.forever((next) => {
    syncDepth++
    n++
    next(n === 1000 ? new Error('done') : null)
    syncDepth--
  }, resolve))
  assert.strictEqual(err.message, 'done')
  assert.strictEqual(n, 1000)
  assert.strictEqual(syncDepth, 0)
  await assert.rejects(async.forever(async () => { throw new Error('x') }), { message: 'x' })
})

test('race: first to call back wins', async () => {
  assert.strictEqual(await async.race([(cb) => setTimeout(cb, 20, null, 'slow'), (cb) => setTimeout(cb, 1, null, 'fast')]),
    'fast')
  await assert.rejects(async.race([(cb) => setTimeout(cb, 1, new Error('r')), (cb) => setTimeout(cb, 20)]), { message: 'r' })
  await assert.rejects(async.race('nope'), TypeError)
  assert.strictEqual(await async.race([]), undefined)
})

test('tryEach: first success wins, else last error', async () => {
  assert.strictEqual(await async.tryEach([(cb) => cb(new Error('1')), (cb) => cb(null, 'two'), () => assert.fail()]),
    'two')
  await assert.rejects(async.tryEach([(cb) => cb(new Error('1')), async () => { throw new Error('2') }]),
    { message: '2' })
  assert.deepStrictEqual(await async.tryEach([(cb) => cb(null, 1, 2)]), [1, 2])
})

test('seq and compose', async () => {
  const add1 = (x, cb) => later(() => cb(null, x + 1))
  const mul3 = async (x) => x * 3
  assert.strictEqual(await async.seq(add1, mul3)(1), 6)
  assert.strictEqual(await async.compose(add1, mul3)(1), 4)
  const viaCb = await new Promise((resolve) => async.seq(add1, add1)(0, (e, v) => resolve(v)))
  assert.strictEqual(viaCb, 2)
  const ctx = { k: 5 }
  const withThis = await async.seq(function (x, cb) { cb(null, x + this.k) }).call(ctx, 1)
  assert.strictEqual(withThis, 6)
  await assert.rejects(async.seq((x, cb) => cb(new Error('q')))(1), { message: 'q' })
})

test('applyEach / applyEachSeries', async () => {
  const calls = []
  const a = (x, y, cb) => { calls.push(['a', x, y]); later(() => cb(null, x + y)) }
  const b = async (x, y) => { calls.push(['b', x, y]); return x * y }
  assert.deepStrictEqual(await async.applyEach([a, b], 2, 3)(), [5, 6])
  const r = await new Promise((resolve) => async.applyEachSeries({ a, b }, 1, 1)((e, v) => resolve(v)))
  assert.deepStrictEqual(r, [2, 1])
  assert.strictEqual(calls.length, 4)
})
