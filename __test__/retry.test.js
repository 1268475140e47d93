'use strict'

// Retries against small Node servers that fail a set number of times and then
// succeed, or ask for a pause with Retry-After: the backoff, its cap, which
// statuses, codes and methods are retried, and `attempts` on the response and
// on the error. Also: a request on a kept-alive connection the server closed
// is resent (idempotent requests only) without counting as an attempt.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { Client } = require('..')
const { startHttpServer, readBody } = require('./support/http-server')
const { freePorts } = require('./support/ports')

let server
let client
// Requests seen per key; a key's first `fail` requests fail.
const seen = new Map()

before(async () => {
  server = await startHttpServer(async (req, res, url) => {
    await readBody(req)
    const key = url.pathname
    const times = seen.get(key) || []
    times.push(performance.now())
    seen.set(key, times)
    const fail = Number(url.searchParams.get('fail') || 0)
    if (times.length <= fail) {
      const how = url.searchParams.get('how') || '503'
      if (how === 'reset') return res.socket.destroy()
      const headers = {}
      const after = url.searchParams.get('after')
      if (after === 'date') {
        headers['retry-after'] = new Date(Date.now() + 2000).toUTCString()
      } else if (after !== null) {
        headers['retry-after'] = after
      }
      res.writeHead(Number(how), headers)
      return res.end(`failure ${times.length}`)
    }
    res.end(`success after ${times.length}`)
  })
  client = new Client()
})

after(async () => {
  if (client) client.close()
  if (server) await server.close()
})

let keys = 0
/** A URL with a path of its own, so each test counts its own requests. */
function flaky (query) {
  keys++
  return server.url(`/k${keys}?${query}`)
}
const countOf = (url) => (seen.get(new URL(url).pathname) || []).length
const gapsOf = (url) => {
  const times = seen.get(new URL(url).pathname) || []
  return times.slice(1).map((t, i) => t - times[i])
}

async function failure (promise) {
  return promise.then((res) => assert.fail(`expected a rejection, got ${res.status}`), (err) => err)
}

describe('statuses', () => {
  test('fails twice, then succeeds: attempts 3', async () => {
    const url = flaky('fail=2')
    const res = await client.fetch(url, { retry: { retries: 3, minDelay: 10 } })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'success after 3')
    assert.equal(res.attempts, 3)
    assert.equal(countOf(url), 3)
  })

  test('no retries by default', async () => {
    const url = flaky('fail=1')
    const res = await client.fetch(url)
    assert.equal(res.status, 503)
    assert.equal(res.attempts, 1)
    assert.equal(countOf(url), 1)
  })

  test('out of retries: the last response, with its attempts', async () => {
    const url = flaky('fail=5')
    const res = await client.fetch(url, { retry: { retries: 2, minDelay: 5 } })
    assert.equal(res.status, 503)
    assert.equal(res.attempts, 3)
    assert.equal(countOf(url), 3)
  })

  test('with failOnStatus the error carries the attempts', async () => {
    const url = flaky('fail=5')
    const err = await failure(client.fetch(url, { retry: { retries: 2, minDelay: 5 }, failOnStatus: true }))
    assert.equal(err.code, 'ERR_HTTP_STATUS')
    assert.equal(err.attempts, 3)
  })

  test('`retry: n` is the number of retries', async () => {
    const url = flaky('fail=1')
    const res = await client.fetch(url, { retry: 1 })
    assert.equal(res.status, 200)
    assert.equal(res.attempts, 2)
  })

  test('each default status is retried (408, 429, 500, 502, 503, 504); 404 is not', async () => {
    for (const status of [408, 429, 500, 502, 503, 504]) {
      const res = await client.fetch(flaky(`fail=1&how=${status}`), { retry: { retries: 1, minDelay: 1 } })
      assert.equal(res.status, 200, String(status))
    }
    const url = flaky('fail=1&how=404')
    const res = await client.fetch(url, { retry: { retries: 3, minDelay: 1 } })
    assert.equal(res.status, 404)
    assert.equal(countOf(url), 1)
  })

  test('`statuses` replaces the list', async () => {
    const teapot = flaky('fail=1&how=418')
    assert.equal((await client.fetch(teapot, { retry: { retries: 1, minDelay: 1, statuses: [418] } })).status, 200)
    const unavailable = flaky('fail=1&how=503')
    assert.equal((await client.fetch(unavailable, { retry: { retries: 1, minDelay: 1, statuses: [418] } })).status, 503)
  })
})

