'use strict'

// The NDJSON results: one line per request, in completion order, written
// with the output's backpressure respected.

const fs = require('node:fs')
const { urlOf } = require('./run')

const FLUSH_AT = 64 * 1024

/** Resolves on `event`, or once the stream failed or closed (the error is kept by LineWriter). */
function settle (stream, event) {
  return new Promise((resolve) => {
    const done = () => {
      for (const name of [event, 'error', 'close']) stream.off(name, done)
      resolve()
    }
    for (const name of [event, 'error', 'close']) stream.on(name, done)
  })
}

/** The line of one settled outcome (see docs/cli.md for the fields). */
function recordOf (outcome, requests) {
  const index = outcome.index
  const record = { index, url: urlOf(requests[index]) }
  if (outcome.status === 'fulfilled') {
    const res = outcome.value
    record.status = res.status
    record.bytes = res.savedBytes === undefined ? res.buffer.length : res.savedBytes
    if (res.redirected) record.finalUrl = res.url
    record.httpVersion = res.httpVersion
    record.attempts = res.attempts
    record.timing = res.timing
  } else {
    const err = outcome.reason
    record.error = typeof err.code === 'string' ? err.code : 'ERR_UNKNOWN'
    record.message = err.message
    if (typeof err.status === 'number') record.status = err.status
    record.bytes = 0
    if (typeof err.attempts === 'number') record.attempts = err.attempts
    record.timing = err.timing || {}
  }
  return record
}

/** Writes lines to `stream`, in pieces of about FLUSH_AT bytes. */
class LineWriter {
  constructor (stream) {
    this.stream = stream
    this.pending = ''
    this.broken = false
    this.error = null
    // A reader that went away (`| head`) ends the output, not the run; any
    // other failure to write ends the run, from the next write.
    stream.on('error', (err) => {
      if (err.code === 'EPIPE') this.broken = true
      else this.error = err
    })
  }

  async write (record) {
    this.pending += JSON.stringify(record) + '\n'
    if (this.pending.length >= FLUSH_AT) await this.flush()
  }

  async flush () {
    const text = this.pending
    this.pending = ''
    if (this.error !== null) throw this.error
    if (this.broken || text === '') return
    if (this.stream.write(text)) return
    await settle(this.stream, 'drain')
    if (this.error !== null) throw this.error
  }

  async end (close) {
    await this.flush()
    if (close) {
      this.stream.end()
      await settle(this.stream, 'finish')
      if (this.error !== null) throw this.error
    }
  }
}

/** The output: `file`, or `stdout` when none. */
function openOutput (file, stdout) {
  if (file === undefined || file === '-') return { writer: new LineWriter(stdout), close: false }
  // Opened here, so that a path that cannot be written fails before any
  // request is sent.
  return { writer: new LineWriter(fs.createWriteStream(file, { fd: fs.openSync(file, 'w') })), close: true }
}

module.exports = { recordOf, openOutput, LineWriter }
