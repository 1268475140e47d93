'use strict'

const { test } = require('node:test')
const assert = require('node:assert')
const async = require('../lib/async')
const { collectGarbage } = require('./support/gc')

const later = (fn) => setImmediate(fn)

test('queue: results, order, concurrency, drain as a Promise', async () => {
  const started = []
  let running = 0
  let peak = 0
  const q = async.queue((task, cb) => {
    started.push(task)
    running++
    peak = Math.max(peak, running)
    setTimeout(() => { running--; cb(null, task * 2) }, 3)
  }, 2)
  const results = []
  for (let i = 0; i < 6; i++) q.push(i, (err, r) => results.push(r))
  assert.strictEqual(q.length(), 6)
  assert.strictEqual(q.started, true)
  await q.drain()
  assert.deepStrictEqual(started, [0, 1, 2, 3, 4, 5])
  assert.deepStrictEqual(results.sort((a, b) => a - b), [0, 2, 4, 6, 8, 10])
  assert.strictEqual(peak, 2)
  assert.strictEqual(q.idle(), true)
})

test('queue: push/unshift return Promises without a callback; pushAsync rejects', async () => {
  const q = async.queue(async (task) => {
    if (task === 'bad') throw new Error('bad task')
    return task.toUpperCase()
  })
  assert.strictEqual(await q.push('a'), 'A')
  assert.strictEqual(q.push('b', () => {}), undefined)
  const [x, y] = q.push(['x', 'y'])
  assert.deepStrictEqual([await x, await y], ['X', 'Y'])
  assert.strictEqual(await q.unshift('u'), 'U')
  // push() without a callback resolves even when the task fails; pushAsync rejects.
  assert.strictEqual(await q.push('bad'), undefined)
  await assert.rejects(q.pushAsync('bad'), { message: 'bad task' })
  await assert.rejects(q.unshiftAsync('bad'), { message: 'bad task' })
  assert.throws(() => q.push('a', 'not a function'), Error)
})

test('queue: unshift puts a task first', async () => {
  const order = []
  const q = async.queue((t, cb) => { order.push(t); cb() }, 1)
  q.push(1)
  q.push(2)
  q.unshift(0)
  await q.drain()
  assert.deepStrictEqual(order, [0, 1, 2])
})

test('queue: saturated, unsaturated, empty, drain and error events', async () => {
  const events = []
  const q = async.queue((t, cb) => later(() => cb(t === 3 ? new Error('three') : null)), 2)
  q.saturated(() => events.push('saturated'))
  q.unsaturated(() => events.push('unsaturated'))
  q.empty(() => events.push('empty'))
  q.error((err, task) => events.push(`error ${err.message} ${task}`))
  const drained = new Promise((resolve) => q.drain(resolve))
  q.push([1, 2, 3])
  await drained
  assert.ok(events.includes('saturated'))
  assert.ok(events.includes('empty'))
  assert.ok(events.includes('unsaturated'))
  assert.ok(events.includes('error three 3'))
  // Event methods are fixed properties.
  assert.throws(() => { q.drain = () => {} }, TypeError)
  const errorPromise = q.error()
  q.push(3)
  await assert.rejects(errorPromise, { message: 'three' })
})

test('queue: pause, resume, kill, remove, workersList, iteration', async () => {
  const done = []
  const q = async.queue((t, cb) => setTimeout(() => { done.push(t); cb() }, 2), 1)
  q.pause()
  q.push([1, 2, 3, 4])
  await new Promise((r) => setTimeout(r, 10))
  assert.deepStrictEqual(done, [])
  assert.strictEqual(q.paused, true)
  assert.deepStrictEqual([...q], [1, 2, 3, 4])
  q.remove(({ data }) => data === 2)
  assert.strictEqual(q.length(), 3)
  q.resume()
  await new Promise((r) => setTimeout(r, 1))
  assert.strictEqual(q.running(), 1)
  assert.deepStrictEqual(q.workersList().map((w) => w.data), [1])
  q.kill()
  assert.strictEqual(q.length(), 0)
  await new Promise((r) => setTimeout(r, 10))
  assert.deepStrictEqual(done, [1])
})

