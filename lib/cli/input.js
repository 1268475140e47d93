'use strict'

// The command's input: one request per line, a URL or an NDJSON request
// object. All of it is read and checked before anything is sent, so a
// malformed line stops the run with its line number.

const fs = require('node:fs')
const readline = require('node:readline')
const { UsageError } = require('./args')

const FIELDS = ['url', 'method', 'headers', 'body']

/** One line → a request, or null for a blank or `#` comment line. */
function requestOf (line, lineNo, defaults) {
  const text = line.trim()
  if (text === '' || text.startsWith('#')) return null
  if (!text.startsWith('{')) {
    if (defaults.method === undefined && defaults.data === undefined) return text
    return { url: text, method: defaults.method, body: defaults.data }
  }
  let value
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`line ${lineNo}: not valid JSON (${err.message})`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof value.url !== 'string') {
    throw new UsageError(`line ${lineNo}: a request object needs a string "url"`)
  }
  if (value.body !== undefined && typeof value.body !== 'string') {
    throw new UsageError(`line ${lineNo}: "body" must be a string`)
  }
  const request = {}
  for (const key of FIELDS) if (value[key] !== undefined) request[key] = value[key]
  return request
}

function openInput (file, stdin) {
  if (file === undefined || file === '-') return stdin
  let fd
  try {
    fd = fs.openSync(file, 'r')
    // A directory opens, and fails only on its first read.
    if (fs.fstatSync(fd).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' })
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd)
    throw new UsageError(`cannot read ${file}: ${err.code}`)
  }
  return fs.createReadStream(file, { fd })
}

/** Reads every request of `file` (or of `stdin` when none, or `-`). */
async function readRequests (file, stdin, defaults = {}) {
  const stream = openInput(file, stdin)
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity })
  const requests = []
  let lineNo = 0
  for await (const line of lines) {
    lineNo++
    const request = requestOf(line, lineNo, defaults)
    if (request !== null) requests.push(request)
  }
  return requests
}

module.exports = { readRequests, requestOf }
