'use strict'

// wreq-js (napi-rs + wreq): a session's `fetch` per request through the shared
// limiter; the session keeps its connections between requests.

const { createSession } = require('wreq-js')
const { runClient, limit, EMPTY } = require('../harness')

runClient('wreq-js', async () => {
  const session = await createSession()
  return {
    run (urls, concurrency) {
      return limit(urls, concurrency, async (url) => {
        const res = await session.fetch(url)
        const buf = await res.arrayBuffer()
        return res.status === 200 ? buf : EMPTY
      })
    },
    close: () => session.close()
  }
})