test('queue: concurrency can change at run time', async () => {
  let running = 0
  let peak = 0
  const q = async.queue((t, cb) => { running++; peak = Math.max(peak, running); setTimeout(() => { running--; cb() }, 3) }, 1)
  q.push([1, 2, 3, 4, 5, 6, 7, 8])
  await new Promise((r) => setTimeout(r, 1))
  q.concurrency = 4
  await q.drain()
  assert.strictEqual(peak, 4)
})

test('queue: sync workers and 100k tasks use constant stack', async () => {
  let n = 0
  const q = async.queue((t, cb) => { n += t; cb() }, 3)
  for (let i = 0; i < 1e5; i++) q.push(1)
  await q.drain()
  assert.strictEqual(n, 1e5)
})

test('queue: bad concurrency, bad worker, double callback', async () => {
  assert.throws(() => async.queue((t, cb) => cb(), 0), RangeError)
  assert.throws(() => async.queue(null), { message: 'expected a function' })
  const q = async.queue((t, cb) => { cb(); assert.throws(() => cb(), { message: 'Callback was already called.' }) })
  await q.push(1)
  // An empty array drains at once.
  const q2 = async.queue((t, cb) => cb())
  const drained = q2.drain()
  assert.strictEqual(q2.push([]), undefined)
  await drained
})

test('priorityQueue: lower numbers first, FIFO within a priority', async () => {
  const order = []
  const q = async.priorityQueue((t, cb) => { order.push(t); later(cb) }, 1)
  q.push('low', 10)
  q.push(['high1', 'high2'], 1)
  q.push('mid', 5)
  q.push('default')
  await q.drain()
  assert.deepStrictEqual(order, ['default', 'high1', 'high2', 'mid', 'low'])
  assert.strictEqual(q.unshift, undefined)
  assert.strictEqual(await q.push('p', 1), undefined)
  const q2 = async.priorityQueue(async (t) => t * 2)
  assert.strictEqual(await q2.pushAsync(21, 0), 42)
})

test('cargo and cargoQueue batch tasks by payload', async () => {
  const batches = []
  const c = async.cargo((tasks, cb) => { batches.push(tasks); later(cb) }, 2)
  c.push([1, 2, 3, 4, 5])
  await c.drain()
  assert.deepStrictEqual(batches, [[1, 2], [3, 4], [5]])
  const cq = async.cargoQueue((tasks, cb) => { batches.push(tasks.length); later(cb) }, 2, 3)
  const pushes = cq.push([1, 2, 3, 4, 5, 6, 7])
  assert.strictEqual(pushes.length, 7)
  await cq.drain()
  assert.deepStrictEqual(batches.slice(3), [3, 3, 1])
  cq.payload = 10
  cq.push([1, 2, 3, 4, 5])
  await cq.drain()
  assert.deepStrictEqual(batches.slice(6), [5])
})

test('queue: the handler behind q.drain() and q.error() goes once it has run', async () => {
  // Nothing of a settled Promise of the next event is kept: a loop that
  // awaits q.drain() each round holds no handler per round.
  const q = async.queue((task, cb) => later(() => cb(task === 'bad' ? new Error('bad') : null)), 1)
  const refs = []
  for (const [event, task] of [['drain', 'good'], ['error', 'bad']]) {
    await (async () => {
      const next = q[event]()
      refs.push(new WeakRef(next))
      q.push(task)
      await next.catch(() => {})
    })()
  }
  await collectGarbage()
  assert.deepStrictEqual(refs.map((ref) => ref.deref()), [undefined, undefined])
})

// async 3.2.6 itself, where installed (a devDependency), runs the same
// scenario: each expectation below is also what it does.
const reference = (() => {
  try {
    return require('async')
  } catch {
    return null
  }
})()

