'use strict'

// Differential test: generated scenarios run through fetchpool's lib/async and
// through the real async@3.2.6, and every observable event (iteratee starts,
// final callback arguments, Promise outcomes, their order) must match.

const { test } = require('node:test')
const assert = require('node:assert')
const util = require('node:util')

let reference = null
try {
  reference = require('async')
} catch {
  reference = null
}
const ours = require('../lib/async')

const skip = reference === null ? 'the async package is not installed (it is a devDependency)' : false

// Deterministic pseudo-random numbers (mulberry32).
function prng (seed) {
  return function next () {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// n setImmediate hops: a deterministic clock shared by both libraries.
function after (n, fn) {
  if (n <= 0) return fn()
  setImmediate(() => after(n - 1, fn))
}
const ticks = (n) => new Promise((resolve) => after(n, resolve))

// Errors (also nested ones) print as Error(message): stacks differ by library.
function plain (value, depth = 0) {
  if (value instanceof Error) return `Error(${value.message})`
  if (depth > 5 || value === null || typeof value !== 'object' || value instanceof Map || value instanceof Set) return value
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) if (i in value) out[i] = plain(value[i], depth + 1)
    return out
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  const out = {}
  for (const key of Object.keys(value)) out[key] = plain(value[key], depth + 1)
  return out
}

function show (value) {
  return util.inspect(plain(value), { depth: 6, breakLength: Infinity, sorted: false })
}

// An item: { v, mode, delay }. Modes: ok, err, false (callback style only).
function genItems (rand, n, { allowFalse = true, allowErr = true } = {}) {
  const items = []
  for (let i = 0; i < n; i++) {
    const r = rand()
    let mode = 'ok'
    if (allowErr && r < 0.12) mode = 'err'
    else if (allowFalse && r < 0.16) mode = 'false'
    items.push({ v: Math.floor(rand() * 10), mode, delay: rand() < 0.3 ? 0 : 1 + Math.floor(rand() * 4) })
  }
  return items
}

const itemOf = (x) => (Array.isArray(x) ? x[1] : x)

function makeColl (kind, items) {
  switch (kind) {
    case 'array': return items
    case 'object': return Object.fromEntries(items.map((it, i) => [`k${i}`, it]))
    case 'map': return new Map(items.map((it, i) => [i, it]))
    case 'set': return new Set(items)
    case 'iterable': return { *[Symbol.iterator] () { yield* items } }
    case 'asyncgen': return (async function* gen () { for (const it of items) yield it })()
    default: throw new Error(kind)
  }
}

// An iteratee answering `answer(item)`; logs its starts.
function makeIteratee (log, style, answer) {
  if (style === 'async') {
    return async (x) => {
      const it = itemOf(x)
      log.push(`start ${it.v}`)
      await ticks(it.delay)
      if (it.mode === 'err') throw new Error(`e${it.v}`)
      if (it.mode === 'false') throw false
      return answer(it)
    }
  }
  return (x, cb) => {
    const it = itemOf(x)
    log.push(`start ${it.v}`)
    after(it.delay, () => {
      if (it.mode === 'err') cb(new Error(`e${it.v}`))
      else if (it.mode === 'false') cb(false)
      else cb(null, answer(it))
    })
  }
}

async function observe (lib, call, timers) {
  const log = []
  const done = (...args) => log.push(`final ${args.map(show).join(', ')}`)
  let returned
  try {
    returned = call(lib, log, done)
  } catch (err) {
    log.push(`threw ${show(err)}`)
  }
  if (returned && typeof returned.then === 'function') {
    returned.then((v) => log.push(`resolved ${show(v)}`), (e) => log.push(`rejected ${show(e)}`))
  } else {
    log.push(`returned ${show(returned)}`)
  }
  await ticks(40)
  // retry waits between attempts with setTimeout: let those timers run too.
  for (let i = 0; i < timers; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3))
    await ticks(10)
  }
  return log
}

async function compare (name, call, timers = 0) {
  const expected = await observe(reference, call, timers)
  const actual = await observe(ours, call, timers)
  assert.deepStrictEqual(actual, expected, name)
}

const KINDS = ['array', 'object', 'map', 'set', 'iterable', 'asyncgen']

// family -> how to call one member with an iteratee answering `answer`.
const COLLECTION_FAMILIES = {
  map: { answer: (it) => it.v * 2 },
  each: { answer: () => undefined },
  eachOf: { answer: () => undefined, withKey: true },
  mapValues: { answer: (it) => it.v + 1, withKey: true },
  filter: { answer: (it) => it.v % 2 === 0 },
  reject: { answer: (it) => it.v % 2 === 0 },
  detect: { answer: (it) => it.v > 6 },
  some: { answer: (it) => it.v > 7 },
  every: { answer: (it) => it.v < 8 },
  concat: { answer: (it) => [it.v, it.v] },
  groupBy: { answer: (it) => it.v % 3 }
}

function collectionCall (fnName, withKey, kind, items, style, answer, limit, useCallback) {
  return (lib, log, done) => {
    const base = makeIteratee(log, style, answer)
    let iteratee = base
    if (withKey) {
      iteratee = style === 'async' ? async (x) => base(x) : (x, _key, cb) => base(x, cb)
    }
    const coll = makeColl(kind, items)
    const args = fnName.endsWith('Limit') ? [coll, limit, iteratee] : [coll, iteratee]
    if (useCallback) args.push(done)
    return lib[fnName](...args)
  }
}

test('differential: collection families against async@3.2.6', { skip }, async () => {
  const rand = prng(20240611)
  let count = 0
  for (const family of Object.keys(COLLECTION_FAMILIES)) {
    const { answer, withKey } = COLLECTION_FAMILIES[family]
    for (const suffix of ['', 'Limit', 'Series']) {
      const fnName = family + suffix
      for (const kind of KINDS) {
        for (let round = 0; round < 3; round++) {
          const style = rand() < 0.3 ? 'async' : 'cb'
          const items = genItems(rand, Math.floor(rand() * 7), { allowFalse: style === 'cb' })
          const limit = 1 + Math.floor(rand() * 3)
          const useCallback = rand() < 0.6
          const call = collectionCall(fnName, withKey, kind, items, style, answer, limit, useCallback)
          await compare(`${fnName} ${kind} ${style} ${useCallback ? 'cb' : 'promise'} ${show(items)}`, call)
          count++
        }
      }
    }
  }
  assert.ok(count > 500)
})

