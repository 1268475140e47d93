'use strict'

// fetchpool: one `fetch()` call per request, through the shared limiter.

const fp = require('./fetchpool')
const { runClient, limit, EMPTY } = require('../harness')

runClient('fetchpool-fetch', async () => ({
  run (urls, concurrency) {
    return limit(urls, concurrency, async (url) => {
      const res = await fp.fetch(url)
      return res.status === 200 ? res.buffer : EMPTY
    })
  }
}))
