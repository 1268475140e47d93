'use strict'

// The engine behind queue, priorityQueue, cargo and cargoQueue. The worker is
// called with one datum (`single`, for queue/priorityQueue) or with an array of
// up to `payload` data (cargo). Processing is scheduled in a microtask after a
// push, as async does, so listeners set right after push() see every event.

const { Deque } = require('./deque')
const { Heap } = require('./heap')
const { alreadyCalled } = require('./errors')

const EVENTS = ['error', 'drain', 'saturated', 'unsaturated', 'empty']

// push() without a callback returns a Promise per task. The executor is shared
// and the resolvers live on the task item, so a push allocates no closures.
let pendingItem = null
function taskExecutor (resolve, reject) {
  pendingItem.resolve = resolve
  pendingItem.reject = reject
}

function newTaskPromise (item) {
  pendingItem = item
  try {
    return new Promise(taskExecutor)
  } finally {
    pendingItem = null
  }
}

// Calls the task's callback with the worker's arguments, or settles its
// Promise: push() resolves even on error (the 'error' event reports it),
// pushAsync() rejects.
function settleTask (item, args) {
  if (item.callback !== null) {
    item.callback.apply(undefined, args)
    return
  }
  const err = args[0]
  if (err) {
    if (item.rejectOnError) item.reject(err)
    else item.resolve()
  } else {
    item.resolve(args.length <= 2 ? args[1] : Array.prototype.slice.call(args, 1))
  }
}

