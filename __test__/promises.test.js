'use strict'

// What the README promises and no other test held it to: ENOTFOUND and its
// cause, `timeout: false`/`Infinity` over a client default, rateLimit
// counting retries and redirects, the idle pool's size and timeout, blob()
// and bodyUsed, the proxy password kept out of runtime errors, and the
// deliberate differences from async 3.2.6.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const util = require('node:util')
const fetchpool = require('..')
const { startHttpServer } = require('./support/http-server')
const { refusedPort } = require('./support/server')
const { clientTracker } = require('./support/clients')

const { client, closeAll } = clientTracker()

let server
// path → resolve of a request held until the test lets it go
const held = new Map()
// Requests answered with a failure before success, per path.
const failures = new Map()
const sockets = { opened: 0, closed: 0 }

before(async () => {
  server = await startHttpServer((req, res, url) => {
    const path = url.pathname
    if (path.startsWith('/hold/')) {
      return new Promise((resolve) => held.set(path, resolve)).then(() => res.end('released'))
    }
    if (path.startsWith('/hop/')) {
      // /hop/<k>/<tag> redirects to /hop/<k-1>/<tag>; /hop/0/<tag> answers.
      const [, , k, tag] = path.split('/')
      if (k === '0') return res.end('end')
      res.writeHead(302, { location: `/hop/${k - 1}/${tag}` })
      return res.end()
    }
    if (path.startsWith('/status/')) {
      res.writeHead(Number(path.slice(8)), { location: '/elsewhere' })
      return res.end()
    }
    if (path.startsWith('/fail/')) {
      const n = (failures.get(path) || 0) + 1
      failures.set(path, n)
      if (n <= Number(url.searchParams.get('times'))) {
        res.writeHead(503)
        return res.end()
      }
      return res.end('ok')
    }
    res.writeHead(200, { 'content-type': 'text/plain;charset=utf-8' })
    res.end(`hello ${path}`)
  })
  // Node closes a connection idle for 5 s by default; only the client's
  // own idle timeout may close one here.
  server.server.keepAliveTimeout = 60000
  server.server.on('connection', (socket) => {
    sockets.opened++
    socket.on('close', () => { sockets.closed++ })
  })
})

after(async () => {
  closeAll()
  for (const release of held.values()) release()
  await server.close()
})

/** Resolves once `check()` holds, looking after each event-loop turn. */
async function until (check, what) {
  // A fail-safe for a broken build, not a bound on a working one.
  const deadline = performance.now() + 10000
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`never: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const codeOf = (promise) => promise.then((r) => assert.fail(`resolved with ${r.status}`), (e) => e)

/**
 * A server on 127.0.0.1 that writes each answer by hand: `answer(path,
 * socket)` is called with each request's path once its head has arrived.
 */
async function rawServer (answer) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (data) => {
      head += data.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        socket.removeAllListeners('data')
        answer(head.split(' ')[1], socket)
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: (path) => `http://127.0.0.1:${server.address().port}${path}`,
    close: () => new Promise((resolve) => server.close(resolve))
  }
}

describe('errors', () => {
  test('a host name that does not resolve: ENOTFOUND, with the resolver\'s error as cause', async () => {
    // .invalid never resolves (RFC 6761).
    const url = 'http://fetchpool-test.invalid/'
    const err = await codeOf(fetchpool.fetch(url))
    assert.ok(err instanceof fetchpool.FetchError)
    assert.equal(err.code, 'ENOTFOUND')
    assert.equal(err.url, url)
    assert.ok(err.cause instanceof Error, 'a cause')
    assert.ok(err.cause.message.length > 0)
  })
})

describe('timeout: false and Infinity', () => {
  /**
   * Fetches a held path with `options` on `own`, and lets the server answer
   * only once ten times the client's default timeout has gone by: a call
   * that kept the default has failed by then.
   */
  async function heldFetch (own, tag, options) {
    const path = `/hold/${tag}`
    const pending = own.fetch(server.url(path), options)
    await until(() => held.has(path), 'the request arrived')
    await new Promise((resolve) => setTimeout(resolve, 500))
    held.get(path)()
    return pending
  }

  for (const off of [false, Infinity]) {
    test(`timeout: ${off} lifts a client's default total timeout`, async () => {
      const own = client({ timeout: 50 })
      const err = await codeOf(own.fetch(server.url(`/hold/t${off}`)))
      assert.equal(err.code, 'ERR_TOTAL_TIMEOUT', 'the default applies')
      held.get(`/hold/t${off}`)()
      assert.equal(await (await heldFetch(own, `to${off}`, { timeout: off })).text(), 'released')
    })

    test(`timeout: { headers: ${off} } lifts a client's default headers timeout`, async () => {
      const own = client({ timeout: { headers: 50 } })
      const err = await codeOf(own.fetch(server.url(`/hold/h${off}`)))
      assert.equal(err.code, 'ERR_HEADERS_TIMEOUT', 'the default applies')
      held.get(`/hold/h${off}`)()
      assert.equal((await heldFetch(own, `ho${off}`, { timeout: { headers: off } })).status, 200)
    })
  }
})

