'use strict'

// Running out of file descriptors: a request that cannot get a socket fails
// with EMFILE, the batch still ends, and the pool works again once sockets
// are closed. The client runs in a child process under a low `ulimit -n`;
// the server runs here, so its sockets do not count against that limit.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const path = require('node:path')
const { startHttpServer } = require('./support/http-server')

const FIXTURE = path.join(__dirname, 'fixtures', 'descriptor-limit.js')
let server
let held = []

before(async () => {
  // Holds the first call's answers until every one of its requests has
  // arrived or failed, so its sockets are all open at once.
  server = await startHttpServer((req, res, url) => {
    if (url.pathname.startsWith('/narrow/')) return res.end('ok')
    held.push(res)
  })
})

after(() => server.close())

function runLimited (limit, args) {
  const command = `ulimit -n ${limit} && exec "${process.execPath}" "${FIXTURE}" ${args.join(' ')}`
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', command], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(Object.assign(err, { stderr }))
      resolve(JSON.parse(stdout))
    })
  })
}

test('requests that cannot get a socket fail with EMFILE and the pool recovers', { timeout: 60_000 }, async () => {
  const wide = 200
  // Answers what arrived once arrivals stop: the rest of the call has failed.
  let seen = 0
  const release = setInterval(() => {
    if (held.length > 0 && held.length === seen) {
      for (const res of held) res.end('ok')
      held = []
    }
    seen = held.length
  }, 200)
  try {
    const out = await runLimited(64, [server.url(''), wide, 20])
    assert.equal(out.crashed, undefined, out.crashed)
    const { first, second } = out
    assert.ok(first.EMFILE > 0, `no request failed with EMFILE: ${JSON.stringify(first)}`)
    assert.ok(first['200'] > 0, `no request got a socket: ${JSON.stringify(first)}`)
    assert.equal(first.EMFILE + first['200'], wide, JSON.stringify(first))
    assert.deepEqual(second, { 200: 20 })
  } finally {
    clearInterval(release)
  }
})
