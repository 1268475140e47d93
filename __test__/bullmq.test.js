'use strict'

// The BullMQ example end to end, with a real Redis (Debian's redis-server,
// started by the example on a free loopback port): two worker processes,
// one SIGKILLed in the middle of a job; every URL's result must still come
// out exactly once.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { requireProgram } = require('./support/certs')

const RUN = path.join(__dirname, '..', 'examples', 'bullmq', 'run.js')

test('a killed worker loses no URL and duplicates none', { timeout: 120_000 }, async (t) => {
  requireProgram('redis-server')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-bullmq-test-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'results.ndjson')
  const urls = 1500
  const env = { ...process.env }
  delete env.REDIS_URL
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, [RUN, '--urls', String(urls), '--workers', '2', '--kill-one', '--out', out],
      { env, timeout: 110_000 }, (err, stdout, stderr) => err ? reject(Object.assign(err, { stdout, stderr })) : resolve(stdout))
  })
  const lines = stdout.trim().split('\n')
  const stalled = lines.find((l) => l.startsWith('killed a worker'))
  assert.match(stalled, /completed elsewhere after \d+ ms/, 'the killed job came back')
  t.diagnostic(stalled)
  assert.equal(lines.at(-1), `jobs 6, urls ${urls}, results ${urls}, failed 16, duplicates 0, lost 0`)

  const records = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(records.map((r) => r.index), Array.from({ length: urls }, (_, i) => i), 'each index once, in order')
  for (const r of records) {
    assert.ok(r.url.endsWith(`/page/${r.index}`), `record ${r.index} names its own URL`)
    if (r.index % 89 === 88) assert.equal(typeof r.error, 'string', `the reset page ${r.index} failed`)
    else if (r.index % 97 === 96) assert.equal(r.status, 404)
    else assert.deepEqual([r.status, r.bytes], [200, `page ${r.index}`.length])
  }
  assert.ok(records.filter((r) => r.error !== undefined).every((r) => ['ECONNRESET', 'ERR_HTTP_PROTOCOL', 'EPIPE'].includes(r.error)))
})
