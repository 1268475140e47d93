'use strict'

const { abortError } = require('./errors')
const { Progress } = require('./progress')
const { START_OPEN } = require('./layout')

/** The async generator behind `stream`. */
async function * streamResults (client, requests, opts, window, concurrency) {
  const settle = opts.settle
  const batch = client._batch(settle)
  batch.open = true
  batch.streaming = true
  const native = { ...opts.native, failFast: false }
  const ready = []
  let wake = null
  let failure = null
  let nextIndex = 0
  let exhausted = false
  let pumping = false
  const isAsync = typeof requests[Symbol.asyncIterator] === 'function'
  const iterator = isAsync ? requests[Symbol.asyncIterator]() : requests[Symbol.iterator]()
  const progress = opts.onProgress ? new Progress(opts.onProgress, Infinity) : null

  const wakeUp = () => {
    if (wake !== null) {
      const w = wake
      wake = null
      w()
    }
  }
  const fail = (err) => {
    failure = failure || err
    wakeUp()
  }
  batch.onResult = (index, err, res) => {
    if (progress !== null) progress.count(err, res, concurrency)
    if (err && !settle) return fail(err)
    ready.push(settle ? (err ? { status: 'rejected', reason: err, index } : { status: 'fulfilled', value: res, index }) : res)
    wakeUp()
  }
  batch.onAbort = fail
  if (!batch.watch(opts.signal)) {
    batch.end()
    throw abortError(opts.signal.reason)
  }

  const submit = (items) => {
    const base = nextIndex
    nextIndex += items.length
    batch.submit(items, 0, items.length, base, native, START_OPEN)
  }
  const finishSource = () => {
    exhausted = true
    batch.open = false
    if (batch.outstanding === 0 && !batch.ended) batch.end()
  }

  // Pulls from the source while there is room in the window. A synchronous
  // source is read in one go up to the room; an asynchronous one item by item,
  // each sent as soon as it arrives. Runs beside the consumer, not in its way.
  async function pump () {
    if (pumping) return
    pumping = true
    try {
      while (!exhausted && !batch.ended && failure === null) {
        const room = window - batch.outstanding - ready.length
        if (room <= 0) break
        if (isAsync) {
          const step = await iterator.next()
          if (step.done) finishSource()
          else if (!batch.ended) submit([step.value])
        } else {
          const items = []
          while (items.length < room) {
            const step = iterator.next()
            if (step.done) break
            items.push(step.value)
          }
          if (items.length > 0) submit(items)
          if (items.length < room) finishSource()
        }
      }
    } catch (err) {
      fail(err)
    } finally {
      pumping = false
      wakeUp()
    }
  }

  try {
    while (true) {
      if (failure !== null) throw failure
      if (ready.length > 0) {
        yield ready.shift()
        continue
      }
      pump()
      if (failure !== null) throw failure
      if (ready.length > 0) continue
      if (exhausted && batch.outstanding === 0 && !pumping) break
      await new Promise((resolve) => { wake = resolve })
    }
  } finally {
    batch.open = false
    if (!exhausted && typeof iterator.return === 'function') {
      try { await iterator.return() } catch { /* the source's own cleanup failed; nothing to add */ }
    }
    batch.end()
    if (progress !== null) progress.report(0)
  }
}

module.exports = { streamResults }
