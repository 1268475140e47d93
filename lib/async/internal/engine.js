'use strict'

// The iteration core behind every collection function, parallel and series.
// One small object holds a run's state and each started item gets exactly one
// callback closure; loops (never recursion) drive synchronous completions, so a
// million synchronous iteratees use constant stack.

const { breakLoop } = require('./constants')
const { alreadyCalled, checkLimit } = require('./errors')
const { wrapAsync } = require('./wrap-async')
const { isArrayLike, isAsyncIterable, getIterator, ownKeys } = require('./collection')

// What an item is and what its callback's values mean.
const MAP = 0     // fn(item, cb); the first value is stored at the start index
const EACH = 1    // fn(item, cb); values are dropped
const EACH_OF = 2 // fn(item, key, cb); values are dropped
const TASK = 3    // the item is a task fn(cb); one value, or an array of several, stored at key

// Where the items come from in a limited run.
const ARRAY = 0
const KEYS = 1
const ITER = 2

function startItem (run, value, key, slot) {
  switch (run.kind) {
    case MAP: run.fn(value, mapCallback(run, slot)); break
    case EACH: run.fn(value, eachCallback(run)); break
    case EACH_OF: run.fn(value, key, eachCallback(run)); break
    default: wrapAsync(value)(taskCallback(run, slot))
  }
}

// Per-item callbacks are arrows capturing as little as possible: with 100k
// items pending, each byte of closure is 100 kB of heap for the GC to walk.

function eachCallback (run) {
  let called = false
  return (err, value) => {
    if (called) throw alreadyCalled()
    called = true
    run.settle(err, value)
  }
}

// `slot` doubles as the called flag: it turns negative (-slot - 1) once used.
function mapCallback (run, slot) {
  return (err, value) => {
    // The value is stored before the double-call check, as async does.
    const index = slot < 0 ? -slot - 1 : slot
    run.results[index] = value
    if (index > run.maxSlot) run.maxSlot = index
    if (slot < 0) throw alreadyCalled()
    slot = -slot - 1
    run.settle(err, value)
  }
}

// Tasks may pass several values; reading `arguments` is kept out of the other callbacks.
function taskCallback (run, slot) {
  let called = false
  return function taskDone (err, value) {
    run.results[slot] = arguments.length > 2 ? Array.prototype.slice.call(arguments, 1) : value
    if (slot > run.maxSlot) run.maxSlot = slot
    if (called) throw alreadyCalled()
    called = true
    run.settle(err, value)
  }
}

// Result arrays may be preallocated for speed (see map.js). async grows its
// array as values arrive, so the partial results handed over with an error are
// cut back to the highest index filled so far; later values extend it again.
function reportError (run, err) {
  const { results } = run
  if (Array.isArray(results) && results.length > run.maxSlot + 1) results.length = run.maxSlot + 1
  run.done(err)
}

// The plain forms over array-likes start every item at once, like async's
// eachOfArrayLike: an early error does not stop the loop from starting the rest.
class PlainRun {
  constructor (coll, kind, fn, results, done) {
    this.coll = coll
    this.kind = kind
    this.fn = fn
    this.results = results
    this.done = done
    this.length = coll.length
    this.completed = 0
    this.finished = false
    this.maxSlot = -1
  }

  start () {
    const { coll, length } = this
    if (length === 0) {
      this.finished = true
      this.done(null)
      return
    }
    for (let i = 0; i < length; i++) startItem(this, coll[i], i, i)
  }

  settle (err, value) {
    if (this.finished) return
    if (err) {
      this.finished = true
      reportError(this, err)
    } else if (err === false) {
      this.finished = true
    } else if (++this.completed === this.length || value === breakLoop) {
      this.finished = true
      this.done(null)
    }
  }
}

// At most `limit` items at once, started in order; nothing new after an error.
class LimitRun {
  constructor (coll, limit, kind, fn, results, done) {
    this.kind = kind
    this.fn = fn
    this.results = results
    this.done = done
    this.limit = limit
    this.running = 0
    this.started = 0
    this.pos = 0
    this.ended = false
    this.finished = false
    this.looping = false
    this.maxSlot = -1
    this.coll = coll
    this.length = 0
    this.keys = null
    this.iter = null
    if (isArrayLike(coll)) {
      this.mode = ARRAY
      this.length = coll.length
    } else {
      this.iter = getIterator(coll)
      if (this.iter !== null) {
        this.mode = ITER
      } else {
        this.mode = KEYS
        this.keys = ownKeys(coll)
        this.length = this.keys.length
      }
    }
  }

