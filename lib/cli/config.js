'use strict'

// From parsed options to what the run needs: the Client's options and the
// command's own settings. Numbers and enumerations are checked here so that
// the message names the option as the user typed it.

const fs = require('node:fs')
const { UsageError, OPTIONS } = require('./args')

function integer (values, name, min) {
  const raw = values[name]
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`--${name} must be a whole number >= ${min}, got '${raw}'`)
  }
  return Number(raw)
}

function positive (values, name) {
  const raw = values[name]
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (raw.trim() === '' || !(n > 0) || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number > 0, got '${raw}'`)
  }
  return n
}

function oneOf (values, name, allowed) {
  const raw = values[name]
  if (raw !== undefined && !allowed.includes(raw)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${raw}'`)
  }
  return raw
}

/** `-H 'Name: value'` → [name, value] pairs. */
function headers (list = []) {
  return list.map((line) => {
    const colon = line.indexOf(':')
    if (colon < 1) throw new UsageError(`--header must look like 'Name: value', got '${line}'`)
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()]
  })
}

function readCa (files = []) {
  return files.map((file) => {
    try {
      return fs.readFileSync(file, 'latin1')
    } catch (err) {
      throw new UsageError(`--ca ${file}: ${err.code || err.message}`)
    }
  })
}

function concurrency (values) {
  const raw = values.concurrency === undefined ? OPTIONS.concurrency[2] : values.concurrency
  if (raw === 'auto') {
    const max = integer(values, 'max-concurrency', 1)
    return max === undefined ? { concurrency: 'auto' } : { concurrency: 'auto', maxConcurrency: max }
  }
  if (values['max-concurrency'] !== undefined) throw new UsageError('--max-concurrency goes with --concurrency auto')
  return { concurrency: integer({ concurrency: raw }, 'concurrency', 1) }
}

/** The Client's options; the library checks them again on construction. */
function clientOptions (values) {
  const out = concurrency(values)
  const set = (key, value) => { if (value !== undefined) out[key] = value }
  set('connectionsPerHost', integer(values, 'connections-per-host', 1))
  set('rateLimit', positive(values, 'rate'))
  const total = positive(values, 'timeout')
  const connect = positive(values, 'connect-timeout')
  if (total !== undefined || connect !== undefined) out.timeout = { total, connect }
  set('retry', integer(values, 'retries', 0))
  set('redirect', oneOf(values, 'redirect', ['follow', 'manual', 'error']))
  set('maxRedirects', integer(values, 'max-redirects', 0))
  set('http2', oneOf(values, 'http2', ['auto', 'prior-knowledge', 'off']))
  set('proxy', values.proxy)
  if (values.ca !== undefined) out.ca = readCa(values.ca)
  if (values.insecure) out.rejectUnauthorized = false
  const pairs = headers(values.header)
  if (pairs.length > 0) out.headers = pairs
  return out
}

/** Everything the run needs, from parseArgs' result. */
function configOf ({ values, positionals }) {
  if (positionals.length > 1) throw new UsageError(`one input file at most, got ${positionals.length}`)
  if (values.progress && values['no-progress']) throw new UsageError('--progress and --no-progress exclude each other')
  if (values.demo && positionals.length > 0) throw new UsageError('--demo takes no input file')
  if (values.method !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(values.method)) {
    throw new UsageError(`--method must be a method name (a token), got '${values.method}'`)
  }
  if (values.data !== undefined && /^(GET|HEAD)$/i.test(values.method || '')) {
    throw new UsageError(`--data does not go with --method ${values.method}, which sends no body`)
  }
  return {
    input: positionals[0],
    client: clientOptions(values),
    method: values.method,
    data: values.data,
    output: values.output,
    saveDir: values['save-dir'],
    report: values.report,
    progress: values.progress ? true : values['no-progress'] ? false : undefined,
    demo: Boolean(values.demo),
    count: integer({ count: values.count === undefined ? OPTIONS.count[2] : values.count }, 'count', 1)
  }
}

module.exports = { configOf }
