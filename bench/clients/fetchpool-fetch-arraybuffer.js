'use strict'

// fetchpool: one `fetch()` call per request, through the shared limiter, with
// the body taken as the anchors take theirs, through `arrayBuffer()`.

const fp = require('./fetchpool')
const { runClient, limit, EMPTY } = require('../harness')

runClient('fetchpool-fetch-arraybuffer', async () => ({
  run (urls, concurrency) {
    return limit(urls, concurrency, async (url) => {
      const res = await fp.fetch(url)
      const buf = await res.arrayBuffer()
      return res.status === 200 ? buf : EMPTY
    })
  }
}))
