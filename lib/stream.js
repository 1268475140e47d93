'use strict'

const { abortError } = require('./errors')
const { Progress } = require('./progress')
const { START_OPEN } = require('./layout')

/**
 * One `stream` call: its batch, its source, and the results ready for the
 * consumer. `pump` pulls from the source while the window has room and
 * submits what it pulls; results land in `ready` and wake the consumer.
 */
class StreamCall {
  constructor (client, requests, opts, window, concurrency) {
    this.settle = opts.settle
    this.batch = client._batch(this.settle)
    this.batch.open = true
    this.batch.streaming = true
    this.native = { ...opts.native, failFast: false }
    this.window = window
    this.concurrency = concurrency
    this.ready = []
    this.wake = null
    this.failure = null
    this.nextIndex = 0
    this.exhausted = false
    this.pumping = false
    this.isAsync = typeof requests[Symbol.asyncIterator] === 'function'
    this.iterator = this.isAsync ? requests[Symbol.asyncIterator]() : requests[Symbol.iterator]()
    this.progress = opts.onProgress ? new Progress(opts.onProgress, Infinity) : null
    this.batch.onResult = (index, err, res) => this.result(index, err, res)
    this.batch.onAbort = (err) => this.fail(err)
  }

  /** Resumes the consumer if it waits for a result. */
  wakeUp () {
    if (this.wake !== null) {
      const w = this.wake
      this.wake = null
      w()
    }
  }

  /** The call fails with its first error; the consumer throws it. */
  fail (err) {
    this.failure = this.failure || err
    this.wakeUp()
  }

  result (index, err, res) {
    if (this.progress !== null) this.progress.count(err, res, this.concurrency)
    if (err && !this.settle) return this.fail(err)
    this.ready.push(this.settle ? (err ? { status: 'rejected', reason: err, index } : { status: 'fulfilled', value: res, index }) : res)
    this.wakeUp()
  }

  submit (items) {
    const base = this.nextIndex
    this.nextIndex += items.length
    this.batch.submit(items, 0, items.length, base, this.native, START_OPEN)
  }

  /** The source has no more: the batch ends once its last result is in. */
  finishSource () {
    this.exhausted = true
    this.batch.open = false
    if (this.batch.outstanding === 0 && !this.batch.ended) this.batch.end()
  }

  // Pulls from the source while there is room in the window. A synchronous
  // source is read in one go up to the room; an asynchronous one item by item,
  // each sent as soon as it arrives. Runs beside the consumer, not in its way.
  async pump () {
    if (this.pumping) return
    this.pumping = true
    try {
      while (!this.exhausted && !this.batch.ended && this.failure === null) {
        const room = this.window - this.batch.outstanding - this.ready.length
        if (room <= 0) break
        if (this.isAsync) this.takeAsync(await this.iterator.next())
        else this.takeSync(room)
      }
    } catch (err) {
      this.fail(err)
    } finally {
      this.pumping = false
      this.wakeUp()
    }
  }

  takeAsync (step) {
    if (step.done) this.finishSource()
    else if (!this.batch.ended) this.submit([step.value])
  }

  takeSync (room) {
    const items = []
    while (items.length < room) {
      const step = this.iterator.next()
      if (step.done) break
      items.push(step.value)
    }
    if (items.length > 0) this.submit(items)
    if (items.length < room) this.finishSource()
  }

  /** Nothing more will come: the source is read out and every result taken. */
  get drained () {
    return this.exhausted && this.batch.outstanding === 0 && !this.pumping
  }

  /** Resolves when a result, a failure or the end of the pump wakes the consumer. */
  waitForResult () {
    return new Promise((resolve) => { this.wake = resolve })
  }

  /** The consumer is gone (done, failed or stopped early): lets go of everything. */
  async close () {
    this.batch.open = false
    this.batch.end()
    if (this.progress !== null) this.progress.end()
    if (this.exhausted || typeof this.iterator.return !== 'function') return
    let stopped
    try {
      stopped = this.iterator.return()
    } catch {
      return // the source's own cleanup failed; nothing to add
    }
    if (stopped === null || typeof stopped !== 'object' || typeof stopped.then !== 'function') return
    stopped = Promise.resolve(stopped).catch(() => {})
    // An async source with a pull in progress (an async generator at an
    // `await` of its own, an idle Readable) runs `return()` only once that
    // pull settles, which may be never: it is asked to stop, not waited for.
    if (!this.pumping) await stopped
  }
}

/** The async generator behind `stream`. */
async function * streamResults (client, requests, opts, window, concurrency) {
  const call = new StreamCall(client, requests, opts, window, concurrency)
  if (!call.batch.watch(opts.signal)) {
    call.batch.end()
    throw abortError(opts.signal.reason)
  }
  // An abort hands over the results already in first: what is done is not
  // lost. A request's error (without settle) ends the stream at once.
  const stops = () => call.failure !== null && (call.ready.length === 0 || call.failure.code !== 'ABORT_ERR')
  try {
    while (true) {
      if (stops()) throw call.failure
      if (call.ready.length > 0) {
        yield call.ready.shift()
        continue
      }
      call.pump()
      if (stops()) throw call.failure
      if (call.ready.length > 0) continue
      if (call.drained) break
      await call.waitForResult()
    }
  } finally {
    await call.close()
  }
}

module.exports = { streamResults }
