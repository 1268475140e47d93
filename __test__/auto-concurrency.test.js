'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { Client } = require('..')

// A server that notes how many requests were in flight as each arrived, and
// answers /busy with 503 and anything else with 200, after `ms`.
let server
let base
const seen = []
let inFlight = 0
before(async () => {
  server = http.createServer((req, res) => {
    inFlight++
    seen.push({ path: req.url, inFlight })
    res.on('close', () => { inFlight-- })
    const url = new URL(req.url, 'http://x')
    const ms = Number(url.searchParams.get('ms') || 5)
    setTimeout(() => {
      res.writeHead(url.pathname === '/busy' ? 503 : 200)
      res.end('x')
    }, ms)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
after(() => {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(resolve))
})

function reset () {
  seen.length = 0
}

test("concurrency 'auto' stays within maxConcurrency", async () => {
  reset()
  const client = new Client()
  try {
    const urls = Array.from({ length: 40 }, (_, i) => `${base}/ok?i=${i}`)
    const results = await client.gather(urls, { concurrency: 'auto', maxConcurrency: 4 })
    assert.ok(results.every((r) => r.status === 200))
    assert.equal(seen.length, 40)
    assert.ok(Math.max(...seen.map((s) => s.inFlight)) <= 4)
  } finally {
    client.close()
  }
})

test("stats() shows each origin's limit while an 'auto' call runs", async () => {
  const client = new Client({ concurrency: 'auto', maxConcurrency: 8 })
  try {
    const seenLimits = []
    const urls = Array.from({ length: 60 }, (_, i) => `${base}/ok?ms=20&i=${i}`)
    await client.gather(urls, { onProgress: () => seenLimits.push(client.stats().limits) })
    const during = seenLimits.find((l) => Object.keys(l).length > 0)
    assert.ok(during, 'no limits seen during the call')
    const [origin, limit] = Object.entries(during)[0]
    assert.equal(origin, base)
    assert.ok(limit >= 1 && limit <= 8)
    assert.deepEqual(client.stats().limits, {})
  } finally {
    client.close()
  }
})

test("a number for one call overrides a client's 'auto'", async () => {
  reset()
  const client = new Client({ concurrency: 'auto', maxConcurrency: 2 })
  try {
    let limits = null
    const urls = Array.from({ length: 30 }, (_, i) => `${base}/ok?ms=20&i=${i}`)
    await client.gather(urls, { concurrency: 10, onProgress: () => { limits = limits || client.stats().limits } })
    assert.deepEqual(limits, {})
    assert.ok(Math.max(...seen.map((s) => s.inFlight)) > 2)
  } finally {
    client.close()
  }
})

test("plain fetch() calls on an 'auto' client share its limit; mapLimit's number overrides it", async () => {
  reset()
  const fetchpool = require('..')
  const client = new Client({ concurrency: 'auto', maxConcurrency: 3 })
  try {
    const urls = Array.from({ length: 20 }, (_, i) => `${base}/ok?ms=20&i=${i}`)
    const responses = await Promise.all(urls.map((u) => client.fetch(u)))
    assert.ok(responses.every((r) => r.status === 200))
    assert.ok(Math.max(...seen.map((s) => s.inFlight)) <= 3)
    reset()
    const limits = []
    const poll = setInterval(() => limits.push(client.stats().limits), 2)
    await fetchpool.mapLimit(urls, 8, client.fetch)
    clearInterval(poll)
    assert.ok(Math.max(...seen.map((s) => s.inFlight)) > 3)
    assert.ok(limits.length > 0)
    assert.ok(limits.every((l) => Object.keys(l).length === 0), 'mapLimit ran under an adaptive limit')
  } finally {
    client.close()
  }
})

test("map with an 'auto' client's fetch and no limit runs under the client's 'auto'", async () => {
  reset()
  const fetchpool = require('..')
  const client = new Client({ concurrency: 'auto', maxConcurrency: 3 })
  try {
    const urls = Array.from({ length: 20 }, (_, i) => `${base}/ok?ms=20&i=${i}`)
    const limits = []
    const poll = setInterval(() => limits.push(client.stats().limits), 2)
    const responses = await fetchpool.map(urls, client.fetch)
    clearInterval(poll)
    assert.ok(responses.every((r) => r.status === 200))
    assert.ok(Math.max(...seen.map((s) => s.inFlight)) <= 3)
    assert.ok(limits.some((l) => Object.keys(l).length > 0), 'map ran without an adaptive limit')
  } finally {
    client.close()
  }
})

test("'auto' backs off when the origin answers 503", async () => {
  reset()
  const client = new Client()
  try {
    const urls = Array.from({ length: 300 }, () => `${base}/busy`)
    const results = await client.gather(urls, { concurrency: 'auto' })
    assert.ok(results.every((r) => r.status === 503))
    const first = Math.max(...seen.slice(0, 20).map((s) => s.inFlight))
    const last = Math.max(...seen.slice(-40).map((s) => s.inFlight))
    assert.ok(first > 10, `a new origin starts at 20, seen ${first}`)
    assert.ok(last < first / 2, `still ${last} in flight at the end, from ${first}`)
  } finally {
    client.close()
  }
})

test("bad 'auto' options are refused with Node codes", async () => {
  const client = new Client()
  try {
    await assert.rejects(client.gather([base], { concurrency: 'fast' }), { code: 'ERR_INVALID_ARG_VALUE' })
    await assert.rejects(client.gather([base], { concurrency: 4, maxConcurrency: 8 }), { code: 'ERR_INVALID_ARG_VALUE' })
    await assert.rejects(client.gather([base], { concurrency: 'auto', maxConcurrency: 0 }), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => new Client({ concurrency: 'auto', maxConcurrency: 1.5 }), { code: 'ERR_OUT_OF_RANGE' })
  } finally {
    client.close()
  }
})
