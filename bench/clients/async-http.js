'use strict'

// The pattern fetchpool replaces: `async.mapLimit` over `http.get` on a
// keep-alive agent (`https.get` for https), the body collected into one Buffer.

const http = require('node:http')
const https = require('node:https')
const async = require('async')
const { runClient } = require('../harness')

runClient('async-http', async ({ concurrency }) => {
  const tls = process.env.BENCH_URL.startsWith('https:')
  const agent = new (tls ? https : http).Agent({ keepAlive: true, maxSockets: concurrency })
  const client = tls ? https : http
  function get (url, cb) {
    client.get(url, { agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => cb(null, res.statusCode === 200 ? Buffer.concat(chunks) : Buffer.alloc(0)))
      res.on('error', cb)
    }).on('error', cb)
  }
  return {
    run (urls, n) {
      return async.mapLimit(urls, n, get)
    },
    close: () => agent.destroy()
  }
})
