'use strict'

// `npm run example:bullmq`: the whole pipeline on one machine. Starts a
// redis-server of its own unless REDIS_URL (or --redis) names one, serves
// --urls pages from a local HTTP server, queues them in jobs, runs --workers
// worker processes, optionally SIGKILLs one in the middle of a job
// (--kill-one), collects the results as NDJSON (--out) and ends with one
// line: `jobs J, urls U, results R, failed F, duplicates D, lost L`.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const net = require('node:net')
const { fork, spawn } = require('node:child_process')
const { parseArgs } = require('node:util')

const { values: args } = parseArgs({
  options: {
    urls: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '3' },
    'kill-one': { type: 'boolean', default: false },
    redis: { type: 'string' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'fetchpool-bullmq-results.ndjson') }
  }
})

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function startRedis () {
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  child.once('error', (err) => { console.error(`redis-server: ${err.message} (apt-get install redis-server)`); process.exit(1) })
  for (let tries = 0; ; tries++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) }).once('error', () => resolve(false))
    })
    if (up) break
    if (tries > 100) throw new Error('redis-server did not start')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGKILL'); fs.rmSync(dir, { recursive: true, force: true }) } }
}

// Pages to fetch: most answer after a short wait; every 97th is missing and
// every 89th resets its connection, so the results have failures to count.
function startSite () {
  const server = http.createServer((req, res) => {
    const n = Number(req.url.split('/').pop())
    if (n % 89 === 88) return req.socket.destroy()
    setTimeout(() => {
      if (n % 97 === 96) { res.writeHead(404); return res.end('missing') }
      res.end(`page ${n}`)
    }, 20 + (n % 20))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function startWorkerProcess (env) {
  const child = fork(path.join(__dirname, 'worker.js'), [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ready = new Promise((resolve) => child.on('message', (m) => m.event === 'ready' && resolve()))
  return { child, ready }
}

async function main () {
  const redis = args.redis || process.env.REDIS_URL ? null : await startRedis()
  process.env.REDIS_URL = args.redis || process.env.REDIS_URL || redis.url
  process.env.FETCHPOOL_QUEUE = `fetchpool-urls-${process.pid}-${Date.now()}`
  if (args['kill-one']) {
    // A dead worker's job comes back once its lock lapses: short here.
    process.env.LOCK_MS ||= '2000'
    process.env.STALLED_MS ||= '1000'
  }
  const { Queue, QueueEvents } = require('bullmq')
  const config = require('./config')
  const { produce } = require('./producer')
  const { collect, summaryLine } = require('./collector')

  const site = await startSite()
  const base = `http://127.0.0.1:${site.address().port}/page/`
  const urls = Array.from({ length: Number(args.urls) }, (_, i) => base + i)
  const events = new QueueEvents(config.queueName, { connection: config.connection })
  await events.waitUntilReady()
  const workers = Array.from({ length: Number(args.workers) }, () => startWorkerProcess(process.env))
  process.once('exit', () => { for (const w of workers) w.child.kill('SIGKILL') })
  await Promise.all(workers.map((w) => w.ready))
  const jobs = await produce(urls)

  let stall = null
  if (args['kill-one']) {
    const victim = workers[0].child
    victim.once('message', (m) => setTimeout(() => {
      victim.kill('SIGKILL')
      stall = { job: m.job, killedAt: Date.now(), backAt: null }
    }, 100))
    events.on('completed', ({ jobId }) => {
      if (stall !== null && jobId === stall.job) stall.backAt = Date.now()
    })
  }

  const summary = await collect({ jobs, urls: urls.length, out: args.out })
  if (stall !== null) {
    const took = stall.backAt === null ? 'never' : `${stall.backAt - stall.killedAt} ms`
    console.log(`killed a worker in job ${stall.job}; it completed elsewhere after ${took}`)
  }
  console.log(`results: ${args.out}`)
  console.log(summaryLine(summary))

  for (const w of workers) w.child.kill('SIGTERM')
  await Promise.all(workers.map((w) => new Promise((resolve) => w.child.exitCode !== null || w.child.signalCode !== null ? resolve() : w.child.once('exit', resolve))))
  await events.close()
  const queue = new Queue(config.queueName, { connection: config.connection })
  await queue.obliterate({ force: true })
  await queue.close()
  site.close()
  if (redis) redis.stop()
  process.exitCode = summary.lost === 0 && summary.duplicates === 0 ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
