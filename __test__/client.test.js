'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fetchpool = require('..')
const { Client } = fetchpool
const { startServer, refusedPort } = require('./support/server')
const { startGate } = require('./support/gate')
const { waitFor } = require('./support/wait')

// The threads of this process, with their names as the system lists them
// (Linux only; cut to 15 bytes). Elsewhere null. Each is keyed by its id and
// its start time: an id can be given again to a new thread once its thread
// has ended, as the workers of a closed client do.
function threads () {
  if (process.platform !== 'linux') return null
  const fs = require('node:fs')
  const named = new Map()
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      // Fields after the name, which is in parentheses; the start time is
      // the 22nd field in all.
      const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
      named.set(`${tid}@${started}`, fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim())
    } catch {
      // the thread ended while listed
    }
  }
  return named
}

/**
 * A new Client, and how many worker threads it started: threads that were
 * not there before it, named as the pool names its workers. A thread is
 * named by itself once it runs, so the count waits until none of the new
 * ones still has the name it inherited. Threads of clients closed earlier
 * may end meanwhile; they are not new, so they do not count.
 */
async function clientWithThreads (options) {
  const before = threads()
  const client = new Client(options)
  if (before === null) return { client, threads: client.workers }
  const fresh = () => [...threads()].filter(([tid]) => !before.has(tid)).map(([, name]) => name)
  await waitFor(() => !fresh().includes('node'), 'the new threads to take their names')
  return { client, threads: fresh().filter((name) => name === 'fetchpool-worke').length }
}

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('a Client has its own pool size, defaults and counters', async () => {
  const { client, threads } = await clientWithThreads({ workers: 3, concurrency: 2 })
  try {
    assert.equal(client.workers, 3)
    assert.equal(threads, 3)
    server.reset()
    const results = await client.gather(Array.from({ length: 12 }, () => server.url('/slow?ms=20')))
    assert.equal(results.length, 12)
    assert.ok(server.stats.maxInFlight <= 2, 'the client default concurrency applies')
    const port = await refusedPort()
    await assert.rejects(client.fetch(`http://127.0.0.1:${port}/`), { code: 'ECONNREFUSED' })
    const stats = client.stats()
    assert.equal(stats.done, 13)
    assert.equal(stats.failed, 1)
    assert.equal(stats.inFlight, 0)
    assert.equal(stats.queued, 0)
    assert.ok(stats.bytes >= 12 * 'slow '.length)
  } finally {
    client.close()
  }
})

test('the default pool leaves one CPU to the JavaScript thread', async () => {
  const { client, threads } = await clientWithThreads()
  try {
    const expected = Math.max(1, require('node:os').availableParallelism() - 1)
    assert.equal(client.workers, expected)
    assert.equal(threads, expected)
  } finally {
    client.close()
  }
})

test('stats show requests queued and in flight', async () => {
  const client = new Client({ concurrency: 2 })
  // The gate holds the first two requests until both are in flight, and
  // reads the stats then.
  const gate = await startGate()
  try {
    gate.arm(6, 2, () => client.stats())
    await client.gather(Array.from({ length: 6 }, (_, i) => gate.url(`/${i}`)))
    const mid = gate.state.probed
    assert.equal(mid.inFlight, 2)
    assert.equal(mid.queued, 4)
    assert.equal(client.stats().inFlight, 0)
  } finally {
    client.close()
    await gate.close()
  }
})

test('client defaults: timeout and headers apply to every call', async () => {
  // A connect timeout, the client's own, leaves the other timeouts as defaults.
  const client = new Client({ timeout: { connect: 5000, headers: 100 }, headers: { 'x-default': 'yes' }, userAgent: 'probe/1' })
  try {
    await assert.rejects(client.fetch(server.url('/headers-delay?ms=1000')), { code: 'ERR_HEADERS_TIMEOUT' })
    const echo = await (await client.fetch(server.url('/echo'))).json()
    assert.equal(echo.headers['x-default'], 'yes')
    assert.equal(echo.headers['user-agent'], 'probe/1')
    const own = await (await client.fetch({ url: server.url('/echo'), headers: { 'x-default': 'mine' } })).json()
    assert.equal(own.headers['x-default'], 'mine')
  } finally {
    client.close()
  }
})

