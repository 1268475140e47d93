'use strict'

const { abortError } = require('./errors')
const { Progress } = require('./progress')

/**
 * The engine of gather and the native map: `done(err, results)` once. On an
 * error or an abort (a signal, `close()`) the partial results are left as
 * async's map leaves them on an error: up to the last request that
 * finished, with holes for those still in flight.
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
  let lastIndex = -1
  const finish = (err) => {
    if (finished) return
    finished = true
    if (err) results.length = lastIndex + 1
    if (progress !== null) progress.end()
    done(err, results)
  }
  const progress = opts.onProgress ? new Progress(opts.onProgress, n) : null
  const concurrency = (opts.native && opts.native.concurrency) || client._concurrency
  let received = 0
  batch.onResult = (index, err, res) => {
    received++
    if (index > lastIndex) lastIndex = index
    if (progress !== null) progress.count(err, res, concurrency)
    if (settle) {
      results[index] = err ? { status: 'rejected', reason: err } : { status: 'fulfilled', value: res }
      if (received === n) finish(null)
    } else if (err) {
      results[index] = undefined // an own slot, as async's map sets it
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