describe('methods', () => {
  test('POST is not retried by default', async () => {
    const url = flaky('fail=1')
    const res = await client.fetch({ url, method: 'POST', body: 'x' }, { retry: { retries: 3, minDelay: 1 } })
    assert.equal(res.status, 503)
    assert.equal(res.attempts, 1)
    assert.equal(countOf(url), 1)
  })

  test('unless `methods` says so', async () => {
    const url = flaky('fail=1')
    const res = await client.fetch({ url, method: 'POST', body: 'x' }, { retry: { retries: 3, minDelay: 1, methods: ['POST'] } })
    assert.equal(res.status, 200)
    assert.equal(res.attempts, 2)
  })

  test('PUT and DELETE are idempotent and retried', async () => {
    for (const method of ['PUT', 'DELETE']) {
      const res = await client.fetch({ url: flaky('fail=1'), method }, { retry: { retries: 1, minDelay: 1 } })
      assert.equal(res.status, 200, method)
    }
  })
})

describe('codes', () => {
  test('a refused connection is retried, and the error says how often it was tried', async () => {
    const [port] = await freePorts(1)
    const err = await failure(client.fetch(`http://127.0.0.1:${port}/`, { retry: { retries: 2, minDelay: 5 } }))
    assert.equal(err.code, 'ECONNREFUSED')
    assert.equal(err.attempts, 3)
  })

  test('a connection closed without an answer is retried', async () => {
    const own = new Client()
    try {
      const url = flaky('fail=2&how=reset')
      const res = await own.fetch(url, { retry: { retries: 2, minDelay: 5 } })
      assert.equal(res.status, 200)
      assert.equal(res.attempts, 3)
    } finally {
      own.close()
    }
  })

  test('`codes` replaces the list', async () => {
    const [port] = await freePorts(1)
    const err = await failure(client.fetch(`http://127.0.0.1:${port}/`, { retry: { retries: 2, minDelay: 5, codes: ['ERR_HTTP_PROTOCOL'] } }))
    assert.equal(err.code, 'ECONNREFUSED')
    assert.equal(err.attempts, 1)
  })
})

describe('backoff', () => {
  test('grows exponentially from minDelay, with jitter in [d/2, d]', async () => {
    const url = flaky('fail=3')
    const res = await client.fetch(url, { retry: { retries: 3, minDelay: 80, maxDelay: 10000 } })
    assert.equal(res.status, 200)
    const gaps = gapsOf(url)
    assert.equal(gaps.length, 3)
    gaps.forEach((gap, i) => {
      const d = 80 * 2 ** i
      assert.ok(gap >= d / 2 - 5 && gap <= d + 150, `gap ${i}: ${gap.toFixed(1)} ms, expected ${d / 2}..${d}`)
    })
  })

  test('is capped by maxDelay', async () => {
    const url = flaky('fail=3')
    const res = await client.fetch(url, { retry: { retries: 3, minDelay: 2000, maxDelay: 50 } })
    assert.equal(res.status, 200)
    assert.equal(res.attempts, 4)
    const gaps = gapsOf(url)
    assert.equal(gaps.length, 3)
    // Uncapped, the first wait alone is at least 1000 ms (jitter in [d/2, d]);
    // capped, each is at most 50 ms, so 950 ms of slack for a loaded machine.
    for (const gap of gaps) assert.ok(gap < 1000, `${gap} ms`)
  })
})

describe('Retry-After', () => {
  test('seconds are honoured', async () => {
    const url = flaky('fail=1&after=1')
    const res = await client.fetch(url, { retry: { retries: 1, minDelay: 1 } })
    assert.equal(res.status, 200)
    const [gap] = gapsOf(url)
    assert.ok(gap >= 950 && gap < 2500, `${gap} ms`)
  })

  test('an HTTP date is honoured', async () => {
    const url = flaky('fail=1&after=date')
    const res = await client.fetch(url, { retry: { retries: 1, minDelay: 1 } })
    assert.equal(res.status, 200)
    const [gap] = gapsOf(url)
    // The date has whole seconds: 2 s ahead is 1 to 2 s away.
    assert.ok(gap >= 950 && gap < 3000, `${gap} ms`)
  })

  test('is capped by maxDelay', async () => {
    const url = flaky('fail=1&after=30')
    const res = await client.fetch(url, { retry: { retries: 1, minDelay: 1, maxDelay: 100 } })
    assert.equal(res.status, 200)
    const [gap] = gapsOf(url)
    assert.ok(gap < 600, `${gap} ms`)
  })

  test('is honoured with failOnStatus too', async () => {
    const url = flaky('fail=1&after=1')
    const res = await client.fetch(url, { retry: { retries: 1, minDelay: 1 }, failOnStatus: true })
    assert.equal(res.status, 200)
    assert.equal(res.attempts, 2)
    const [gap] = gapsOf(url)
    assert.ok(gap >= 950 && gap < 2500, `${gap} ms`)
  })

  test('a total timeout still ends the wait', async () => {
    const url = flaky('fail=1&after=30')
    const err = await failure(client.fetch(url, { retry: { retries: 1, maxDelay: 60000 }, timeout: 300 }))
    assert.equal(err.code, 'ERR_TOTAL_TIMEOUT')
  })
})