describe('rateLimit', () => {
  // Starts are spaced 1000/rate ms apart, so the k-th request of a call
  // cannot reach the server before start + k × spacing: a lower bound taken
  // from the call (not between arrivals, which a late connection can bring
  // closer), which load only loosens. Unspaced, the hops and retries of one
  // fetch follow each other within a few milliseconds.
  const RATE = 5
  const SPACING = 1000 / RATE
  const assertSpaced = (prefix, start, count) => {
    const times = server.requests.filter((r) => r.url.startsWith(prefix)).map((r) => r.at)
    assert.equal(times.length, count)
    times.forEach((t, k) => assert.ok(t - start >= SPACING * k - 5, `request ${k} at ${(t - start).toFixed(0)} ms`))
  }

  test('each redirect counts as a start', async () => {
    const own = client({ rateLimit: RATE })
    const start = performance.now()
    const res = await own.fetch(server.url('/hop/3/rate'))
    assert.equal(await res.text(), 'end')
    assertSpaced('/hop/', start, 4)
  })

  test('each retry counts as a start', async () => {
    const own = client({ rateLimit: RATE })
    const start = performance.now()
    const res = await own.fetch(server.url('/fail/rate?times=2'), { retry: { retries: 2, minDelay: 1, maxDelay: 1 } })
    assert.equal(res.attempts, 3)
    assertSpaced('/fail/rate', start, 3)
  })
})

describe('the idle pool', () => {
  /** Opens `n` connections at once: each request is held until all n arrived. */
  async function openConnections (own, n, tag) {
    const paths = Array.from({ length: n }, (_, i) => `/hold/${tag}${i}`)
    const pending = own.gather(paths.map((p) => server.url(p)), { concurrency: n })
    await until(() => paths.every((p) => held.has(p)), `${n} requests in flight`)
    for (const p of paths) held.get(p)()
    await pending
  }

  test('poolMaxIdlePerHost: 1 keeps one of four connections and closes the rest', async () => {
    const own = client({ poolMaxIdlePerHost: 1 })
    const opened = sockets.opened
    const closed = sockets.closed
    await openConnections(own, 4, 'max')
    assert.equal(sockets.opened - opened, 4)
    await until(() => sockets.closed - closed === 3, 'three connections closed by the client')
    // The one kept is used again: no new connection.
    assert.equal((await own.fetch(server.url('/again'))).status, 200)
    assert.equal(sockets.opened - opened, 4)
    assert.equal(sockets.closed - closed, 3)
  })

  test('poolIdleTimeout closes an idle connection once it runs out', async () => {
    const own = client({ poolIdleTimeout: 100 })
    const closed = sockets.closed
    await openConnections(own, 1, 'idle')
    // The default keeps it 30 s; until()'s 10 s fail-safe ends a mutant's wait.
    await until(() => sockets.closed - closed === 1, 'the idle connection closed')
  })

  test('by default, four idle connections stay open and serve the next four', async () => {
    const own = client()
    const opened = sockets.opened
    await openConnections(own, 4, 'keep')
    await openConnections(own, 4, 'keep2')
    assert.equal(sockets.opened - opened, 4)
  })

  test('by default, a call wider than 256 keeps all its connections for the next', async () => {
    const own = client()
    const opened = sockets.opened
    const closed = sockets.closed
    await openConnections(own, 300, 'wide')
    await openConnections(own, 300, 'wide2')
    assert.equal(sockets.opened - opened, 300)
    assert.equal(sockets.closed - closed, 0)
  })

  test('a poolMaxIdlePerHost given stays the cap after a wider call', async () => {
    const own = client({ poolMaxIdlePerHost: 2 })
    const opened = sockets.opened
    const closed = sockets.closed
    await openConnections(own, 5, 'given')
    await until(() => sockets.closed - closed === 3, 'three connections closed by the client')
    await openConnections(own, 5, 'given2')
    assert.equal(sockets.opened - opened, 8, 'two kept, three opened again')
  })
})

