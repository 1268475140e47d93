'use strict'

// The `fetchpool` command: reads requests, runs them on a Client, writes one
// NDJSON line per request, draws a progress bar on a terminal, and closes
// with a summary (and optionally an HTML report). Returns the exit status.

const { parse, helpText, UsageError } = require('./args')
const { configOf } = require('./config')
const { readRequests } = require('./input')
const { runRequests } = require('./run')
const { recordOf, openOutput } = require('./output')
const { Recorder } = require('./record')
const { startProgress } = require('./progress')
const { summaryText } = require('./summary')
const { fromColumns } = require('../timeline')
const fs = require('node:fs')
const { performance } = require('node:perf_hooks')

const EXIT_OK = 0
const EXIT_FAILED = 1
const EXIT_USAGE = 2
// As a shell reports a process ended by SIGINT (128 + 2).
const EXIT_INTERRUPTED = 130

/** The bar goes to a terminal, and not when the results go to that same terminal. */
function wantsBar (config, io) {
  if (config.progress !== undefined) return config.progress
  const toStdout = config.output === undefined || config.output === '-'
  return Boolean(io.stderr.isTTY) && !(toStdout && io.stdout.isTTY)
}

/** Requests from the input, or from the demo server; and what to close after. */
async function sourceOf (config, io) {
  if (config.demo) {
    const demo = await require('./demo').startDemo()
    return { requests: demo.urls(config.count), close: demo.close }
  }
  if (config.input === undefined && io.stdin.isTTY) {
    throw new UsageError('give a file of URLs, pipe them in, or use --demo')
  }
  return { requests: await readRequests(config.input, io.stdin, config), close: async () => {} }
}

function makeClient (client) {
  // The command is a user of the public API, above every module of lib/.
  const { Client } = require('../../index')
  try {
    return new Client(client)
  } catch (err) {
    throw new UsageError(`${err.message} (${err.code})`)
  }
}

/** How often the adaptive limits are sampled for the summary and the report, ms. */
const LIMIT_SAMPLE_MS = 100

/** Samples `stats().limits` into `recorder` until the returned function is called. */
function watchLimits (client, recorder, adaptive) {
  if (!adaptive) return () => {}
  const sample = () => recorder.addLimits(performance.now(), client.stats().limits)
  const timer = setInterval(sample, LIMIT_SAMPLE_MS)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Ctrl-C while the command runs on the process: the first ends the run
 * early (requests in flight are cancelled, what is done is written, then the
 * summary and the report); a second ends the process at once.
 */
function watchInterrupt (io) {
  const controller = new AbortController()
  if (io !== process) return { signal: controller.signal, stop () {} }
  const second = () => {
    if (io.stderr.isTTY) io.stderr.write('\u001b[?25h') // the cursor the bar hid
    process.exit(EXIT_INTERRUPTED)
  }
  const first = () => {
    controller.abort()
    process.once('SIGINT', second)
  }
  process.once('SIGINT', first)
  return {
    signal: controller.signal,
    stop () {
      process.off('SIGINT', first)
      process.off('SIGINT', second)
    }
  }
}

/**
 * The output, opened before anything is sent: a file that cannot be
 * written is a usage error, as is a --save-dir that cannot be made.
 */
function prepareOutputs (config, io) {
  if (config.saveDir !== undefined) {
    try {
      fs.mkdirSync(config.saveDir, { recursive: true })
    } catch (err) {
      throw new UsageError(`cannot make --save-dir ${config.saveDir}: ${err.code}`)
    }
  }
  try {
    return openOutput(config.output, io.stdout)
  } catch (err) {
    throw new UsageError(`cannot write ${config.output}: ${err.code}`)
  }
}

/** Runs every request, writing and recording each outcome as it comes. */
async function execute (client, requests, config, io, output, signal) {
  const recorder = new Recorder()
  const stopWatching = watchLimits(client, recorder, config.client.concurrency === 'auto')
  const bar = startProgress(requests.length, io.stderr, wantsBar(config, io))
  try {
    for await (const outcome of runRequests(client, requests, config.saveDir, signal)) {
      const record = recordOf(outcome, requests)
      recorder.add(record)
      await output.writer.write(record)
      bar.tick(recorder.length, recorder.failed)
    }
  } catch (err) {
    // Interrupted: the run ends here, with what it has.
    if (!signal.aborted) throw err
  } finally {
    stopWatching()
    bar.stop()
    await output.writer.end(output.close)
  }
  return recorder
}

async function run (config, io) {
  const source = await sourceOf(config, io)
  const client = makeClient(config.client)
  const interrupt = watchInterrupt(io)
  try {
    const output = prepareOutputs(config, io)
    const recorder = await execute(client, source.requests, config, io, output, interrupt.signal)
    const t = fromColumns(recorder.timelineColumns())
    io.stderr.write(summaryText(recorder, t))
    if (config.report !== undefined) {
      require('../report').writeReport(config.report, recorder, t)
      io.stderr.write(`  report         ${config.report}\n`)
    }
    if (interrupt.signal.aborted) {
      io.stderr.write(`fetchpool: interrupted after ${recorder.length} of ${source.requests.length} requests\n`)
      return EXIT_INTERRUPTED
    }
    return recorder.failed > 0 ? EXIT_FAILED : EXIT_OK
  } finally {
    interrupt.stop()
    client.close()
    await source.close()
  }
}

/** The command on `argv` (without node and the script); resolves to the exit status. */
async function main (argv, io = process) {
  try {
    const parsed = parse(argv)
    if (parsed.values.help) {
      io.stdout.write(helpText())
      return EXIT_OK
    }
    if (parsed.values.version) {
      io.stdout.write(`${require('../../package.json').version}\n`)
      return EXIT_OK
    }
    return await run(configOf(parsed), io)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`fetchpool: ${err.message}\nTry 'fetchpool --help'.\n`)
    return EXIT_USAGE
  }
}

module.exports = { main, EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED }
