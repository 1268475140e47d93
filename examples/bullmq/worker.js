'use strict'

// A worker process: takes jobs from the queue and runs each as one
// `gather` with `settle: true`, so every URL has an outcome. Its result,
// one small record per URL keyed by index, is the job's return value, which
// BullMQ stores only when the job completes: a worker that dies mid-job
// leaves no partial results, and the job runs again elsewhere.

const { Worker } = require('bullmq')
const { Client } = require('../..') // require('fetchpool') in your project
const config = require('./config')

function record (index, url, outcome) {
  if (outcome.status === 'rejected') return { index, url, error: outcome.reason.code }
  const res = outcome.value
  return { index, url, status: res.status, bytes: res.buffer.length, ms: Math.round(res.timing.end - res.timing.start) }
}

function startWorker (queueName = config.queueName) {
  const client = new Client({ connectionsPerHost: config.fetch.connectionsPerHost })
  const worker = new Worker(queueName, async (job) => {
    if (process.send) process.send({ event: 'active', job: job.id })
    const { base, urls } = job.data
    const outcomes = await client.gather(urls, {
      settle: true,
      concurrency: config.fetch.concurrency,
      retry: config.fetch.retry,
      timeout: config.fetch.timeout
    })
    return outcomes.map((outcome, k) => record(base + k, urls[k], outcome))
  }, { connection: config.connection, concurrency: 1, ...config.worker })
  const stop = async () => {
    await worker.close()
    await client.close()
  }
  return { worker, client, stop }
}

module.exports = { startWorker }

if (require.main === module) {
  const { worker, stop } = startWorker()
  worker.on('ready', () => process.send && process.send({ event: 'ready' }))
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop().then(() => process.exit(0)))
}