describe('bad retry options are refused before sending', () => {
  test('types and ranges', async () => {
    const url = server.url('/never')
    await assert.rejects(client.fetch(url, { retry: -1 }), { code: 'ERR_OUT_OF_RANGE' })
    await assert.rejects(client.fetch(url, { retry: 'twice' }), { code: 'ERR_INVALID_ARG_TYPE' })
    await assert.rejects(client.fetch(url, { retry: { retries: 1.5 } }), { code: 'ERR_OUT_OF_RANGE' })
    await assert.rejects(client.fetch(url, { retry: { statuses: ['503'] } }), { code: 'ERR_INVALID_ARG_TYPE' })
    await assert.rejects(client.fetch(url, { retry: { methods: 'POST' } }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.equal(countOf(url), 0)
  })
})

describe('a kept-alive connection the server closed', () => {
  // A raw server that answers the first request on each connection and closes
  // the connection when a second one arrives, without a word: what a server
  // whose keep-alive timeout just ran out looks like from the client.
  let raw
  let requests = 0
  // Requests that arrived on a connection already answered: stale ones hit.
  let stale = 0
  before(async () => {
    raw = net.createServer((socket) => {
      let answered = false
      socket.on('data', () => {
        requests++
        if (answered) {
          stale++
          return socket.destroy()
        }
        answered = true
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
      })
      socket.on('error', () => {})
    })
    await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve))
  })
  after(() => new Promise((resolve) => raw.close(resolve)))

  test('an idempotent request is sent again on a fresh connection, not counted as an attempt', async () => {
    const own = new Client()
    try {
      const url = `http://127.0.0.1:${raw.address().port}/`
      requests = 0
      assert.equal((await own.fetch(url)).status, 200)
      const second = await own.fetch(url)
      assert.equal(second.status, 200)
      assert.equal(second.attempts, 1)
      assert.equal(requests, 3, 'the second request reached the server twice')
    } finally {
      own.close()
    }
  })

  // pooled-path.test.js runs this file on hyper's pool too, where the next
  // test's rule holds instead.
  const POOLED = process.env.FETCHPOOL_H1_PATH === 'pooled'

  test('the resend goes on a new connection, never on another kept-alive one', { skip: POOLED && 'hyper picks the connection' }, async () => {
    const own = new Client()
    try {
      const url = `http://127.0.0.1:${raw.address().port}/`
      // Eight connections, each answered once and kept in the pool: each
      // is closed by the server when a second request comes on it.
      const warm = await own.gather(Array.from({ length: 8 }, () => url), { concurrency: 8 })
      assert.equal(warm.length, 8)
      requests = 0
      stale = 0
      const res = await own.fetch(url, { retry: 0 })
      assert.equal(res.status, 200)
      assert.equal(res.attempts, 1)
      assert.equal(stale, 1)
      assert.equal(requests, 2)
    } finally {
      own.close()
    }
  })

  test('a request the pool\'s connection took and then dropped is sent twice at most', async () => {
    // saveTo goes through the pool hyper keeps, which picks the connection
    // the resend goes on: one more of the stale ones, so the request fails
    // with a code and `retry` (none here) decides.
    const own = new Client()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-stale-'))
    try {
      const url = `http://127.0.0.1:${raw.address().port}/`
      const warm = await own.gather(Array.from({ length: 8 }, (_, i) => ({ url, saveTo: path.join(dir, `w${i}`) })),
        { concurrency: 8 })
      assert.equal(warm.length, 8)
      requests = 0
      stale = 0
      const err = await failure(own.fetch({ url, saveTo: path.join(dir, 'one') }, { retry: 0 }))
      assert.ok(['ERR_HTTP_PROTOCOL', 'ECONNRESET'].includes(err.code), err.code)
      assert.equal(stale, 2)
      assert.equal(requests, 2)
    } finally {
      own.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a POST is not: it may have been acted on', async () => {
    const own = new Client()
    try {
      const url = `http://127.0.0.1:${raw.address().port}/`
      assert.equal((await own.fetch(url)).status, 200)
      const err = await failure(own.fetch({ url, method: 'POST', body: 'x' }))
      assert.equal(err.code, 'ERR_HTTP_PROTOCOL')
    } finally {
      own.close()
    }
  })
})
