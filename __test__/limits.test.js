'use strict'

// Limits: connections per host (counted as open sockets at the server), the
// rate limit overall and per host (spacing of request arrivals at the
// server), and the `resolve` map.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { startHttpServer } = require('./support/http-server')

let server
// Per test: open sockets and requests in flight now and at most, by host.
let stats

function resetStats () {
  stats = { open: 0, maxOpen: 0, inFlight: {}, maxInFlight: {}, arrivals: [] }
}

before(async () => {
  resetStats()
  server = await startHttpServer(async (req, res, url) => {
    const host = req.headers.host.split(':')[0]
    stats.arrivals.push({ host, at: performance.now() })
    stats.inFlight[host] = (stats.inFlight[host] || 0) + 1
    stats.inFlight.all = (stats.inFlight.all || 0) + 1
    for (const k of [host, 'all']) stats.maxInFlight[k] = Math.max(stats.maxInFlight[k] || 0, stats.inFlight[k])
    const ms = Number(url.searchParams.get('ms') || 0)
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    stats.inFlight[host]--
    stats.inFlight.all--
    res.end(`hello ${host}`)
  })
  server.server.on('connection', (socket) => {
    stats.open++
    stats.maxOpen = Math.max(stats.maxOpen, stats.open)
    socket.on('close', () => { stats.open-- })
  })
})

after(async () => {
  if (server) await server.close()
})

/** A client whose a.test and b.test lead to the test server. */
function hostsClient (options = {}) {
  const target = `127.0.0.1:${server.port}`
  return new Client({ resolve: { [`a.test:${server.port}`]: target, [`b.test:${server.port}`]: target }, ...options })
}
const on = (host, path) => `http://${host}:${server.port}${path}`

async function withClient (options, fn) {
  const c = hostsClient(options)
  try {
    return await fn(c)
  } finally {
    c.close()
  }
}

