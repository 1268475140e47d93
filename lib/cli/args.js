'use strict'

// The command's options: parsed by node:util's parseArgs, then turned into a
// Client's options and the run's own settings. A bad option is a UsageError,
// reported before anything is sent.

const { parseArgs } = require('node:util')

class UsageError extends Error {
  constructor (message) {
    super(message)
    this.name = 'UsageError'
    this.code = 'ERR_USAGE'
  }
}

// name → [type, short, default, help]; the help text is built from this table.
const OPTIONS = {
  concurrency: ['string', 'c', '64', 'requests in flight at once, or "auto": a limit per origin that adapts'],
  'max-concurrency': ['string', undefined, '256', 'with --concurrency auto, the most in flight to one origin'],
  'connections-per-host': ['string', undefined, undefined, 'open connections per host at most'],
  rate: ['string', undefined, undefined, 'requests started per second at most'],
  timeout: ['string', 't', undefined, 'total timeout of a request, ms'],
  'connect-timeout': ['string', undefined, undefined, 'connect timeout, ms'],
  retries: ['string', 'r', undefined, 'retries of a failed idempotent request'],
  header: ['string', 'H', undefined, '"Name: value" sent with every request (repeatable)'],
  method: ['string', 'X', undefined, 'method of plain URL lines (default GET)'],
  data: ['string', 'd', undefined, 'body of plain URL lines'],
  redirect: ['string', undefined, undefined, 'follow (default), manual or error'],
  'max-redirects': ['string', undefined, undefined, 'redirects followed at most (default 20)'],
  http2: ['string', undefined, undefined, 'auto (by ALPN, default), prior-knowledge or off'],
  proxy: ['string', undefined, undefined, 'http:// proxy URL (default: HTTP_PROXY/HTTPS_PROXY)'],
  ca: ['string', undefined, undefined, 'PEM file of extra trusted certificates (repeatable)'],
  insecure: ['boolean', 'k', undefined, 'do not verify TLS certificates'],
  output: ['string', 'o', undefined, 'write the NDJSON results to this file (default stdout)'],
  'save-dir': ['string', undefined, undefined, 'save each 2xx response body in this directory'],
  report: ['string', undefined, undefined, 'write an HTML report of the run to this file'],
  progress: ['boolean', undefined, undefined, 'draw the progress bar even when not a terminal'],
  'no-progress': ['boolean', undefined, undefined, 'never draw the progress bar'],
  demo: ['boolean', undefined, undefined, 'fetch from an embedded local server'],
  count: ['string', 'n', '2000', 'requests of --demo'],
  help: ['boolean', 'h', undefined, 'show this help'],
  version: ['boolean', 'V', undefined, 'show the version']
}

const REPEATABLE = new Set(['header', 'ca'])

function parseConfig () {
  const options = {}
  for (const [name, [type, short]] of Object.entries(OPTIONS)) {
    options[name] = { type }
    if (short !== undefined) options[name].short = short
    if (REPEATABLE.has(name)) options[name].multiple = true
  }
  return options
}

function helpText () {
  const lines = [
    'Usage: fetchpool [options] [file]',
    '',
    'Fetches the URLs in file (or standard input), one per line, or NDJSON',
    'request objects {"url", "method", "headers", "body"}, and writes one NDJSON',
    'result per request. Exit status: 0 when every request got a response,',
    '1 when any failed, 2 on a usage error.',
    '',
    'Options:'
  ]
  for (const [name, [type, short, def, help]] of Object.entries(OPTIONS)) {
    const flag = `${short ? `-${short}, ` : '    '}--${name}${type === 'string' ? ' <value>' : ''}`
    lines.push(`  ${flag.padEnd(36)} ${help}${def !== undefined ? ` (default ${def})` : ''}`)
  }
  return lines.join('\n') + '\n'
}

/** parseArgs, with its errors as UsageErrors. */
function parse (argv) {
  try {
    return parseArgs({ args: argv, options: parseConfig(), allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError(err.message)
  }
}

module.exports = { parse, helpText, UsageError, OPTIONS }
