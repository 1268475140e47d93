'use strict'

// What the README promises of stream's window and of onProgress: stream never
// runs more than 2 × concurrency (16 to 4096) requests ahead of its consumer,
// for synchronous and asynchronous sources alike; onProgress is called at
// most every 100 ms and once at the end, for gather and stream.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { performance } = require('node:perf_hooks')
const fetchpool = require('..')
const { startServer, refusedPort } = require('./support/server')
const { waitFor } = require('./support/wait')

let server
before(async () => { server = await startServer() })
after(() => server.close())

const windowOf = (concurrency) => Math.max(16, Math.min(2 * concurrency, 4096))

/** Counts how far the source runs ahead of the loop that consumes it. */
function tracker () {
  const t = { pulled: 0, consumed: 0, maxAhead: 0 }
  t.pull = () => {
    t.pulled++
    t.maxAhead = Math.max(t.maxAhead, t.pulled - t.consumed)
  }
  return t
}

async function consume (t, iterable) {
  for await (const res of iterable) {
    assert.equal(res.status, 200)
    t.consumed++
  }
}

describe('the stream window', () => {
  for (const concurrency of [1, 8, 20, 40]) {
    const window = windowOf(concurrency)
    const n = window * 3

    test(`a synchronous source, concurrency ${concurrency}: exactly ${window} ahead at most`, async () => {
      const t = tracker()
      function * source () {
        for (let i = 0; i < n; i++) {
          t.pull()
          yield server.url(`/w/${i}`)
        }
      }
      await consume(t, fetchpool.stream(source(), { concurrency }))
      assert.equal(t.consumed, n)
      // The first pull fills the window in one go, before any result.
      assert.equal(t.maxAhead, window)
    })

    test(`an asynchronous source, concurrency ${concurrency}: exactly ${window} ahead at most`, async () => {
      const t = tracker()
      async function * source () {
        for (let i = 0; i < n; i++) {
          t.pull()
          yield server.url(`/aw/${i}`)
        }
      }
      await consume(t, fetchpool.stream(source(), { concurrency }))
      assert.equal(t.consumed, n)
      // Items of an async source are pulled one by one, each in a microtask
      // after the last: the window fills before any result comes back.
      assert.equal(t.maxAhead, window)
    })
  }

  for (const [label, options, concurrency] of [
    ['concurrency 20', { concurrency: 20 }, 20],
    ["'auto' up to maxConcurrency 20", { concurrency: 'auto', maxConcurrency: 20 }, 20],
    ["'auto' up to its default maximum, 256", { concurrency: 'auto' }, 256]
  ]) {
    test(`a client's own ${label} sizes the window of its streams`, async () => {
      const client = new fetchpool.Client(options)
      try {
        const t = tracker()
        const n = 3 * windowOf(concurrency)
        function * source () {
          for (let i = 0; i < n; i++) {
            t.pull()
            yield server.url(`/cw/${i}`)
          }
        }
        await consume(t, client.stream(source()))
        assert.equal(t.consumed, n)
        assert.equal(t.maxAhead, windowOf(concurrency))
      } finally {
        client.close()
      }
    })
  }

  test('the window is capped at 4096, however high the concurrency', async () => {
    const t = tracker()
    const n = 4200
    function * source () {
      for (let i = 0; i < n; i++) {
        t.pull()
        yield server.url(`/cap/${i}`)
      }
    }
    await consume(t, fetchpool.stream(source(), { concurrency: 2100 }))
    assert.equal(t.consumed, n)
    assert.equal(t.maxAhead, 4096)
  })

  test('a consumer that stops taking results stops the source', async () => {
    const t = tracker()
    function * source () {
      for (let i = 0; i < 1000; i++) {
        t.pull()
        yield server.url(`/stop/${i}`)
      }
    }
    const done = fetchpool.stats().done
    const iterator = fetchpool.stream(source(), { concurrency: 4 })[Symbol.asyncIterator]()
    const first = await iterator.next()
    t.consumed++
    assert.equal(first.value.status, 200)
    // Every request pulled so far finishes; none of their results is taken,
    // so nothing more may be pulled.
    const window = windowOf(4)
    const deadline = performance.now() + 10000 // a fail-safe, not a bound
    while (fetchpool.stats().done - done < window && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.equal(fetchpool.stats().done - done, window)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(t.pulled, window)
    await iterator.return()
  })

  test('results waiting to be taken count in the window of an async source', async () => {
    // Each read of the source waits until every request sent so far is
    // answered, so the results pile up untaken while the source is read.
    // `_active` counts the requests whose result has not reached the stream.
    const client = new fetchpool.Client()
    try {
      let asked = 0
      let yielded = 0
      async function * source () {
        for (let i = 0; i < 100; i++) {
          asked++
          if (i > 0) await waitFor(() => client._active === 0, 'every request sent so far answered')
          yielded++
          yield server.url(`/untaken/${i}`)
        }
      }
      const window = windowOf(1)
      const iterator = client.stream(source(), { concurrency: 1 })[Symbol.asyncIterator]()
      const first = await iterator.next()
      assert.equal(first.value.status, 200)
      // One result taken, and a window of results untaken behind it.
      await waitFor(() => yielded === window + 1, 'the window filled')
      await waitFor(() => client._active === 0, 'the last request answered')
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(yielded, window + 1)
      assert.equal(asked, yielded, 'the source was asked for no more')
      await iterator.return()
    } finally {
      client.close()
    }
  })
})

describe('onProgress', () => {
  /**
   * Checks the throttle: reports other than the last two (the one for the
   * last result and the one when the call ends) are at least 100 ms apart,
   * and there are no more of them than the call's duration allows. Both
   * bounds only loosen on a slower machine.
   */
  function assertThrottled (times, elapsed) {
    const spaced = times.slice(0, -2)
    for (let i = 1; i < spaced.length; i++) {
      assert.ok(spaced[i] - spaced[i - 1] >= 99, `reports ${(spaced[i] - spaced[i - 1]).toFixed(1)} ms apart`)
    }
    assert.ok(times.length <= Math.floor(elapsed / 100) + 3, `${times.length} reports in ${elapsed.toFixed(0)} ms`)
  }

  test('gather: throttled to one report per 100 ms, the last with the totals', async () => {
    const n = 300
    const reports = []
    const times = []
    const started = performance.now()
    await fetchpool.gather(Array.from({ length: n }, (_, i) => server.url(`/p/${i}`)), {
      concurrency: 4,
      onProgress: (p) => { reports.push(p); times.push(performance.now()) }
    })
    assertThrottled(times, performance.now() - started)
    const last = reports.at(-1)
    assert.deepEqual({ ...last, bytes: undefined }, { done: n, failed: 0, inFlight: 0, total: n, bytes: undefined })
    assert.ok(last.bytes > 0)
  })

  test('stream: the same counts, throttled, with failures and bytes', async () => {
    const port = await refusedPort()
    const urls = [...Array.from({ length: 200 }, (_, i) => server.url(`/s/${i}`)), `http://127.0.0.1:${port}/`]
    const expectedBytes = urls.slice(0, 200).reduce((sum, u) => sum + `hello ${new URL(u).pathname}`.length, 0)
    const reports = []
    const times = []
    const started = performance.now()
    let yielded = 0
    for await (const item of fetchpool.stream(urls, {
      concurrency: 4,
      settle: true,
      onProgress: (p) => { reports.push(p); times.push(performance.now()) }
    })) {
      assert.ok(item.status)
      yielded++
    }
    assert.equal(yielded, 201)
    assertThrottled(times, performance.now() - started)
    const last = reports.at(-1)
    assert.equal(last.done, 201)
    assert.equal(last.failed, 1)
    assert.equal(last.bytes, expectedBytes)
    assert.equal(last.inFlight, 0)
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i].done >= reports[i - 1].done)
  })
})