describe('connectionsPerHost', () => {
  test('without it, a burst opens many connections (so the test below can tell)', async () => {
    await withClient({}, async (c) => {
      resetStats()
      const urls = Array.from({ length: 12 }, () => on('a.test', '/?ms=100'))
      await c.gather(urls, { concurrency: 12, timeout: 10000 })
      assert.ok(stats.maxOpen > 2, `max open ${stats.maxOpen}`)
    })
  })

  test('caps open connections and requests in flight per host', async () => {
    await withClient({ connectionsPerHost: 2 }, async (c) => {
      resetStats()
      const urls = Array.from({ length: 12 }, () => on('a.test', '/?ms=100'))
      const start = performance.now()
      const results = await c.gather(urls, { concurrency: 12, timeout: 10000 })
      assert.ok(results.every((r) => r.status === 200))
      assert.ok(stats.maxOpen <= 2, `max open ${stats.maxOpen}`)
      assert.equal(stats.maxInFlight['a.test'], 2)
      // Twelve requests of 100 ms, two at a time.
      assert.ok(performance.now() - start >= 550)
    })
  })

  test('counts each host on its own', async () => {
    await withClient({ connectionsPerHost: 2 }, async (c) => {
      resetStats()
      const urls = []
      for (let i = 0; i < 16; i++) urls.push(on(i % 2 ? 'a.test' : 'b.test', '/?ms=100'))
      await c.gather(urls, { concurrency: 16, timeout: 10000 })
      assert.equal(stats.maxInFlight['a.test'], 2)
      assert.equal(stats.maxInFlight['b.test'], 2)
      assert.equal(stats.maxInFlight.all, 4)
      assert.ok(stats.maxOpen <= 4, `max open ${stats.maxOpen}`)
    })
  })

  test('bad values are refused', () => {
    assert.throws(() => new Client({ connectionsPerHost: 0 }), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => new Client({ connectionsPerHost: 1.5 }), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => new Client({ connectionsPerHost: '2' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('rate limits', () => {
  test('rateLimit spaces request starts evenly over the whole client', async () => {
    await withClient({ rateLimit: 20 }, async (c) => {
      resetStats()
      const urls = []
      for (let i = 0; i < 11; i++) urls.push(on(i % 2 ? 'a.test' : 'b.test', `/?i=${i}`))
      const start = performance.now()
      await c.gather(urls, { concurrency: 11, timeout: 10000 })
      // The first at once, then ten 50 ms apart: the k-th to arrive cannot
      // have started before start + 50k. Measured from the call, not between
      // arrivals, whose gaps a connection opened late (on a loaded machine)
      // can shrink; a lower bound, which load only loosens.
      const times = stats.arrivals.map((a) => a.at).sort((x, y) => x - y)
      assert.equal(times.length, 11)
      times.forEach((t, k) => assert.ok(t - start >= 50 * k - 5, `arrival ${k} at ${(t - start).toFixed(0)} ms`))
    })
  })

  test('rateLimitPerHost spaces starts per host, not across hosts', async () => {
    await withClient({ rateLimitPerHost: 10 }, async (c) => {
      resetStats()
      const urls = []
      for (let i = 0; i < 10; i++) urls.push(on(i % 2 ? 'a.test' : 'b.test', `/?i=${i}`))
      const start = performance.now()
      await c.gather(urls, { concurrency: 10, timeout: 10000 })
      // Five per host at 10/s: the k-th of a host cannot have started before
      // start + 100k (a lower bound, measured from the call; see above).
      for (const host of ['a.test', 'b.test']) {
        const times = stats.arrivals.filter((a) => a.host === host).map((a) => a.at).sort((x, y) => x - y)
        assert.equal(times.length, 5)
        times.forEach((t, k) => assert.ok(t - start >= 100 * k - 5, `${host} arrival ${k} at ${(t - start).toFixed(0)} ms`))
      }
    })
    await withClient({ rateLimitPerHost: 2 }, async (c) => {
      resetStats()
      // Not one queue: a.test, listed after three of b.test, starts at once.
      // One queue would start it after the third of b.test (1000 ms on), and
      // the second of b.test (500 ms on) would come first; per host, that
      // second is 500 ms behind a.test's, the room left for a loaded machine.
      await c.gather([on('b.test', '/?i=0'), on('b.test', '/?i=1'), on('b.test', '/?i=2'), on('a.test', '/?i=3')],
        { concurrency: 4, timeout: 10000 })
      const order = stats.arrivals.map((a) => a.host)
      assert.ok(order.indexOf('a.test') < 2, `arrivals ${order}`)
    })
  })

  test('both together: the tighter one decides', async () => {
    await withClient({ rateLimit: 10, rateLimitPerHost: 100 }, async (c) => {
      resetStats()
      const urls = Array.from({ length: 4 }, (_, i) => on(i % 2 ? 'a.test' : 'b.test', '/'))
      const start = performance.now()
      await c.gather(urls, { concurrency: 4, timeout: 10000 })
      assert.ok(performance.now() - start >= 280)
    })
  })

  test('bad values are refused', () => {
    assert.throws(() => new Client({ rateLimit: 0 }), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => new Client({ rateLimit: -5 }), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => new Client({ rateLimitPerHost: 'fast' }), { code: 'ERR_INVALID_ARG_TYPE' })
    const unlimited = new Client({ rateLimit: Infinity, rateLimitPerHost: false })
    unlimited.close()
  })
})

describe('resolve', () => {
  test("'example.test:80' → 127.0.0.1:<port>: dialled there, named as in the URL", async () => {
    const c = new Client({ resolve: { 'example.test:80': `127.0.0.1:${server.port}` } })
    try {
      resetStats()
      const res = await c.fetch('http://example.test/path')
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hello example.test')
      assert.equal(res.url, 'http://example.test/path')
      assert.equal(stats.arrivals.length, 1)
    } finally {
      c.close()
    }
  })

  test('keys are matched by host and port, case-insensitively', async () => {
    const c = new Client({ resolve: { 'EXAMPLE.test:8080': `127.0.0.1:${server.port}` } })
    try {
      assert.equal((await c.fetch('http://example.TEST:8080/')).status, 200)
    } finally {
      c.close()
    }
  })

  test('a bare address takes the port of the key', async () => {
    const c = new Client({ resolve: { [`example.test:${server.port}`]: '127.0.0.1' } })
    try {
      assert.equal((await c.fetch(`http://example.test:${server.port}/`)).status, 200)
    } finally {
      c.close()
    }
  })

  test('an IPv6 address, bare or in brackets with a port', async (t) => {
    const v6 = require('node:http').createServer((req, res) => res.end('over ::1'))
    await new Promise((resolve) => v6.listen(0, '::1', resolve))
    t.after(() => v6.close())
    const { port } = v6.address()
    const c = new Client({ resolve: { [`bare.test:${port}`]: '::1', 'full.test:80': `[::1]:${port}` } })
    try {
      assert.equal(await (await c.fetch(`http://bare.test:${port}/`)).text(), 'over ::1')
      assert.equal(await (await c.fetch('http://full.test/')).text(), 'over ::1')
    } finally {
      c.close()
    }
  })

  test('edges of a good entry: a one-letter host, port 65535, a null map', () => {
    new Client({ resolve: { 'a:65535': '127.0.0.1:65535' } }).close()
    new Client({ resolve: null }).close()
  })

  test('bad entries are refused', () => {
    for (const key of [':80', 'example.test:80x', 'example.test:x80', 'example.test:']) {
      assert.throws(() => new Client({ resolve: { [key]: '127.0.0.1:80' } }), { code: 'ERR_INVALID_ARG_VALUE' }, key)
    }
    for (const to of ['127.0.0.1:80x', 'x127.0.0.1:80', ']127.0.0.1:80', '127.0.0.1:65536']) {
      assert.throws(() => new Client({ resolve: { 'example.test:80': to } }), { code: 'ERR_INVALID_ARG_VALUE' }, to)
    }
    assert.throws(() => new Client({ resolve: { 'example.test': '127.0.0.1' } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ resolve: { 'example.test:80': 5 } }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => new Client({ resolve: { 'example.test:80': 'somewhere.test:80' } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ resolve: { 'example.test:80': '127.0.0.1:99999' } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ resolve: 'example.test:80=127.0.0.1' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})