// The queue object async returns: its methods are closures over the one
// queue's state, each short, so the factory holds them together.
// eslint-disable-next-line max-lines-per-function
function createQueue (worker, concurrency, payload, options) {
  const single = options.single === true
  if (concurrency == null) concurrency = 1
  else if (concurrency === 0) throw new RangeError('Concurrency must not be zero')

  let numRunning = 0
  const workersList = []
  const events = {}
  for (const name of EVENTS) events[name] = []
  let processingScheduled = false
  let isProcessing = false

  function on (name, handler) {
    events[name] = [...events[name], handler]
  }

  function off (name, handler) {
    if (!name) {
      for (const ev of EVENTS) events[ev] = []
    } else if (!handler) {
      events[name] = []
    } else {
      events[name] = events[name].filter((h) => h !== handler)
    }
  }

  function onceEvent (name, handler) {
    const handleAndRemove = (...args) => {
      off(name, handleAndRemove)
      handler(...args)
    }
    on(name, handleAndRemove)
  }

  // Handlers are replaced, never mutated in place, so this walks a snapshot.
  function trigger (name, a, b) {
    const handlers = events[name]
    for (let i = 0; i < handlers.length; i++) handlers[i](a, b)
  }

  // q.drain(fn) sets the handler; q.drain() is a Promise of the next event.
  function eventMethod (name) {
    return function event (handler) {
      if (!handler) {
        return new Promise((resolve, reject) => {
          onceEvent(name, (err, data) => (err ? reject(err) : resolve(data)))
        })
      }
      off(name)
      on(name, handler)
      return undefined
    }
  }

  function scheduleProcess () {
    if (processingScheduled) return
    processingScheduled = true
    queueMicrotask(() => {
      processingScheduled = false
      q.process()
    })
  }

  function insert (data, atFront, rejectOnError, callback) {
    if (callback != null && typeof callback !== 'function') {
      throw new Error('task callback must be a function')
    }
    q.started = true
    let promise
    let item
    if (rejectOnError || !callback) {
      // The task settles its own Promise (see settleTask): no closure per push.
      item = q._createTaskItem(data, null)
      item.rejectOnError = rejectOnError
      promise = newTaskPromise(item)
    } else {
      item = q._createTaskItem(data, callback)
    }
    if (atFront) q._tasks.unshift(item)
    else q._tasks.push(item)
    scheduleProcess()
    return promise
  }

  function maybeDrain (data) {
    if (data.length === 0 && q.idle()) {
      queueMicrotask(() => trigger('drain'))
      return true
    }
    return false
  }

  function inserter (atFront, rejectOnError) {
    return function insertData (data, callback) {
      if (Array.isArray(data)) {
        if (maybeDrain(data)) return undefined
        const out = new Array(data.length)
        for (let i = 0; i < data.length; i++) out[i] = insert(data[i], atFront, rejectOnError, callback)
        return out
      }
      return insert(data, atFront, rejectOnError, callback)
    }
  }

  function removeWorker (item) {
    const index = workersList.indexOf(item)
    if (index === 0) workersList.shift()
    else if (index > 0) workersList.splice(index, 1)
  }

  function afterTask () {
    if (numRunning <= q.concurrency - q.buffer) trigger('unsaturated')
    if (q.idle()) trigger('drain')
    q.process()
  }

  function singleCallback (item) {
    let called = false
    return function taskDone (err) {
      if (called) throw alreadyCalled()
      called = true
      numRunning -= 1
      removeWorker(item)
      settleTask(item, arguments)
      if (err != null) trigger('error', err, item.data)
      afterTask()
    }
  }

  function batchCallback (items) {
    let called = false
    return function batchDone (err) {
      if (called) throw alreadyCalled()
      called = true
      numRunning -= 1
      for (let i = 0; i < items.length; i++) {
        const item = items[i]
        removeWorker(item)
        settleTask(item, arguments)
        if (err != null) trigger('error', err, item.data)
      }
      afterTask()
    }
  }

  const q = {
    _tasks: options.priority ? new Heap() : new Deque(),
    _createTaskItem: options.priority
      ? ({ data, priority }, callback) => ({ data, priority, callback })
      : (data, callback) => ({ data, callback }),
    concurrency,
    payload,
    buffer: concurrency / 4,
    started: false,
    paused: false,
    push: inserter(false, false),
    pushAsync: inserter(false, true),
    unshift: inserter(true, false),
    unshiftAsync: inserter(true, true),
    kill () {
      off()
      q._tasks.empty()
    },
    remove (testFn) {
      q._tasks.remove(testFn)
    },
    process () {
      // Re-entry from a worker that called back synchronously is a no-op:
      // the running loop picks up where it left off.
      if (isProcessing) return
      isProcessing = true
      try {
        while (!q.paused && numRunning < q.concurrency && q._tasks.length) {
          if (single) {
            const item = q._tasks.shift()
            workersList.push(item)
            numRunning += 1
            if (q._tasks.length === 0) trigger('empty')
            if (numRunning === q.concurrency) trigger('saturated')
            worker(item.data, singleCallback(item))
          } else {
            let count = q._tasks.length
            if (q.payload) count = Math.min(count, q.payload)
            const items = new Array(count)
            const data = new Array(count)
            for (let i = 0; i < count; i++) {
              const item = q._tasks.shift()
              items[i] = item
              data[i] = item.data
              workersList.push(item)
            }
            numRunning += 1
            if (q._tasks.length === 0) trigger('empty')
            if (numRunning === q.concurrency) trigger('saturated')
            worker(data, batchCallback(items))
          }
        }
      } finally {
        isProcessing = false
      }
    },
    length () {
      return q._tasks.length
    },
    running () {
      return numRunning
    },
    workersList () {
      return workersList
    },
    idle () {
      return q._tasks.length + numRunning === 0
    },
    pause () {
      q.paused = true
    },
    resume () {
      if (q.paused === false) return
      q.paused = false
      queueMicrotask(q.process)
    },
    [Symbol.iterator] () {
      return q._tasks[Symbol.iterator]()
    }
  }

  // Fixed properties, so `q.drain = fn` (the async v2 style) fails loudly in
  // strict mode instead of silently doing nothing.
  const props = {}
  for (const name of EVENTS) props[name] = { writable: false, value: eventMethod(name) }
  Object.defineProperties(q, props)
  return q
}

module.exports = { createQueue }