test('close cancels what is in flight and refuses later calls', async () => {
  // A server of its own that never answers, closed with its sockets at the
  // end, so that nothing of it lives on into the next test.
  const silent = require('node:http').createServer(() => {})
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const client = new Client({ concurrency: 3 })
  try {
    const url = `http://127.0.0.1:${silent.address().port}/`
    const pending = client.gather(Array.from({ length: 5 }, (_, i) => `${url}${i}`))
    await waitFor(() => client.stats().inFlight === 3, 'three in flight')
    client.close()
    await assert.rejects(pending, { code: 'ABORT_ERR' })
    // Nothing is left counted in flight or queued.
    const after = client.stats()
    assert.deepEqual([after.inFlight, after.queued], [0, 0])
    await assert.rejects(client.fetch(url), { code: 'ERR_INVALID_STATE' })
  } finally {
    client.close()
    silent.closeAllConnections()
    await new Promise((resolve) => silent.close(resolve))
  }
})

test('a closed client leaves no timer behind, however often it went idle', async () => {
  // Work in flight holds the event loop with a timer; each idle-to-busy turn
  // must reuse it and close() must clear it. A refused port runs no server
  // here, so every timer made while the hook is on is the client's.
  const url = `http://127.0.0.1:${await refusedPort()}/`
  const live = new Set()
  const hook = require('node:async_hooks').createHook({
    init (id, type) { if (type === 'Timeout') live.add(id) },
    destroy (id) { live.delete(id) }
  }).enable()
  try {
    const client = new Client()
    for (let turn = 0; turn < 3; turn++) {
      await assert.rejects(client.fetch(url), { code: 'ECONNREFUSED' })
    }
    client.close()
    // Destroy hooks run from the queue Node drains on a later turn.
    await new Promise(setImmediate)
    assert.equal(live.size, 0)
  } finally {
    hook.disable()
  }
})

test('close closes the connections the client keeps idle', async () => {
  // A raw server that answers every request on a connection and counts the
  // connections still open from its side.
  const net = require('node:net')
  const sockets = new Set()
  let opened = 0
  const raw = net.createServer((socket) => {
    sockets.add(socket)
    opened++
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'))
  })
  await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${raw.address().port}/`
  const client = new Client()
  try {
    const all = await client.gather([url, url, url], { concurrency: 3 })
    assert.deepEqual(all.map((r) => r.buffer.toString()), ['ok', 'ok', 'ok'])
    // The client keeps them for the next call: none is closed by itself.
    assert.ok(opened >= 1)
    assert.equal(sockets.size, opened)
    client.close()
    await waitFor(() => sockets.size === 0, 'the idle connections to close')
  } finally {
    client.close()
    for (const socket of sockets) socket.destroy()
    raw.close()
  }
})

test('the resolve map sends a host name to a local address', async () => {
  const client = new Client({ resolve: { 'fetchpool.test:80': `127.0.0.1:${server.port}` } })
  try {
    const res = await client.fetch('http://fetchpool.test/echo')
    const echo = await res.json()
    assert.equal(echo.headers.host, 'fetchpool.test')
    assert.equal(res.url, 'http://fetchpool.test/echo')
  } finally {
    client.close()
  }
})

test("a client's fetch passed to map runs on that client's pool", async () => {
  const client = new Client({ concurrency: 1 })
  try {
    server.reset()
    const urls = Array.from({ length: 6 }, (_, i) => server.url(`/slow?ms=20&id=${i}`))
    const results = await fetchpool.map(urls, client.fetch)
    assert.equal(results.length, 6)
    assert.equal(client.stats().done, 6)
  } finally {
    client.close()
  }
})

test('module-level stats come from the default client', async () => {
  const before = fetchpool.stats().done
  await fetchpool.fetch(server.url('/count'))
  assert.equal(fetchpool.stats().done, before + 1)
  // defaultClient is that client, the same on every read.
  assert.ok(fetchpool.defaultClient instanceof Client)
  assert.strictEqual(fetchpool.defaultClient, fetchpool.defaultClient)
  assert.deepEqual(fetchpool.defaultClient.stats(), fetchpool.stats())
})

test('batch ids wrap around before they leave the 31-bit range', async () => {
  const c = new Client()
  try {
    // Each call takes the next id; the last id below 2^31 is followed by 1.
    c._nextId = 0x7fffffff
    const [a, b] = await Promise.all([
      c.gather([server.url('/wrap/a')]),
      c.gather([server.url('/wrap/b')])
    ])
    assert.equal(a[0].status, 200)
    assert.equal(b[0].status, 200)
    assert.equal(c._nextId, 2)
  } finally {
    c.close()
  }
})

test('a callback-style fetch of a URL with a signal is cancelled by it', async () => {
  const ac = new AbortController()
  const reason = new Error('stop')
  const err = await new Promise((resolve) => {
    fetchpool.fetch(server.url('/slow?ms=2000'), { signal: ac.signal }, (e) => resolve(e))
    setImmediate(() => ac.abort(reason))
  })
  assert.equal(err && err.code, 'ABORT_ERR')
  assert.equal(err.cause, reason)
})