test('differential: reduce, sortBy, times, parallel, series, waterfall, tryEach, race', { skip }, async () => {
  const rand = prng(7)
  for (let round = 0; round < 60; round++) {
    const style = rand() < 0.3 ? 'async' : 'cb'
    const items = genItems(rand, Math.floor(rand() * 6), { allowFalse: style === 'cb' })
    const useCallback = rand() < 0.6
    const limit = 1 + Math.floor(rand() * 3)
    const label = `${style} ${useCallback ? 'cb' : 'promise'} ${show(items)}`
    const tail = (done) => (useCallback ? [done] : [])

    for (const fnName of ['reduce', 'reduceRight']) {
      await compare(`${fnName} ${label}`, (lib, log, done) => {
        const base = makeIteratee(log, style, (it) => it.v)
        const iteratee = style === 'async'
          ? async (memo, x) => memo + (await base(x))
          : (memo, x, cb) => base(x, (err, v) => cb(err, memo + (v || 0)))
        return lib[fnName](items, 0, iteratee, ...tail(done))
      })
    }
    await compare(`sortBy ${label}`, (lib, log, done) =>
      lib.sortBy(items, makeIteratee(log, style, (it) => -it.v), ...tail(done)))
    for (const fnName of ['times', 'timesSeries', 'timesLimit']) {
      await compare(`${fnName} ${label}`, (lib, log, done) => {
        const base = makeIteratee(log, style, (it) => it.v)
        const iteratee = style === 'async' ? async (n) => base(items[n]) : (n, cb) => base(items[n], cb)
        const head = fnName === 'timesLimit' ? [items.length, limit] : [items.length]
        return lib[fnName](...head, iteratee, ...tail(done))
      })
    }
    for (const fnName of ['parallel', 'series', 'parallelLimit', 'tryEach', 'race']) {
      for (const shape of ['array', 'object']) {
        if (shape === 'object' && (fnName === 'race')) continue
        await compare(`${fnName} ${shape} ${label}`, (lib, log, done) => {
          const tasks = items.map((it) => {
            const base = makeIteratee(log, style, (i) => i.v)
            return style === 'async' ? async () => base(it) : (cb) => base(it, (err, v) => (err ? cb(err) : cb(null, v, v + 1)))
          })
          const coll = shape === 'array' ? tasks : Object.fromEntries(tasks.map((t, i) => [`t${i}`, t]))
          const head = fnName === 'parallelLimit' ? [coll, limit] : [coll]
          return lib[fnName](...head, ...tail(done))
        })
      }
    }
    await compare(`waterfall ${label}`, (lib, log, done) => {
      const tasks = items.map((it, i) => (...args) => {
        const cb = args.pop()
        log.push(`start ${i} ${show(args)}`)
        after(it.delay, () => {
          if (it.mode === 'err') cb(new Error(`e${i}`), 'partial')
          else if (it.mode === 'false') cb(false)
          else cb(null, it.v, i)
        })
      })
      return lib.waterfall(tasks, ...tail(done))
    })
  }
})

test('differential: whilst family, auto, retry', { skip }, async () => {
  const rand = prng(99)
  for (let round = 0; round < 30; round++) {
    const n = Math.floor(rand() * 5)
    const sync = rand() < 0.5
    const failAt = rand() < 0.3 ? Math.floor(rand() * 4) : -1
    const useCallback = rand() < 0.6
    const label = `n=${n} sync=${sync} failAt=${failAt} ${useCallback ? 'cb' : 'promise'}`
    const tail = (done) => (useCallback ? [done] : [])
    const step = (fn) => (sync ? fn() : after(1, fn))
    for (const fnName of ['whilst', 'until', 'doWhilst', 'doUntil']) {
      await compare(`${fnName} ${label}`, (lib, log, done) => {
        let i = 0
        const test = (...args) => {
          const cb = args.pop()
          log.push(`test ${i} ${show(args)}`)
          const truth = fnName === 'whilst' || fnName === 'doWhilst' ? i < n : i >= n
          step(() => cb(null, truth))
        }
        const body = (cb) => {
          log.push(`body ${i}`)
          i++
          step(() => (i === failAt ? cb(new Error(`b${i}`)) : cb(null, i, 'x')))
        }
        return fnName.startsWith('do') ? lib[fnName](body, test, ...tail(done)) : lib[fnName](test, body, ...tail(done))
      })
    }
    const autoLimit = rand() < 0.5
    await compare(`auto ${label} limit=${autoLimit}`, (lib, log, done) => {
      const task = (name, value) => (...args) => {
        const cb = args.pop()
        log.push(`run ${name} ${show(args)}`)
        step(() => (name === `t${failAt}` ? cb(new Error(name)) : cb(null, value, name)))
      }
      const tasks = {
        t0: task('t0', 1),
        t1: ['t0', task('t1', 2)],
        t2: ['t0', task('t2', 3)],
        t3: ['t1', 't2', task('t3', 4)],
        t4: task('t4', 5)
      }
      return autoLimit ? lib.auto(tasks, 2, ...tail(done)) : lib.auto(tasks, ...tail(done))
    })
    await compare(`retry ${label}`, (lib, log, done) => {
      let attempt = 0
      return lib.retry({ times: 3 }, (cb) => {
        attempt++
        log.push(`attempt ${attempt}`)
        step(() => (attempt <= n ? cb(new Error(`a${attempt}`)) : cb(null, attempt)))
      }, ...tail(done))
    }, 4)
  }
})

