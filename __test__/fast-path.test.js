'use strict'

// The HTTP/1.1 fast path (src/engine/lane.rs): plain-http batches run on
// connections that their driver loops hold, kept between calls. What it must
// keep: connection reuse within and across calls, transparent replacement of
// connections a server closes, fail-fast cancellation, and a clean state
// afterwards.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { startNginx } = require('./support/nginx')
const { startHttpServer } = require('./support/http-server')
const { delay } = require('./support/server')
const { waitFor } = require('./support/wait')

let nginx
let node
let connections = 0
// Answers the server sent after a delay (`?ms=`).
let delayedAnswers = 0

before(async () => {
  nginx = await startNginx({
    files: { 'small.txt': 'small\n' },
    servers: {
      // nginx closes each connection after five requests (with
      // `Connection: close` on the fifth).
      five: { config: 'keepalive_requests 5;\n    add_header X-Conn $connection always;' },
      many: { config: 'add_header X-Conn $connection always;' }
    }
  })
  node = await startHttpServer(async (req, res, url) => {
    const ms = Number(url.searchParams.get('ms') || 0)
    // A delay that ends when the client goes away, so no timer outlives it.
    if (ms) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms)
        res.on('close', () => { clearTimeout(timer); resolve() })
      })
      if (res.destroyed) return
      delayedAnswers++
    }
    if (url.pathname === '/fail') {
      res.statusCode = 500
      return res.end('no')
    }
    if (url.searchParams.has('close')) res.shouldKeepAlive = false
    res.end(`hello ${url.pathname}${url.search}`)
  })
  node.server.on('connection', () => { connections++ })
})

after(async () => {
  await nginx?.stop()
  await node?.close()
})

const connOf = (res) => res.headers.get('x-conn')

describe('connections are kept', () => {
  test('a batch opens at most `concurrency` connections, and later calls reuse them', async () => {
    const c = new Client()
    try {
      const urls = (tag) => Array.from({ length: 100 }, (_, i) => nginx.url('many', `/small.txt?${tag}=${i}`))
      const first = await c.gather(urls('a'), { concurrency: 4 })
      assert.ok(first.every((r) => r.status === 200))
      const used = new Set(first.map(connOf))
      assert.ok(used.size >= 1 && used.size <= 4, `${used.size} connections`)
      assert.equal(first.filter((r) => r.timing.connected !== undefined).length, used.size)

      const second = await c.gather(urls('b'), { concurrency: 4 })
      assert.ok(second.every((r) => r.status === 200 && r.timing.connected === undefined))
      assert.ok(second.every((r) => used.has(connOf(r))), 'the second call reuses the first one\'s connections')

      for (let i = 0; i < 5; i++) {
        const one = await c.fetch(nginx.url('many', `/small.txt?one=${i}`))
        assert.equal(await one.text(), 'small\n')
        assert.ok(used.has(connOf(one)), 'a single fetch takes an idle connection')
        assert.equal(one.timing.connected, undefined)
      }
    } finally {
      c.close()
    }
  })

  test('a server that closes after five requests: every request succeeds, on new connections', async () => {
    const c = new Client()
    try {
      const urls = Array.from({ length: 200 }, (_, i) => nginx.url('five', `/small.txt?i=${i}`))
      for (const round of [1, 2]) {
        const results = await c.gather(urls, { concurrency: 8 })
        assert.equal(results.length, 200)
        assert.ok(results.every((r) => r.status === 200 && r.attempts === 1), `round ${round}`)
        const perConn = new Map()
        for (const r of results) perConn.set(connOf(r), (perConn.get(connOf(r)) || 0) + 1)
        assert.ok([...perConn.values()].every((n) => n <= 5), 'no connection served more than five')
        assert.ok(perConn.size >= 40)
        assert.deepEqual(await Promise.all(results.slice(0, 3).map((r) => r.text())), ['small\n', 'small\n', 'small\n'])
      }
    } finally {
      c.close()
    }
  })

  test('responses with `Connection: close` mixed in: each one\'s connection is replaced', async () => {
    const c = new Client()
    try {
      connections = 0
      const urls = Array.from({ length: 60 }, (_, i) => node.url(`/m?i=${i}${i % 3 === 0 ? '&close' : ''}`))
      const results = await c.gather(urls, { concurrency: 4 })
      assert.deepEqual(await Promise.all(results.map((r) => r.text())), urls.map((u) => `hello ${new URL(u).pathname}${new URL(u).search}`))
      assert.ok(connections >= 20 && connections <= 24, `${connections} connections`)
    } finally {
      c.close()
    }
  })
})

describe('fail-fast on the fast path', () => {
  test('the first error ends the call, the rest is cancelled, and the client goes on working', async () => {
    const c = new Client()
    try {
      // The slow ones are answered 10 s on: the call must fail long before.
      const urls = Array.from({ length: 40 }, (_, i) => node.url(`/slow?ms=10000&i=${i}`))
      urls[5] = node.url('/fail')
      const answered = delayedAnswers
      const err = await c.gather(urls, { concurrency: 8, failOnStatus: true }).then(() => null, (e) => e)
      assert.ok(err, 'expected a rejection')
      assert.equal(err.code, 'ERR_HTTP_STATUS')
      assert.equal(delayedAnswers, answered, 'it did not wait for the slow requests')
      await waitFor(() => c.stats().inFlight === 0 && c.stats().queued === 0, 'the rest cancelled')

      // Connections cut mid-request are not reused in an unknown state.
      const after = await c.gather(Array.from({ length: 20 }, (_, i) => node.url(`/again?i=${i}`)), { concurrency: 8 })
      assert.deepEqual(await Promise.all(after.map((r) => r.text())), after.map((_, i) => `hello /again?i=${i}`))
    } finally {
      c.close()
    }
  })

  test('an AbortSignal cancels a running batch; a later batch succeeds', async () => {
    const c = new Client()
    try {
      const controller = new AbortController()
      const urls = Array.from({ length: 30 }, (_, i) => node.url(`/slow?ms=500&i=${i}`))
      const pending = c.gather(urls, { concurrency: 6, signal: controller.signal })
      await delay(50)
      controller.abort()
      await assert.rejects(pending, { code: 'ABORT_ERR' })
      const res = await c.gather([node.url('/x?1'), node.url('/x?2')])
      assert.deepEqual(await Promise.all(res.map((r) => r.text())), ['hello /x?1', 'hello /x?2'])
    } finally {
      c.close()
    }
  })
})
