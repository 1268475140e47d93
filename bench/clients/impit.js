'use strict'

// impit (napi-rs + reqwest): one `fetch` per request through the shared limiter.

const { Impit } = require('impit')
const { runClient, limit, EMPTY } = require('../harness')

runClient('impit', async () => {
  const impit = new Impit()
  return {
    run (urls, concurrency) {
      return limit(urls, concurrency, async (url) => {
        const res = await impit.fetch(url)
        const buf = await res.arrayBuffer()
        return res.status === 200 ? buf : EMPTY
      })
    }
  }
})
