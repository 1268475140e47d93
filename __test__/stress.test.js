'use strict'

// Load that broke other clients: many sockets to one host, waves of failures,
// one AbortSignal shared by thousands of requests. Bounded in count and time.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { getEventListeners } = require('node:events')
const fetchpool = require('..')
const { startServer, refusedPort } = require('./support/server')

let server
before(async () => { server = await startServer() })
after(() => server.close())

test('1,000 parallel fetch() calls to one host all succeed', async () => {
  const client = new fetchpool.Client()
  try {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.fetch(server.url(`/slow?ms=50&id=${i}`))))
    assert.equal(results.length, 1000)
    results.forEach((res, i) => assert.equal(res.buffer.toString(), `slow ${i}`))
  } finally {
    client.close()
  }
})

test('concurrent body-read failures each fail with a code, nothing else is lost', async () => {
  const urls = Array.from({ length: 600 }, (_, i) => server.url(i % 2 ? '/truncated' : `/ok/${i}`))
  const settled = await fetchpool.gather(urls, { settle: true, concurrency: 128 })
  settled.forEach((s, i) => {
    if (i % 2) assert.equal(s.reason.code, 'ERR_HTTP_PROTOCOL')
    else assert.equal(s.value.buffer.toString(), `hello /ok/${i}`)
  })
})

test('one AbortSignal shared by thousands of requests keeps no listeners behind', async () => {
  const ac = new AbortController()
  let warned = null
  const onWarning = (w) => { warned = w }
  process.on('warning', onWarning)
  for (let round = 0; round < 5; round++) {
    await fetchpool.gather(Array.from({ length: 400 }, (_, i) => ({ url: server.url(`/r${i}`), signal: ac.signal })), { signal: ac.signal })
    await Promise.all(Array.from({ length: 200 }, () => fetchpool.fetch(server.url('/f'), { signal: ac.signal })))
  }
  await new Promise((resolve) => setImmediate(resolve))
  process.off('warning', onWarning)
  assert.equal(warned, null, 'no MaxListenersExceededWarning')
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
  // Still one cancellation per request: abort now cancels everything under it.
  const pending = fetchpool.gather(Array.from({ length: 50 }, () => ({ url: server.url('/slow?ms=3000'), signal: ac.signal })), { settle: true })
  setTimeout(() => ac.abort(), 50)
  const settled = await pending
  assert.ok(settled.every((s) => s.reason && s.reason.code === 'ABORT_ERR'))
  // Nor once it has fired: the signal keeps nothing of the calls.
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
})

test('memory stays flat over waves of successes and failures', async () => {
  const port = await refusedPort()
  const wave = () => fetchpool.gather([
    ...Array.from({ length: 500 }, (_, i) => server.url(`/m${i}`)),
    ...Array.from({ length: 500 }, () => `http://127.0.0.1:${port}/`)
  ], { settle: true })
  for (let i = 0; i < 4; i++) await wave()
  global.gc?.()
  const start = process.memoryUsage().rss
  for (let i = 0; i < 16; i++) await wave()
  global.gc?.()
  const grown = (process.memoryUsage().rss - start) / 1024 / 1024
  assert.ok(grown < 64, `RSS grew ${grown.toFixed(1)} MiB over 16,000 requests`)
  assert.equal(fetchpool.stats().inFlight, 0)
})
