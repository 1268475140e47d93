'use strict'

const { abortError } = require('./errors')
const { Progress } = require('./progress')

/**
 * The engine of gather and the native map: `done(err, results)` once, with
 * the live partial results on error. A signal or `close()` cancels it.
 */
function gatherResults (client, list, opts, done) {
  const n = list.length
  const settle = opts.settle
  const results = new Array(n)
  if (n === 0) {
    process.nextTick(done, null, results)
    return
  }
  const batch = client._batch(settle)
  let finished = false
  const finish = (err) => {
    if (finished) return
    finished = true
    if (progress !== null) progress.report(0)
    done(err, results)
  }
  const progress = opts.onProgress ? new Progress(opts.onProgress, n) : null
  const concurrency = (opts.native && opts.native.concurrency) || client._concurrency
  let received = 0
  let lastIndex = -1
  batch.onResult = (index, err, res) => {
    received++
    if (index > lastIndex) lastIndex = index
    if (progress !== null) progress.count(err, res, concurrency)
    if (settle) {
      results[index] = err ? { status: 'rejected', reason: err } : { status: 'fulfilled', value: res }
      if (received === n) finish(null)
    } else if (err) {
      // The partial results as async's map leaves them: up to the last
      // request that finished, the failed one's slot set to undefined.
      results[index] = undefined
      results.length = lastIndex + 1
      finish(err)
    } else {
      results[index] = res
      if (received === n) finish(null)
    }
  }
  batch.onAbort = finish
  if (!batch.watch(opts.signal)) {
    batch.end()
    finish(abortError(opts.signal.reason))
    return
  }
  const native = settle ? { ...opts.native, failFast: false } : opts.native
  batch.submitAll(list, native)
}

module.exports = { gatherResults }