describe('Response.ok', () => {
  test('is true for 200 to 299 only, as WHATWG defines it', async () => {
    for (const [status, ok] of [[200, true], [204, true], [299, true], [300, false], [304, false], [404, false], [500, false]]) {
      const res = await fetchpool.fetch(server.url(`/status/${status}`), { redirect: 'manual' })
      assert.equal(res.status, status)
      assert.equal(res.ok, ok, `status ${status}`)
    }
  })

  test('a 101 answer, the one 1xx status that ends a request, is not ok', async () => {
    const raw = await rawServer((path, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n'))
    try {
      const res = await fetchpool.fetch(raw.url('/switch'))
      assert.equal(res.status, 101)
      assert.equal(res.ok, false)
    } finally {
      await raw.close()
    }
  })
})

describe('Response body', () => {
  test('blob() has the body and its content type; bodyUsed stays false', async () => {
    const res = await fetchpool.fetch(server.url('/blob'))
    assert.equal(res.bodyUsed, false)
    const blob = await res.blob()
    assert.ok(blob instanceof Blob)
    assert.equal(blob.type, 'text/plain;charset=utf-8')
    assert.equal(blob.size, 'hello /blob'.length)
    assert.equal(await blob.text(), 'hello /blob')
    assert.equal(await res.text(), 'hello /blob')
    assert.equal(await res.text(), 'hello /blob')
    assert.equal(res.bodyUsed, false)
  })

  test('a status Node has no name for: empty statusText; no content type: empty blob type', async () => {
    const res = await fetchpool.fetch(server.url('/status/599'))
    assert.equal(res.status, 599)
    assert.equal(res.statusText, '')
    assert.equal(res.headers.get('content-type'), null)
    const blob = await res.blob()
    assert.equal(blob.type, '')
    assert.equal(blob.size, 0)
  })

  test('toJSON and inspect show the response and the size of its body', async () => {
    const url = server.url('/json-view')
    const res = await fetchpool.fetch(url)
    const json = res.toJSON()
    assert.deepEqual(Object.keys(json), ['index', 'url', 'status', 'statusText', 'redirected', 'httpVersion', 'attempts', 'headers', 'size', 'timing'])
    assert.equal(json.size, 'hello /json-view'.length)
    assert.equal(json.url, url)
    assert.equal(json.statusText, 'OK')
    assert.equal(json.headers['content-type'], 'text/plain;charset=utf-8')
    assert.deepEqual(json.timing, res.timing)
    assert.deepEqual(JSON.parse(JSON.stringify(res)), JSON.parse(JSON.stringify(json)))
    const shown = util.inspect(res)
    assert.ok(shown.startsWith('Response {'), shown)
    assert.ok(shown.includes(`size: ${'hello /json-view'.length}`), shown)
    assert.ok(shown.includes('status: 200'), shown)
  })

  test('its string tag is Response', async () => {
    const res = await fetchpool.fetch(server.url('/tag'))
    assert.equal(Object.prototype.toString.call(res), '[object Response]')
  })

  test('an HTTP/1.0 answer with no header lines and no body: version 1.0, an empty body', async () => {
    const raw = await rawServer((path, socket) => socket.end('HTTP/1.0 200 OK\r\n\r\n'))
    try {
      const res = await fetchpool.fetch(raw.url('/bare'))
      assert.equal(res.status, 200)
      assert.equal(res.httpVersion, '1.0')
      assert.deepEqual([...res.headers], [])
      assert.ok(Buffer.isBuffer(res.buffer))
      assert.equal(res.buffer.length, 0)
      assert.equal(await res.text(), '')
      assert.equal((await res.arrayBuffer()).byteLength, 0)
    } finally {
      await raw.close()
    }
  })

  test('bodies of answers that finish together: arrayBuffer() and bytes() give each its own bytes', async () => {
    // Answers without header lines, released together, so that several
    // cross to JavaScript at once and a body can start its shared memory.
    const n = 24
    const body = (i) => (i % 3 === 0 ? '' : `body ${i}`.repeat(i % 3))
    const waiting = []
    const raw = await rawServer((path, socket) => {
      waiting.push([Number(path.slice(1)), socket])
      if (waiting.length < n) return
      for (const [i, s] of waiting) s.end(`HTTP/1.0 200 OK\r\n\r\n${body(i)}`)
    })
    try {
      const results = await fetchpool.gather(Array.from({ length: n }, (_, i) => raw.url(`/${i}`)))
      for (const res of results) {
        const expected = body(res.index)
        assert.equal(res.buffer.toString(), expected)
        assert.equal(Buffer.from(await res.arrayBuffer()).toString(), expected, `arrayBuffer() of ${res.index}`)
        assert.equal(Buffer.from(await res.bytes()).toString(), expected, `bytes() of ${res.index}`)
      }
    } finally {
      await raw.close()
    }
  })
})

describe('the proxy password stays out of runtime errors', () => {
  const PASSWORD = 'pa55word-Zq'
  const hasNoPassword = (err) => {
    for (const text of [err.message, String(err.cause && err.cause.message), util.inspect(err, { depth: 5 }), JSON.stringify(err)]) {
      assert.ok(!text.includes(PASSWORD), `the password shows in: ${text}`)
      assert.ok(!text.includes(encodeURIComponent(PASSWORD)))
    }
  }

  test('a proxy that cannot be reached', async () => {
    const port = await refusedPort()
    const own = client({ proxy: `http://user:${PASSWORD}@127.0.0.1:${port}` })
    const err = await codeOf(own.fetch('http://example.test/'))
    assert.equal(err.code, 'ERR_PROXY')
    hasNoPassword(err)
  })

  test('a proxy that answers 407, for http and for a CONNECT', async () => {
    const proxy = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n'))
      socket.on('error', () => {})
    })
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const own = client({ proxy: `http://user:${PASSWORD}@127.0.0.1:${proxy.address().port}` })
      for (const url of ['http://example.test/', 'https://example.test/']) {
        const err = await codeOf(own.fetch(url))
        assert.equal(err.code, 'ERR_PROXY', url)
        hasNoPassword(err)
      }
    } finally {
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})

describe('deliberate differences from async 3.2.6', () => {
  const iteratee = (x, cb) => setImmediate(cb, null, x)

  test('a limit of NaN or undefined is a RangeError', async () => {
    for (const limit of [NaN, undefined]) {
      await assert.rejects(fetchpool.mapLimit([1, 2], limit, iteratee), RangeError)
      await assert.rejects(fetchpool.eachLimit([1, 2], limit, iteratee), RangeError)
    }
  })

  test('fractional limits behave as in async: 0.5 runs one at a time, 1.5 two', async () => {
    for (const [limit, expected] of [[0.5, 1], [1.5, 2]]) {
      let running = 0
      let peak = 0
      await fetchpool.mapLimit([1, 2, 3, 4], limit, (x, cb) => {
        peak = Math.max(peak, ++running)
        setImmediate(() => { running--; cb(null, x) })
      })
      assert.equal(peak, expected, `limit ${limit}`)
    }
  })

  test('in callback mode every function returns undefined; auto({}) without one returns a Promise', async () => {
    let done
    const finished = new Promise((resolve) => { done = resolve })
    assert.equal(fetchpool.until(async () => true, (cb) => cb(), done), undefined)
    await finished
    const auto = fetchpool.auto({})
    assert.ok(auto instanceof Promise)
    await auto
  })

  test('long synchronous chains do not overflow the stack', async () => {
    const steps = 100000
    const tasks = [(cb) => cb(null, 0), ...Array.from({ length: steps }, () => (n, cb) => cb(null, n + 1))]
    assert.equal(await fetchpool.waterfall(tasks), steps)
    let n = 0
    await fetchpool.whilst((cb) => cb(null, n < steps), (cb) => { n++; cb() })
    assert.equal(n, steps)
  })

  test('a queue whose worker throws synchronously keeps working', () => {
    // In a child: the throw is an uncaught exception, which the test runner
    // would count against this file. The task that threw keeps its slot, as
    // a task that never calls back does in async; the other slot works on
    // (and the queue never drains).
    const script = `
      const fetchpool = require(${JSON.stringify(require.resolve('..'))})
      const seen = []
      const uncaught = []
      process.on('uncaughtException', (err) => uncaught.push(err.message))
      const q = fetchpool.queue((task, cb) => {
        if (task === 'bad') throw new Error('worker threw')
        seen.push(task)
        cb()
      }, 2)
      q.push('bad')
      setImmediate(() => Promise.all([q.push('a'), q.push('b')]).then(() => {
        console.log(JSON.stringify({ seen, uncaught }))
      }))`
    const out = require('node:child_process').execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
    assert.deepEqual(JSON.parse(out), { seen: ['a', 'b'], uncaught: ['worker threw'] })
  })

  test('calling back twice is detected for async-iterable collections', async () => {
    async function * source () { yield 1; yield 2 }
    await assert.rejects(new Promise((resolve, reject) => {
      try {
        fetchpool.eachLimit(source(), 1, (x, cb) => { cb(); try { cb() } catch (err) { reject(err) } }, () => {})
      } catch (err) { reject(err) }
    }), { message: 'Callback was already called.' })
  })
})