test('differential: queue, priorityQueue, cargo, cargoQueue events and order', { skip }, async () => {
  const rand = prng(4242)
  for (let round = 0; round < 40; round++) {
    const kind = ['queue', 'priorityQueue', 'cargo', 'cargoQueue'][round % 4]
    const items = genItems(rand, 1 + Math.floor(rand() * 8), { allowFalse: false })
    const concurrency = 1 + Math.floor(rand() * 3)
    const payload = rand() < 0.3 ? undefined : 1 + Math.floor(rand() * 3)
    const plan = items.map(() => Math.floor(rand() * 4)) // 0 push, 1 push later, 2 unshift/priority, 3 promise push
    const pauseAt = rand() < 0.3 ? Math.floor(rand() * items.length) : -1
    await compare(`${kind} c=${concurrency} p=${payload} ${show(items)} ${plan}`, (lib, log) => {
      const worker = (data, cb) => {
        const list = Array.isArray(data) && kind.startsWith('cargo') ? data : [data]
        log.push(`work ${list.map((it) => it.v)}`)
        const it = list[0]
        after(it.delay, () => (it.mode === 'err' ? cb(new Error(`e${it.v}`)) : cb(null, it.v * 10)))
      }
      let q
      if (kind === 'queue') q = lib.queue(worker, concurrency)
      else if (kind === 'priorityQueue') q = lib.priorityQueue(worker, concurrency)
      else if (kind === 'cargo') q = lib.cargo(worker, payload)
      else q = lib.cargoQueue(worker, concurrency, payload)
      for (const name of ['saturated', 'unsaturated', 'empty', 'drain']) {
        q[name](() => log.push(`${name} len=${q.length()} running=${q.running()} idle=${q.idle()}`))
      }
      q.error((err, data) => log.push(`error ${show(err)} ${data.v}`))
      items.forEach((it, i) => {
        const cb = (err, v) => log.push(`done ${it.v} ${show(err)} ${show(v)}`)
        const priority = it.v % 3
        const push = (d, c) => (kind === 'priorityQueue' ? q.push(d, priority, c) : q.push(d, c))
        if (plan[i] === 0) push(it, cb)
        else if (plan[i] === 1) after(2, () => push(it, cb))
        else if (plan[i] === 2 && kind === 'queue') q.unshift(it, cb)
        else if (plan[i] === 2) push(it, cb)
        else push(it).then((v) => log.push(`promise ${it.v} ${show(v)}`))
        if (i === pauseAt) {
          q.pause()
          after(3, () => q.resume())
        }
      })
      q.drain().then(() => log.push('drain promise'))
      return undefined
    })
  }
})

