'use strict'

// The pattern fetchpool replaces: `async.mapLimit` over `http.get` on a
// keep-alive agent, the body collected into one Buffer.

const http = require('node:http')
const async = require('async')
const { runClient } = require('../harness')

runClient('async-http', async ({ concurrency }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  function get (url, cb) {
    http.get(url, { agent }, (res) => {
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
