'use strict'

// HTTP/1.1 has two paths: the fast path (src/engine/lane.rs, wire.rs) and
// hyper's pooled client. FETCHPOOL_H1_PATH=pooled, read as a client is made,
// sends plain http through the pooled client, so the same suites, with the
// same assertions, run on both paths: here once more on the pooled one.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Client } = require('..')

// The field lines of the first request a raw server sees.
async function fieldsSent (makeClient, init) {
  let seen
  const server = net.createServer((socket) => {
    socket.once('data', (data) => {
      seen = data.toString('latin1').split('\r\n').slice(1).filter(Boolean)
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = makeClient()
  try {
    const res = await client.fetch(`http://127.0.0.1:${server.address().port}/`, init)
    assert.equal(await res.text(), 'ok')
  } finally {
    client.close()
    server.close()
  }
  return seen
}

const names = (lines) => lines.map((line) => line.slice(0, line.indexOf(':')).toLowerCase())

// The values of `name` among `lines`.
const values = (lines, name) => lines
  .filter((line) => line.slice(0, line.indexOf(':')).toLowerCase() === name)
  .map((line) => line.slice(line.indexOf(':') + 1).trim())

async function withPooled (work) {
  const before = process.env.FETCHPOOL_H1_PATH
  process.env.FETCHPOOL_H1_PATH = 'pooled'
  try {
    return await work()
  } finally {
    if (before === undefined) delete process.env.FETCHPOOL_H1_PATH
    else process.env.FETCHPOOL_H1_PATH = before
  }
}

test('FETCHPOOL_H1_PATH=pooled sends plain http through the pooled client', async () => {
  // The fast path writes Host first; hyper adds it after the given fields.
  const fast = names(await fieldsSent(() => new Client()))
  assert.equal(fast[0], 'host')
  const pooled = names(await withPooled(() => fieldsSent(() => new Client())))
  assert.notEqual(pooled[0], 'host')
  assert.ok(pooled.includes('host'))
})

test('both paths send the same Host and Content-Length', async () => {
  const cases = [
    {},
    { method: 'POST', body: '' },
    { method: 'PUT', body: 'abc' },
    { method: 'DELETE' },
    { method: 'OPTIONS', body: 'x' },
    { headers: { host: 'named.test' } }
  ]
  for (const init of cases) {
    const fast = await fieldsSent(() => new Client(), init)
    const pooled = await withPooled(() => fieldsSent(() => new Client(), init))
    for (const name of ['host', 'content-length']) {
      // Each run has its own server: its port is left out.
      const sent = (lines) => values(lines, name).map((v) => v.replace(/:\d+$/, ':port'))
      assert.deepEqual(sent(pooled), sent(fast), `${name} of ${JSON.stringify(init)}`)
    }
  }
})

test('a malformed chunk-size line is ERR_HTTP_PROTOCOL on both paths', async () => {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/`
  try {
    for (const make of [() => new Client(), () => withPooled(() => new Client())]) {
      const client = await make()
      try {
        await assert.rejects(client.fetch(url, { retry: 0 }), { code: 'ERR_HTTP_PROTOCOL' })
      } finally {
        client.close()
      }
    }
  } finally {
    server.close()
  }
})

// Suites that hold for both paths: the wire's framing and reuse, redirects,
// decompression, retries and resends, limits, and errors with the timeouts.
const suites = ['wire', 'redirect', 'decompress', 'retry', 'limits', 'errors']

for (const suite of suites) {
  test(`${suite}.test.js on the pooled path`, () => {
    const file = path.join(__dirname, `${suite}.test.js`)
    // A runner of its own: under this one's context a child would only
    // report to it, and run nothing here.
    const env = { ...process.env, FETCHPOOL_H1_PATH: 'pooled' }
    delete env.NODE_TEST_CONTEXT
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], {
      env,
      encoding: 'utf8',
      timeout: 300_000
    })
    const output = `${run.stdout}\n${run.stderr}`
    assert.equal(run.status, 0, output)
    const passed = Number(/^# pass (\d+)$/m.exec(run.stdout)?.[1] ?? 0)
    assert.ok(passed > 0, output)
    assert.match(run.stdout, /^# fail 0$/m)
  })
}