// Hand-picked edge cases, each run through both libraries.
const EDGES = {
  'map(null)': (lib, log, done) => lib.map(null, (x, cb) => cb(null, x), done),
  'mapLimit limit 0, callback': (lib, log, done) => lib.mapLimit([1], 0, (x, cb) => cb(null, x), done),
  'mapLimit limit 0, promise': (lib) => lib.mapLimit([1], 0, (x, cb) => cb(null, x)),
  'eachLimit limit -1 with bad iteratee': (lib, log, done) => lib.eachLimit([1], -1, null, done),
  'map bad iteratee, promise': (lib) => lib.map([1], 5),
  'falsy errors count as success': (lib, log, done) =>
    lib.map([0, '', null, undefined, NaN], (x, cb) => cb(x, typeof x), done),
  'string collection': (lib, log, done) => lib.mapSeries('héllo', (c, cb) => cb(null, c.toUpperCase()), done),
  'function is array-like': (lib, log, done) => lib.map(function two (a, b) { return a + b }, (x, cb) => cb(null, x), done),
  'number collection': (lib, log, done) => lib.map(42, (x, cb) => cb(null, x), done),
  'object with __proto__ key': (lib, log, done) =>
    lib.mapValues(JSON.parse('{"a":1,"__proto__":2,"b":3}'), (v, k, cb) => cb(null, `${k}${v}`), done),
  'object with __proto__ and empty keys: only __proto__ is skipped': (lib, log, done) =>
    lib.eachOf(JSON.parse('{"a":1,"__proto__":2,"":3}'), (v, k, cb) => { log.push(`key ${show(k)}`); cb() }, done),
  // A `length` that is a string, negative or fractional makes no array-like:
  // the object is read by its keys, `length` among them.
  'objects whose length is no array length': (lib, log, done) =>
    lib.map({ length: '2', 0: 'a', 1: 'b' }, (x, cb) => cb(null, x), (err, r1) =>
      lib.map({ length: -1 }, (x, cb) => cb(null, x), (err2, r2) =>
        lib.map({ length: 1.5, 0: 'a' }, (x, cb) => cb(null, x), (err3, r3) => done(err || err2 || err3, r1, r2, r3)))),
  'detect finds a falsy item first': (lib, log, done) => lib.detect([0, 1, 2], (x, cb) => cb(null, true), done),
  'detectSeries falsy item': (lib, log, done) => lib.detectSeries([0, 5], (x, cb) => cb(null, true), done),
  'sync throw in iteratee': (lib, log, done) => lib.map([1, 2], (x) => { log.push(`it ${x}`); throw new Error('sync') }, done),
  'double callback message': (lib, log, done) => lib.map([1], (x, cb) => {
    cb(null, 1)
    try { cb(null, 2) } catch (e) { log.push(`caught ${e.message}`) }
  }, done),
  'double callback on the third item': (lib, log, done) => lib.map([1, 2, 3], (x, cb) => {
    cb(null, x)
    if (x === 3) {
      try { cb(null, 30) } catch (e) { log.push(`caught ${e instanceof Error}`) }
    }
  }, done),
  'double callback on the second item: its second value lands at its index': (lib, log, done) => lib.map([1, 2, 3], (x, cb) => {
    cb(null, x)
    if (x === 2) {
      try { cb(null, 20) } catch (e) { log.push(`caught ${e instanceof Error}`) }
    }
  }, done),
  'mapLimit error on the third of four: partial results to the failed index': (lib, log, done) => lib.mapLimit([1, 2, 3, 4], 4, (x, cb) => {
    after(x, () => (x === 3 ? cb(new Error('three')) : cb(null, x * 10)))
  }, done),
  'map error on the third of four: partial results to the failed index': (lib, log, done) => lib.map([1, 2, 3, 4], (x, cb) => {
    after(x, () => (x === 3 ? cb(new Error('three')) : cb(null, x * 10)))
  }, done),
  'async generator that throws': (lib, log, done) => lib.mapLimit((async function* g () {
    yield 1
    throw new Error('gen')
  })(), 2, (x, cb) => { log.push(`it ${x}`); setImmediate(cb, null, x) }, done),
  'async generator, sync error mid-way': (lib, log, done) => lib.eachSeries((async function* g () {
    yield 1; yield 2; yield 3
  })(), (x, cb) => { log.push(`it ${x}`); cb(x === 2 ? new Error('two') : null) }, done),
  // The second item arrives only after the first has failed the run: it must
  // not be started.
  'async iterator: an item that arrives after an error is not started': (lib, log, done) => {
    let pulls = 0
    let release = () => {}
    const source = {
      [Symbol.asyncIterator] () { return this },
      next () {
        pulls++
        if (pulls === 1) return Promise.resolve({ value: 1, done: false })
        if (pulls === 2) return new Promise((resolve) => { release = () => resolve({ value: 2, done: false }) })
        return Promise.resolve({ value: undefined, done: true })
      }
    }
    return lib.mapLimit(source, 2, (x, cb) => {
      log.push(`it ${x}`)
      setImmediate(() => {
        cb(x === 1 ? new Error('one') : null, x)
        release()
      })
    }, done)
  },
  // A pull that rejects after an item failed the run: the callback still runs once.
  'async iterator: a next() that rejects after the run failed': (lib, log, done) => {
    let pulls = 0
    let reject = () => {}
    const source = {
      [Symbol.asyncIterator] () { return this },
      next () {
        pulls++
        if (pulls === 1) return Promise.resolve({ value: 1, done: false })
        return new Promise((resolve, fail) => { reject = fail })
      }
    }
    return lib.mapLimit(source, 2, (x, cb) => {
      setImmediate(() => {
        cb(new Error('one'))
        reject(new Error('pull'))
      })
    }, done)
  },
  // Both array-like and async iterable: the async iterator wins in a limited
  // run, so partial results grow from empty, however long the array is.
  'mapLimit over an async-iterable array: a first-item error': (lib, log, done) => {
    const coll = [1, 2, 3]
    coll[Symbol.asyncIterator] = async function * each () { yield * [1, 2, 3] }
    return lib.mapLimit(coll, 1, (x, cb) => setImmediate(cb, new Error('one')), done)
  },
  // Its iterator yields fewer items than its length: the results are as many
  // as the items, with no empty slots after them.
  'mapLimit over an async-iterable array that yields fewer items than its length': (lib, log, done) => {
    const coll = [1, 2, 3]
    coll[Symbol.asyncIterator] = async function * one () { yield 'x' }
    return lib.mapLimit(coll, 2, (x, cb) => setImmediate(cb, null, x), done)
  },
  // filter reads an array-like's items by index whatever its iterator yields:
  // the iterator's answers pick items of the array, and an answer past its
  // length picks nothing.
  'filterLimit over an async-iterable array keeps the array\'s items': (lib, log, done) => {
    const coll = ['a', 'b', 'c']
    coll[Symbol.asyncIterator] = async function * other () { yield * ['x', 'y', 'z', 'w'] }
    return lib.filterLimit(coll, 1, (x, cb) => cb(null, x === 'y' || x === 'w'), done)
  },
  // An array-like without an iterator is read by index: `length` is no item.
  'mapLimit over an array-like object': (lib, log, done) =>
    lib.mapLimit({ length: 2, 0: 'a', 1: 'b' }, 1, (x, cb) => cb(null, x), done),
  'parallel with a non-function task': (lib, log, done) => lib.parallel([(cb) => cb(null, 1), 'x'], done),
  'parallel over a Map': (lib, log, done) => lib.parallel(new Map([['a', (cb) => cb()]]), done),
  'series object, multi-value': (lib, log, done) => lib.series({ a: (cb) => cb(null, 1, 2), b: (cb) => cb() }, done),
  'waterfall not an array': (lib, log, done) => lib.waterfall({ a: 1 }, done),
  'waterfall empty': (lib, log, done) => lib.waterfall([], (...args) => { log.push(`args ${args.length}`); done(...args) }),
  'race empty': (lib, log, done) => lib.race([], (...args) => { log.push(`args ${args.length}`); done(...args) }),
  'race cb(false)': (lib, log, done) => lib.race([(cb) => cb(false)], done),
  'tryEach: a task that calls back false stops silently': (lib, log, done) =>
    lib.tryEach([(cb) => cb(false), (cb) => { log.push('second'); cb(null, 2) }], done),
  'forever: next(false) stops silently': (lib, log, done) => {
    let n = 0
    return lib.forever((next) => {
      n++
      log.push(`step ${n}`)
      next(n === 2 ? false : n > 4 ? new Error('runaway') : null)
    }, done)
  },
  'tryEach empty': (lib, log, done) => lib.tryEach([], done),
  'tryEach all fail': (lib, log, done) => lib.tryEach([(cb) => cb(new Error('a')), (cb) => cb(new Error('b'), 'x')], done),
  'tryEach over an object': (lib, log, done) => lib.tryEach({ a: (cb) => cb(new Error('a')), b: (cb) => cb(null, 'B') }, done),
  'concat with undefined values': (lib, log, done) => lib.concat([1, 2], (x, cb) => (x === 1 ? cb(null) : cb(null, undefined)), done),
  'groupBy object keys': (lib, log, done) => lib.groupBy({ a: 1, b: 2, c: 3 }, (x, cb) => cb(null, x > 1), done),
  'sortBy strings and ties': (lib, log, done) => lib.sortBy(['b', 'a', 'c', 'a'], (x, cb) => cb(null, x === 'c' ? 'a' : x), done),
  'reduce over object': (lib, log, done) => lib.reduce({ a: 1, b: 2 }, 10, (m, x, cb) => cb(null, m + x), done),
  'reduceRight over string': (lib, log, done) => lib.reduceRight('abc', '', (m, x, cb) => cb(null, m + x), done),
  'transform default accumulator object': (lib, log, done) =>
    lib.transform(new Set([1, 2]), (acc, v, k, cb) => { acc[k] = v; cb() }, done),
  // With four arguments a function is the accumulator, not the iteratee.
  'transform with a function as accumulator': (lib, log, done) =>
    lib.transform([1, 2], function acc () {}, (acc, v, k, cb) => { acc[k] = v; cb() }, done),
  'filter over object with async completion': (lib, log, done) =>
    // Completion order (z before x) is what async keeps for string keys: the
    // iteratees finish after v turns of the loop, not on timers, so the order
    // does not depend on the machine's load.
    lib.filter({ x: 3, y: 1, z: 2 }, (v, cb) => after(v, () => cb(null, v > 1)), done),
  'every empty / some empty': (lib, log, done) => lib.every([], (x, cb) => cb(null, false), () =>
    lib.some([], (x, cb) => cb(null, true), done)),
  'times negative': (lib, log, done) => lib.times(-1, (n, cb) => cb(null, n), done),
  'whilst test false at once': (lib, log, done) => lib.whilst((cb) => cb(null, false), (cb) => cb(), done),
  'whilst: a test that calls back false stops silently': (lib, log, done) =>
    lib.whilst((cb) => cb(false), (cb) => { log.push('body'); cb() }, done),
  'doWhilst: a test that calls back false stops silently': (lib, log, done) =>
    lib.doWhilst((cb) => { log.push('body'); cb(null, 1) }, (v, cb) => cb(false), done),
  'doWhilst: a body that calls back false stops silently': (lib, log, done) =>
    lib.doWhilst((cb) => cb(false), (...args) => { log.push('test'); args.pop()(null, false) }, done),
  'doWhilst: a test error ends it': (lib, log, done) =>
    lib.doWhilst((cb) => { log.push('body'); cb(null, 1) }, (v, cb) => cb(new Error('t')), done),
  'doWhilst results': (lib, log, done) => lib.doWhilst((cb) => cb(null, 'a', 'b'), (a, b, cb) => cb(null, false), done),
  // (async returns an internal Promise from this call in callback mode; the
  // contract here is undefined, so only the callbacks are compared.)
  'until with async test': (lib, log, done) => {
    let i = 0
    lib.until(async () => i > 2, (cb) => { i++; cb(null, i) }, done)
  },
  'auto task error with concurrency 1': (lib, log, done) => lib.auto({
    a: (cb) => cb(null, 'A'),
    b: (cb) => setImmediate(cb, new Error('B'), 'bv', 'bw'),
    c: ['a', (r, cb) => cb(null, 'C')]
  }, 1, done),
  // cb(false) cancels the run: nothing further starts and no callback comes,
  // whatever the tasks still running do.
  'auto: a task that calls back false cancels the rest': (lib, log, done) => lib.auto({
    a: (cb) => cb(false),
    b: (cb) => setImmediate(cb, null, 'B'),
    c: ['b', (r, cb) => { log.push('c'); cb() }]
  }, done),
  'auto: an error after a cancel is not reported': (lib, log, done) => lib.auto({
    a: (cb) => cb(false),
    b: (cb) => setImmediate(cb, new Error('b'))
  }, done),
  'auto: a task in an array with no dependencies gets only the callback': (lib, log, done) => lib.auto({
    a: [(...args) => { log.push(`a got ${args.length}`); args.pop()(null, 1) }]
  }, done),
  'auto: a function task of two parameters gets only the callback': (lib, log, done) => lib.auto({
    a: (cb, extra) => { log.push(`extra ${typeof extra}`); cb(null, 1) }
  }, done),
  'auto missing dependency': (lib, log, done) => lib.auto({ a: ['nope', (r, cb) => cb()] }, done),
  'autoInject shapes': (lib, log, done) => lib.autoInject({
    a: (cb) => cb(null, 1),
    b: (a, cb) => cb(null, a + 1),
    c: async (a, b) => a + b,
    d: ['c', (c, cb) => cb(null, c * 2)],
    e: function (d, /* comment, */ callback) { callback(null, d) }
  }, done),
  'autoInject: comments before a parameter': (lib, log, done) => lib.autoInject({
    a: (cb) => cb(null, 1),
    b: function (/* the first */ a, cb) { cb(null, a + 1) },
    c: function (// the first
      b, cb) { cb(null, b + 1) }
  }, done),
  'autoInject: async arrows without parentheses': (lib, log, done) => lib.autoInject({
    one: (cb) => cb(null, 1),
    two: async one => one + Number(1),
    three: async /* a comment */ two /* and one more */ => two * 10
  }, done),
  'autoInject: array tasks of two dependencies and of none': (lib, log, done) => lib.autoInject({
    a: (cb) => cb(null, 1),
    b: [(cb) => cb(null, 2)],
    c: ['a', 'b', (a, b, cb) => cb(null, a + b)]
  }, done),
  'autoInject: an async task of no parameters': (lib, log, done) => lib.autoInject({
    a: async () => 1,
    b: async (a) => a + 1
  }, done),
  // Written without spaces, as minified code is: only the first parentheses
  // hold the parameters.
  'autoInject: a task from minified code': (lib, log, done) => lib.autoInject({
    a: (cb) => cb(null, 1),
    b: new Function('return function(a,cb){cb(null,a*2)}')()
  }, done),
  'autoInject: a class for a task': (lib, log, done) => lib.autoInject({
    a: class { m () { return [].map(x => x) } }
  }, done),
  'retry with errorFilter and interval function': (lib, log, done) => {
    let n = 0
    return lib.retry({ times: 4, interval: (c) => { log.push(`interval ${c}`); return 0 }, errorFilter: (e) => e.message !== 'stop' },
      (cb) => { n++; cb(new Error(n === 3 ? 'stop' : 'again')) }, done)
  },
  'retryable promise': (lib) => {
    let n = 0
    return lib.retryable({ times: 3 }, (a, b, cb) => { n++; cb(n < 2 ? new Error('x') : null, a + b) })(1, 2)
  },
  'reflect outcomes': (lib, log, done) => lib.parallel(lib.reflectAll([
    (cb) => cb(null), (cb) => cb(null, undefined), (cb) => cb(new Error('e'), 'v'), (cb) => cb(false), (cb) => cb(null, 1, 2)
  ]), done),
  'seq with error': (lib, log, done) => lib.seq((x, cb) => cb(null, x + 1, 'extra'), (x, y, cb) => cb(new Error('s'), x, y))(1, done),
  'applyEach with object': (lib, log, done) => lib.applyEach({ a: (x, cb) => cb(null, x), b: (x, cb) => cb(null, x * 2) }, 3)(done),
  'constant and apply in waterfall': (lib, log, done) => lib.waterfall([lib.constant(1, 2), lib.apply((p, a, b, cb) => cb(null, p + a + b), 10)], done),
  // An anonymous function that never calls back: the error's message names
  // no function, and without info it gets no `info` property.
  'timeout of an anonymous function, without info': (lib, log, done) =>
    lib.timeout((_cb) => {}, 1)((err) => {
      log.push(`${err.code} ${Object.keys(err)}`)
      done(err)
    }),
  // Its callback, called once the time is up, is ignored.
  'timeout: a call back after the time is up is ignored': (lib, log, done) => {
    let late = null
    lib.timeout(function slow (cb) { late = cb }, 1)((...args) => {
      done(...args)
      const cb = late
      late = null
      if (cb !== null) cb(null, 'late')
    })
  },
  'memoize concurrent calls': (lib, log, done) => {
    const m = lib.memoize((x, cb) => { log.push(`compute ${x}`); setImmediate(cb, null, x * 2) })
    m(1, () => log.push('first'))
    m(1, () => log.push('second'))
    m(2, done)
  },
  'ensureAsync order': (lib, log, done) => {
    const f = lib.ensureAsync((cb) => cb(null, 'v'))
    f(done)
    log.push('after call')
  },
  'queue push empty array drains': (lib, log) => {
    const q = lib.queue((t, cb) => cb())
    q.drain(() => log.push('drain'))
    return q.push([])
  },
  'queue kill and error event': (lib, log) => {
    const q = lib.queue((t, cb) => setImmediate(cb, t === 2 ? new Error('two') : null, t), 1)
    q.error((e, t) => log.push(`error ${e.message} ${t}`))
    q.push([1, 2, 3, 4], (e, v) => { log.push(`cb ${v}`); if (v === 3) q.kill() })
    return undefined
  },
  'queue remove and iterate': (lib, log) => {
    const q = lib.queue((t, cb) => setImmediate(cb), 1)
    q.push([1, 2, 3, 4])
    q.remove(({ data }) => data % 2 === 0)
    log.push(`left ${[...q]}`)
    return q.drain()
  },
  'queue event handler replaced, not added': (lib, log) => {
    const q = lib.queue((t, cb) => setImmediate(cb), 1)
    q.drain(() => log.push('first drain handler'))
    q.drain(() => log.push('second drain handler'))
    q.push(1)
    return undefined
  },
  'queue push([]) while busy does not drain': (lib, log) => {
    const q = lib.queue((t, cb) => after(3, cb), 1)
    q.drain(() => log.push(`drain idle=${q.idle()}`))
    q.push(1)
    after(1, () => { log.push(`push [] running=${q.running()}`); q.push([]) })
    return undefined
  },
  'queue workersList as tasks come and go': (lib, log) => {
    const q = lib.queue((t, cb) => {
      log.push(`start ${t} workers ${q.workersList().map((w) => w.data)}`)
      after(t, () => { cb(); log.push(`after ${t} workers ${q.workersList().map((w) => w.data)}`) })
    }, 2)
    q.push([3, 1, 2, 1])
    return q.drain()
  },
  'queue unsaturated at the buffer mark': (lib, log) => {
    const q = lib.queue((t, cb) => after(t, cb), 2)
    q.buffer = 1
    q.unsaturated(() => log.push(`unsaturated running=${q.running()}`))
    q.saturated(() => log.push(`saturated running=${q.running()}`))
    q.push([1, 2, 3])
    return q.drain()
  },
  'queue falsy errors other than null': (lib, log) => {
    const q = lib.queue((t, cb) => cb(t), 1)
    q.error((e, t) => log.push(`error ${show(e)} ${show(t)}`))
    q.push([false, 0, '', null, undefined], (e) => log.push(`cb ${show(e)}`))
    return q.drain()
  },
  'retry stops silently on cb(false)': (lib, log, done) =>
    lib.retry(3, (cb) => { log.push('attempt'); cb(false) }, done),
  'retryable with an undefined callback returns a Promise': (lib) =>
    lib.retryable((a, cb) => cb(null, a * 2))(21, undefined),
  'retry with opts that are neither a count nor an object': (lib, log, done) =>
    lib.retry(true, (cb) => cb(null, 'ran'), done),
  // Three arguments: the first is options, even when it is a function.
  'retry with a function as opts and a callback': (lib, log, done) =>
    lib.retry((cb) => { log.push('opts run'); cb(null) }, (...args) => log.push(`task called with ${args.length}`), done),
  'retryable with opts.arity: fewer arguments give a Promise': (lib, log, done) =>
    lib.retryable({ arity: 3 }, (...args) => args.pop()(null, args.length))(1, done),
  'retryable called with its callback': (lib, log, done) =>
    lib.retryable((a, cb) => cb(null, a * 2))(21, done),
  'retryable async task called with fewer arguments than it takes': (lib, log, done) =>
    lib.retryable(async (a, b) => [a, typeof b])(1, done),
  // More tasks wait than the task list first holds: it grows while tasks go
  // in at both ends.
  'queue with forty tasks waiting, pushed and unshifted': (lib, log) => {
    const q = lib.queue((t, cb) => { log.push(`run ${t}`); setImmediate(cb) }, 1)
    try {
      for (let i = 0; i < 40; i++) {
        if (i % 4 === 1) q.push(i)
        else q.unshift(i)
      }
    } catch (e) { log.push(`threw ${show(e)}`) }
    log.push(`waiting ${[...q]}`)
    return q.drain()
  },
  // One task taken from the front, then pushes and an unshift, on a new
  // queue and on one that kill() emptied.
  'queue push, shift and unshift on a new and a killed queue': (lib, log) => {
    const run = (name, q) => {
      q.push(1)
      after(1, () => {
        q.push(3)
        q.push(4)
        q.unshift(5)
        q.push(6)
        log.push(`${name} waiting ${[...q]}`)
      })
      return q.drain()
    }
    const worker = (name) => (t, cb) => { log.push(`${name} run ${t}`); after(3, cb) }
    const killed = lib.queue(worker('killed'), 1)
    killed.kill()
    return Promise.all([run('new', lib.queue(worker('new'), 1)), run('killed', killed)])
  },
  // What remove() leaves is kept in the order async keeps it in, which [...q]
  // shows; kill() leaves nothing.
  'priorityQueue remove, iterate and kill': (lib, log) => {
    const q = lib.priorityQueue((t, cb) => { log.push(`run ${t}`); setImmediate(cb) }, 1)
    q.pause()
    const priorities = [1, 3, 1, 0, 2, 2, 1, 4, 4, 0, 0]
    priorities.forEach((p, i) => q.push(i, p))
    log.push(`waiting ${[...q]}`)
    q.remove(({ data }) => [3, 5, 6, 7, 9, 10].includes(data))
    log.push(`left ${[...q]} length ${q.length()}`)
    const killed = lib.priorityQueue((t, cb) => { log.push(`killed run ${t}`); cb() }, 1)
    killed.push([1, 2], 0)
    killed.kill()
    log.push(`killed ${[...killed]} length ${killed.length()}`)
    q.resume()
    return q.drain()
  },
  // A priority neither lower nor equal (null against 0) does not go first.
  'priorityQueue priorities null and 0 keep push order': (lib, log) => {
    const q = lib.priorityQueue((t, cb) => { log.push(`run ${t}`); setImmediate(cb) }, 1)
    q.pause()
    q.push('a', 0)
    q.push('b', null)
    q.push('c', 0)
    q.resume()
    return q.drain()
  },
  'priorityQueue array push': (lib, log) => {
    const q = lib.priorityQueue((t, cb) => { log.push(`run ${t}`); setImmediate(cb) }, 1)
    q.push([5, 6], 2)
    q.push(1, 1)
    q.push(9)
    return q.drain()
  }
}

