'use strict'

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')

const FIXTURE = path.join(__dirname, 'fixtures', 'stream-memory.js')

function run (args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }))
      else resolve(JSON.parse(stdout))
    })
  })
}

// A stream keeps only what is in its window: the URLs of requests already
// answered are let go. Before, every URL stayed in the batch (about 100
// bytes a request), 15 MB more heap between the two marks of this run.
test('a stream of 200,000 URLs runs in flat memory under a 32 MB heap', { timeout: 300_000 }, async () => {
  const total = 200_000
  const { seen, heap } = await run(['--expose-gc', '--max-old-space-size=32', FIXTURE, String(total)])
  assert.equal(seen, total)
  const [quarter, end] = heap
  const grown = end - quarter
  assert.ok(grown < 2 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MB over ${total * 3 / 4} requests`)
})