async function onBoth (scenario) {
  const ours = await scenario(async)
  if (reference !== null) assert.deepStrictEqual(await scenario(reference), ours)
  return ours
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('queue: several values from the worker make push() resolve to an array', async () => {
  const got = await onBoth(async (A) => {
    const q = A.queue((t, cb) => later(() => cb(null, t, t * 2)), 1)
    return [await q.push(3), await q.push(4)]
  })
  assert.deepStrictEqual(got, [[3, 6], [4, 8]])
})

test('queue: kill() removes every event handler', async () => {
  const seen = await onBoth(async (A) => {
    const seen = []
    const q = A.queue((t, cb) => later(() => cb(t === 'bad' ? new Error('bad') : null)), 1)
    q.drain(() => seen.push('drain'))
    q.error(() => seen.push('error'))
    q.kill()
    await new Promise((resolve) => q.push('bad', () => resolve()))
    await tick()
    return seen
  })
  assert.deepStrictEqual(seen, [])
})

test('queue: unsaturated fires once no more than concurrency - buffer run', async () => {
  const counts = await onBoth(async (A) => {
    let unsaturated = 0
    const release = []
    const q = A.queue((t, cb) => release.push(cb), 8)
    q.unsaturated(() => { unsaturated++ })
    for (let i = 0; i < 8; i++) q.push(i)
    await tick()
    const counts = []
    // Running 8 of 8, buffer 2: the first two completions leave 7 and 6.
    for (let i = 0; i < 4; i++) {
      release.shift()()
      counts.push(unsaturated)
    }
    return counts
  })
  assert.deepStrictEqual(counts, [0, 1, 2, 3])
})

test('queue: started, and where the Async forms put their tasks', async () => {
  const got = await onBoth(async (A) => {
    const order = []
    const q = A.queue((t, cb) => { order.push(t); later(() => cb(t === 'bad' ? new Error('bad') : null)) }, 1)
    const startedBefore = q.started
    q.pause()
    q.push('a')
    const b = q.pushAsync('b')
    const c = q.unshiftAsync('c')
    q.unshift('d')
    const bad = q.unshiftAsync('bad')
    q.resume()
    const outcomes = await Promise.allSettled([b, c, bad])
    await tick()
    return { startedBefore, order, outcomes: outcomes.map((o) => o.status) }
  })
  assert.deepStrictEqual(got, {
    startedBefore: false,
    order: ['bad', 'd', 'c', 'a', 'b'],
    outcomes: ['fulfilled', 'fulfilled', 'rejected']
  })
})

test('cargo: a worker that calls back twice is told so', async () => {
  const messages = await onBoth(async (A) => {
    const messages = []
    const c = A.cargo((tasks, cb) => {
      cb()
      try {
        cb()
      } catch (err) {
        messages.push(err.message)
      }
    }, 2)
    await c.push([1, 2])
    await tick()
    return messages
  })
  // async's own message, part of its contract: code that matches on it.
  assert.deepStrictEqual(messages, ['Callback was already called.'])
})

test('queue: a task pushed for a Promise is not kept once it is done', async () => {
  const q = async.queue((task, cb) => later(cb), 1)
  let ref
  await (async () => {
    const task = { name: 'done soon' }
    ref = new WeakRef(task)
    await q.push(task)
  })()
  await collectGarbage()
  assert.strictEqual(ref.deref(), undefined)
})

test('queue: no task is kept once done after the task list grew', async () => {
  // Seventeen tasks waiting make the task list grow; none of them is held
  // by the queue once all are done.
  const q = async.queue((task, cb) => later(cb), 1)
  const refs = []
  await (async () => {
    q.pause()
    const tasks = Array.from({ length: 17 }, (_, i) => ({ i }))
    for (const task of tasks.slice(1)) q.push(task)
    q.unshift(tasks[0])
    for (const task of tasks) refs.push(new WeakRef(task))
    q.resume()
    await q.drain()
  })()
  await collectGarbage()
  assert.strictEqual(refs.filter((ref) => ref.deref() !== undefined).length, 0)
})