  replenish () {
    this.looping = true
    while (this.running < this.limit && !this.ended) {
      let value
      let key
      if (this.mode === ITER) {
        const step = this.iter.next()
        if (step.done) {
          this.exhausted()
          break
        }
        value = step.value
        key = this.pos++
      } else if (this.pos >= this.length) {
        this.exhausted()
        break
      } else if (this.mode === ARRAY) {
        key = this.pos++
        value = this.coll[key]
      } else {
        key = this.keys[this.pos++]
        value = this.coll[key]
      }
      this.running++
      const slot = this.kind === TASK ? key : this.started
      this.started++
      startItem(this, value, key, slot)
    }
    this.looping = false
  }

  exhausted () {
    this.ended = true
    if (this.running <= 0 && !this.finished) {
      this.finished = true
      this.done(null)
    }
  }

  settle (err, value) {
    if (this.finished) return
    this.running--
    if (err) {
      this.ended = this.finished = true
      reportError(this, err)
    } else if (err === false) {
      this.ended = this.finished = true
    } else if (value === breakLoop || (this.ended && this.running <= 0)) {
      this.ended = this.finished = true
      this.done(null)
    } else if (!this.looping) {
      this.replenish()
    }
  }
}

// Async iterables and async generators: pull one item at a time, keep up to
// `limit` iteratees running. As in async, an exception thrown while starting an
// item becomes the run's error.
class AsyncIterRun {
  constructor (iterator, limit, kind, fn, results, done) {
    this.iterator = iterator
    this.limit = limit
    this.kind = kind
    this.fn = fn
    this.results = results
    this.done = done
    this.running = 0
    this.index = 0
    this.awaiting = false
    this.ended = false
    this.finished = false
    this.maxSlot = -1
    this.onStep = (step) => this.step(step)
    this.onError = (err) => this.fail(err)
  }

  replenish () {
    if (this.running >= this.limit || this.awaiting || this.ended) return
    this.awaiting = true
    Promise.resolve(this.iterator.next()).then(this.onStep).catch(this.onError)
  }

  step (result) {
    if (this.finished || this.ended) return
    this.awaiting = false
    if (result.done) {
      this.ended = true
      if (this.running <= 0) {
        this.finished = true
        this.done(null)
      }
      return
    }
    this.running++
    const index = this.index++
    startItem(this, result.value, index, index)
    this.replenish()
  }

  settle (err, value) {
    this.running--
    if (this.finished) return
    if (err) {
      this.fail(err)
    } else if (err === false) {
      this.ended = this.finished = true
    } else if (value === breakLoop || (this.ended && this.running <= 0)) {
      this.ended = this.finished = true
      this.done(null)
    } else {
      this.replenish()
    }
  }

  fail (err) {
    if (this.finished) return
    this.awaiting = false
    this.ended = this.finished = true
    reportError(this, err)
  }
}

// eachOfLimit: validates the limit, then picks the engine for the collection.
function runLimit (coll, limit, kind, fn, results, done) {
  checkLimit(limit)
  if (!coll) {
    done(null)
  } else if (isAsyncIterable(coll)) {
    new AsyncIterRun(coll[Symbol.asyncIterator](), limit, kind, fn, results, done).replenish()
  } else {
    new LimitRun(coll, limit, kind, fn, results, done).replenish()
  }
}

// eachOf: array-likes start everything at once; anything else is eachOfLimit(Infinity).
function runPlain (coll, kind, fn, results, done) {
  if (isArrayLike(coll)) new PlainRun(coll, kind, fn, results, done).start()
  else runLimit(coll, Infinity, kind, fn, results, done)
}

// A runner for `limit`, shaped like runPlain, for the functions that take
// "the eachOf flavour" as a parameter (filter, detect, ...).
function limitRunner (limit) {
  return (coll, kind, fn, results, done) => runLimit(coll, limit, kind, fn, results, done)
}

module.exports = {
  MAP, EACH, EACH_OF, TASK,
  runPlain, runLimit, limitRunner
}