test('differential: edge cases', { skip }, async () => {
  for (const [name, call] of Object.entries(EDGES)) await compare(name, call, 2)
})

// retry waits between attempts with setTimeout. On a mocked clock, moved a
// millisecond at a time, each attempt and the final callback are logged with
// the time they came at.
const RETRY_CLOCK = {
  'interval 20': (lib, attempt, done) => lib.retry({ times: 3, interval: 20 }, attempt, done),
  'interval "20"': (lib, attempt, done) => lib.retry({ times: 3, interval: '20' }, attempt, done),
  'times "2"': (lib, attempt, done) => lib.retry('2', attempt, done),
  'retryable with times 2, interval 20': (lib, attempt, done) => lib.retryable({ times: 2, interval: 20 }, attempt)(done)
}

test('differential: retry waits the interval it is given', { skip }, async (t) => {
  for (const [name, call] of Object.entries(RETRY_CLOCK)) {
    const logs = []
    for (const lib of [reference, ours]) {
      const log = []
      let now = 0
      t.mock.timers.enable({ apis: ['setTimeout'] })
      try {
        call(lib, (cb) => { log.push(`attempt at ${now}`); cb(new Error('again')) }, (err) => log.push(`final ${show(err)} at ${now}`))
        while (now < 60) {
          await ticks(1)
          now++
          t.mock.timers.tick(1)
        }
      } finally {
        t.mock.timers.reset()
      }
      logs.push(log)
    }
    assert.deepStrictEqual(logs[1], logs[0], name)
  }
})

