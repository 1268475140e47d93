'use strict'

// fetchpool: the async-style `mapLimit(urls, n, fetch, callback)`, which takes
// the native batch path.

const fp = require('./fetchpool')
const { runClient, EMPTY } = require('../harness')

runClient('fetchpool-mapLimit', async () => ({
  run (urls, concurrency) {
    return new Promise((resolve, reject) => {
      fp.mapLimit(urls, concurrency, fp.fetch, (err, responses) => {
        if (err) return reject(err)
        const bodies = new Array(responses.length)
        for (let k = 0; k < responses.length; k++) bodies[k] = responses[k].status === 200 ? responses[k].buffer : EMPTY
        resolve(bodies)
      })
    })
  }
}))
