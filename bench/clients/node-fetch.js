'use strict'

// Node's global `fetch` (the undici bundled with Node), default dispatcher.

const { runClient, limit, EMPTY } = require('../harness')

runClient('node-fetch', async () => ({
  run (urls, concurrency) {
    return limit(urls, concurrency, async (url) => {
      const res = await fetch(url)
      const buf = await res.arrayBuffer()
      return res.status === 200 ? buf : EMPTY
    })
  }
}))