// The synchronous-ordering dimension: every task logs markers right before and
// right after it calls its callback, so the order of the caller's own code
// around the callbacks is compared too, not only the callbacks. Tasks call back
// synchronously or after a hop, as `modes` says.
function marked (log, modes) {
  let n = 0
  return function task (name, value) {
    return (...args) => {
      const cb = args.pop()
      const id = `${name}#${n}`
      const sync = modes[n++ % modes.length]
      log.push(`start ${id}`)
      const call = () => {
        log.push(`before cb ${id}`)
        cb(null, value)
        log.push(`after cb ${id}`)
      }
      if (sync) call()
      else after(1, call)
    }
  }
}

const ORDERING = {
  waterfall: (lib, t, done) => lib.waterfall([t('a', 1), t('b', 2), t('c', 3)], done),
  series: (lib, t, done) => lib.series([t('a', 1), t('b', 2), t('c', 3)], done),
  parallel: (lib, t, done) => lib.parallel([t('a', 1), t('b', 2), t('c', 3)], done),
  parallelLimit: (lib, t, done) => lib.parallelLimit({ a: t('a', 1), b: t('b', 2), c: t('c', 3) }, 2, done),
  eachSeries: (lib, t, done) => lib.eachSeries([1, 2, 3], t('e'), done),
  mapLimit: (lib, t, done) => lib.mapLimit([1, 2, 3], 2, t('m', 0), done),
  eachOf: (lib, t, done) => lib.eachOf({ a: 1, b: 2 }, t('o'), done),
  eachOfLimit: (lib, t, done) => lib.eachOfLimit([1, 2, 3], 2, t('o'), done),
  map: (lib, t, done) => lib.map([1, 2, 3], t('m', 0), done),
  mapValuesSeries: (lib, t, done) => lib.mapValuesSeries({ a: 1, b: 2 }, t('v', 0), done),
  filterSeries: (lib, t, done) => lib.filterSeries([1, 2, 3], t('f', true), done),
  detectSeries: (lib, t, done) => lib.detectSeries([1, 2, 3], t('d', false), done),
  everyLimit: (lib, t, done) => lib.everyLimit([1, 2, 3], 2, t('e', true), done),
  concatSeries: (lib, t, done) => lib.concatSeries([1, 2], t('c', [0]), done),
  groupByLimit: (lib, t, done) => lib.groupByLimit([1, 2, 3], 2, t('g', 'k'), done),
  times: (lib, t, done) => lib.times(3, t('n', 0), done),
  applyEach: (lib, t, done) => lib.applyEach([t('a', 1), t('b', 2)])(done),
  whilst: (lib, t, done) => {
    let i = 0
    const test = t('test', true)
    return lib.whilst((cb) => test((e) => cb(e, i++ < 2)), t('body', 'v'), done)
  },
  doWhilst: (lib, t, done) => {
    let i = 0
    const test = t('test', true)
    return lib.doWhilst(t('body', 'v'), (v, cb) => test((e) => cb(e, i++ < 2)), done)
  },
  until: (lib, t, done) => {
    let i = 0
    const test = t('test', true)
    return lib.until((cb) => test((e) => cb(e, i++ >= 2)), t('body', 'v'), done)
  },
  doUntil: (lib, t, done) => {
    let i = 0
    const test = t('test', true)
    return lib.doUntil(t('body', 'v'), (v, cb) => test((e) => cb(e, i++ >= 2)), done)
  },
  forever: (lib, t, done) => {
    let i = 0
    const step = t('step')
    return lib.forever((next) => step(() => next(i++ < 2 ? null : new Error('stop'))), done)
  },
  retry: (lib, t, done) => {
    let i = 0
    const step = t('attempt')
    return lib.retry(3, (cb) => step(() => cb(i++ < 1 ? new Error('again') : null, i)), done)
  },
  retryable: (lib, t, done) => lib.retryable(2, t('r', 'v'))(done),
  auto: (lib, t, done) => lib.auto({ a: t('a', 1), b: ['a', t('b', 2)], c: ['a', t('c', 3)], d: ['b', 'c', t('d', 4)] }, done),
  autoInject: (lib, t, done) => {
    const a = t('a', 1)
    const b = t('b', 2)
    return lib.autoInject({ a: (cb) => a(cb), b: (a, cb) => b(cb) }, done)
  },
  tryEach: (lib, t, done) => lib.tryEach([t('a', 1), t('b', 2)], done),
  race: (lib, t, done) => lib.race([t('a', 1), t('b', 2)], done),
  seq: (lib, t, done) => lib.seq(t('a', 1), t('b', 2))(done),
  compose: (lib, t, done) => lib.compose(t('a', 1), t('b', 2))(done),
  applyEachSeries: (lib, t, done) => lib.applyEachSeries([t('a', 1), t('b', 2)])(done),
  timesSeries: (lib, t, done) => lib.timesSeries(3, t('n', 0), done),
  reduce: (lib, t, done) => {
    const step = t('r')
    return lib.reduce([1, 2, 3], 0, (memo, x, cb) => step(() => cb(null, memo + x)), done)
  },
  transform: (lib, t, done) => lib.transform([1, 2], t('x'), done),
  sortBy: (lib, t, done) => lib.sortBy([3, 1, 2], t('s', 0), done),
  reflect: (lib, t, done) => lib.reflect(t('a', 1))(done),
  timeout: (lib, t, done) => lib.timeout(t('a', 1), 1000)(done),
  ensureAsync: (lib, t, done) => lib.ensureAsync(t('a', 1))(done),
  memoize: (lib, t, done) => {
    const m = lib.memoize(t('a', 1))
    m(1, () => m(1, done))
  },
  queue: (lib, t, done, log) => {
    const q = lib.queue(t('w'), 2)
    q.drain(() => log.push('drain'))
    q.push([1, 2, 3], () => log.push('task done'))
    done()
  },
  cargo: (lib, t, done, log) => {
    const q = lib.cargo(t('w'), 2)
    q.drain(() => log.push('drain'))
    q.push([1, 2, 3], () => log.push('task done'))
    done()
  },
  priorityQueue: (lib, t, done, log) => {
    const q = lib.priorityQueue(t('w'), 1)
    q.drain(() => log.push('drain'))
    q.push([1, 2], 1, () => log.push('task done'))
    done()
  }
}

