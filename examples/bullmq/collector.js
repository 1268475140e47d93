'use strict'

// Waits until every job of the queue has completed (or failed for good),
// then writes one NDJSON line per URL in index order and counts what came
// back: results, failed requests, duplicates and URLs with no result.

const fs = require('node:fs')
const { Queue } = require('bullmq')
const config = require('./config')

async function waitForJobs (queue, jobs, pollMs) {
  for (;;) {
    const counts = await queue.getJobCounts('completed', 'failed')
    if (counts.completed + counts.failed >= jobs) return
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

async function collect ({ jobs, urls, out, queueName = config.queueName, pollMs = 200 }) {
  const queue = new Queue(queueName, { connection: config.connection })
  try {
    await waitForJobs(queue, jobs, pollMs)
    const byIndex = new Map()
    let duplicates = 0
    for (const job of await queue.getJobs(['completed'], 0, -1)) {
      for (const result of job.returnvalue) {
        if (byIndex.has(result.index)) duplicates++
        else byIndex.set(result.index, result)
      }
    }
    const lines = [...byIndex.values()].sort((a, b) => a.index - b.index).map((r) => JSON.stringify(r))
    fs.writeFileSync(out, lines.length > 0 ? lines.join('\n') + '\n' : '')
    const failed = [...byIndex.values()].filter((r) => r.error !== undefined).length
    const summary = { jobs, urls, results: byIndex.size, failed, duplicates, lost: urls - byIndex.size }
    return summary
  } finally {
    await queue.close()
  }
}

function summaryLine (s) {
  return `jobs ${s.jobs}, urls ${s.urls}, results ${s.results}, failed ${s.failed}, duplicates ${s.duplicates}, lost ${s.lost}`
}

module.exports = { collect, summaryLine }
