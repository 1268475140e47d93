'use strict'

// Splits a URL list into jobs of `jobSize` URLs. Each job carries the index
// of its first URL, so results come back keyed by the URL's position, and a
// fixed job id, so producing the same list twice adds nothing.

const fs = require('node:fs')
const { Queue } = require('bullmq')
const config = require('./config')

async function produce (urls, { queueName = config.queueName, jobSize = config.jobSize } = {}) {
  const queue = new Queue(queueName, { connection: config.connection })
  const jobs = []
  for (let base = 0; base < urls.length; base += jobSize) {
    jobs.push({
      name: 'gather',
      data: { base, urls: urls.slice(base, base + jobSize) },
      opts: { jobId: `urls-${base}`, attempts: config.jobAttempts, removeOnComplete: false }
    })
  }
  await queue.addBulk(jobs)
  await queue.close()
  return jobs.length
}

module.exports = { produce }

// node producer.js urls.txt: one URL a line.
if (require.main === module) {
  const urls = fs.readFileSync(process.argv[2], 'utf8').split('\n').map((l) => l.trim()).filter(Boolean)
  produce(urls).then((count) => console.log(`queued ${count} jobs for ${urls.length} URLs`))
}