// Every mode pattern of up to three tasks: all synchronous, all deferred, mixed.
const MODE_PATTERNS = [[true], [false], [true, false], [false, true], [true, true, false], [false, false, true]]

test('differential: code around synchronous and deferred callbacks runs in async@3.2.6 order', { skip }, async () => {
  let count = 0
  for (const [name, run] of Object.entries(ORDERING)) {
    for (const modes of MODE_PATTERNS) {
      await compare(`${name} ${modes}`, (lib, log, done) => {
        const t = marked(log, modes)
        log.push('call')
        const out = run(lib, t, done, log)
        log.push('call returned')
        return out
      }, 2)
      count++
    }
  }
  assert.strictEqual(count, Object.keys(ORDERING).length * MODE_PATTERNS.length)
})

// A callback that throws when the Promise of an async function settles: the
// exception is thrown again outside the Promise chain, uncaught, as in async.
test('differential: a callback that throws after an async function settles throws uncaught', { skip }, async () => {
  for (const lib of [reference, ours]) {
    const uncaught = []
    process.setUncaughtExceptionCaptureCallback((err) => uncaught.push(err.message))
    try {
      lib.asyncify(async () => 'v')((err, value) => { throw new Error(`after ${err} ${value}`) })
      lib.asyncify(async () => { throw new Error('no') })((err) => { throw new Error(`after ${err.message}`) })
      await ticks(2)
    } finally {
      process.setUncaughtExceptionCaptureCallback(null)
    }
    assert.deepStrictEqual(uncaught, ['after null v', 'after no'])
  }
})
