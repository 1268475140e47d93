'use strict'

// undici's `request` on an Agent with one connection per concurrent request;
// with BENCH_H2=1 the Agent takes HTTP/2 where the server offers it.

const { Agent, request } = require('undici')
const { runClient, limit, EMPTY } = require('../harness')

runClient('undici-request', async ({ concurrency }) => {
  const dispatcher = new Agent({ connections: concurrency, allowH2: process.env.BENCH_H2 === '1' })
  return {
    run (urls, n) {
      return limit(urls, n, async (url) => {
        const { statusCode, body } = await request(url, { dispatcher })
        const buf = await body.arrayBuffer()
        return statusCode === 200 ? buf : EMPTY
      })
    },
    close: () => dispatcher.close()
  }
})
