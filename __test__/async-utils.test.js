'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const async = require('../lib/async')

const call = (fn, ...args) => new Promise((resolve) => fn(...args, (...out) => resolve(out)))

test('reflect and reflectAll turn outcomes into values', async () => {
  const ok = async.reflect((cb) => cb(null, 1))
  const bad = async.reflect((cb) => cb(new Error('r')))
  const many = async.reflect((cb) => cb(null, 1, 2))
  const asyncBad = async.reflect(async () => { throw new Error('ar') })
  const results = await async.parallel([ok, bad, many, asyncBad])
  assert.deepStrictEqual(results[0], { value: 1 })
  assert.strictEqual(results[1].error.message, 'r')
  assert.deepStrictEqual(results[2], { value: [1, 2] })
  assert.strictEqual(results[3].error.message, 'ar')
  assert.deepStrictEqual(Object.keys(results[3]), ['error', 'value'], 'a rejection reflects with a value key')
  assert.strictEqual(results[3].value, undefined)
  const all = async.reflectAll({ a: (cb) => cb(null, 'A'), b: (cb) => cb(new Error('B')) })
  const r = await async.parallel(all)
  assert.deepStrictEqual(r.a, { value: 'A' })
  assert.strictEqual(r.b.error.message, 'B')
  assert.strictEqual(async.reflectAll([(cb) => cb()]).length, 1)
})

test('timeout gives ETIMEDOUT with info and passes fast results through', async () => {
  const slow = async.timeout(function slowOne (cb) { setTimeout(cb, 50, null, 'late') }, 5, { what: 'x' })
  const [err] = await call(slow)
  assert.strictEqual(err.code, 'ETIMEDOUT')
  assert.deepStrictEqual(err.info, { what: 'x' })
  assert.match(err.message, /slowOne/)
  const fast = async.timeout((a, cb) => cb(null, a + 1), 50)
  assert.deepStrictEqual(await call(fast, 1), [null, 2])
  const asyncFast = async.timeout(async (a) => a * 2, 50)
  assert.deepStrictEqual(await call(asyncFast, 2), [null, 4])
})

test('asyncify / wrapSync: sync values, throws, promises', async () => {
  const parse = async.asyncify(JSON.parse)
  assert.deepStrictEqual(await call(parse, '{"a":1}'), [null, { a: 1 }])
  const [err] = await call(parse, '{')
  assert.ok(err instanceof SyntaxError)
  const p = async.wrapSync((x) => Promise.resolve(x * 2))
  assert.deepStrictEqual(await call(p, 4), [null, 8])
  const rej = async.asyncify(() => Promise.reject(null))
  const [e2] = await call(rej)
  assert.ok(e2 instanceof Error)
  assert.deepStrictEqual(await async.map([1, 2], async.asyncify((x) => x + 1)), [2, 3])
})

test('ensureAsync defers synchronous callbacks', async () => {
  let sync = true
  const fn = async.ensureAsync((x, cb) => cb(null, x))
  const out = await new Promise((resolve) => { fn(5, (e, v) => resolve([sync, v])); sync = false })
  assert.deepStrictEqual(out, [false, 5])
  const asyncFn = async () => 1
  assert.strictEqual(async.ensureAsync(asyncFn), asyncFn)
})

test('memoize / unmemoize', async () => {
  let calls = 0
  const slow = (a, b, cb) => { calls++; setTimeout(cb, 2, null, a + b) }
  const fast = async.memoize(slow, (a, b) => `${a}+${b}`)
  const [r1, r2] = await Promise.all([call(fast, 1, 2), call(fast, 1, 2)])
  assert.deepStrictEqual(r1, [null, 3])
  assert.deepStrictEqual(r2, [null, 3])
  assert.strictEqual(calls, 1)
  let sync = true
  const hit = await new Promise((resolve) => { fast(1, 2, (e, v) => resolve([sync, v])); sync = false })
  assert.deepStrictEqual(hit, [false, 3])
  assert.deepStrictEqual(fast.memo['1+2'], [3])
  assert.strictEqual(fast.unmemoized, slow)
  const plain = async.unmemoize(fast)
  await call(plain, 1, 2)
  assert.strictEqual(calls, 2)
  let failures = 0
  const failing = async.memoize((x, cb) => { failures++; cb(new Error('no')) })
  await call(failing, 1)
  await call(failing, 1)
  assert.strictEqual(failures, 2, 'errors are not cached')
})

test('apply, constant', async () => {
  const r = await async.parallel([async.apply((a, b, cb) => cb(null, a + b), 1, 2), async.constant(7)])
  assert.deepStrictEqual(r, [3, 7])
  assert.deepStrictEqual(await call(async.constant(1, 2), 'ignored'), [null, 1, 2])
  assert.strictEqual(await async.waterfall([async.constant(4), (x, cb) => cb(null, x * x)]), 16)
})

test('log and dir print results or errors', async (t) => {
  const logged = []
  t.mock.method(console, 'log', (...a) => logged.push(['log', ...a]))
  t.mock.method(console, 'dir', (...a) => logged.push(['dir', ...a]))
  t.mock.method(console, 'error', (...a) => logged.push(['error', a[0].message]))
  async.log((x, cb) => cb(null, x, x + 1), 1)
  async.dir((cb) => cb(null, { a: 1 }))
  async.log((cb) => cb(new Error('bad')))
  async.log(async (x) => x * 10, 2)
  await new Promise((r) => setImmediate(r))
  assert.deepStrictEqual(logged, [['log', 1], ['log', 2], ['dir', { a: 1 }], ['error', 'bad'], ['log', 20]])
})

test('log and dir print nothing where console lacks the method', () => {
  const { error, dir } = console
  console.error = undefined
  console.dir = undefined
  try {
    assert.doesNotThrow(() => async.log((cb) => cb(new Error('unseen'))))
    assert.doesNotThrow(() => async.dir((cb) => cb(null, 'unseen')))
  } finally {
    Object.assign(console, { error, dir })
  }
})

test('nextTick and setImmediate defer with arguments', async () => {
  const order = []
  await new Promise((resolve) => {
    async.setImmediate((a, b) => order.push(['setImmediate', a, b]), 1, 2)
    async.nextTick((a) => { order.push(['nextTick', a]) }, 3)
    order.push('sync')
    setTimeout(resolve, 5)
  })
  assert.strictEqual(order[0], 'sync')
  assert.strictEqual(order.length, 3)
  assert.deepStrictEqual(order.slice(1).sort(), [['nextTick', 3], ['setImmediate', 1, 2]].sort())
})
