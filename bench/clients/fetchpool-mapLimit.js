'use strict'

// fetchpool: the async-style `mapLimit(urls, n, fetch, callback)`, which takes
// the native batch path.

const fp = require('./fetchpool')
const { runClient } = require('../harness')

runClient('fetchpool-mapLimit', async () => ({
  run (urls, concurrency) {
    return new Promise((resolve, reject) => {
      fp.mapLimit(urls, concurrency, fp.fetch, (err, responses) => {
        if (err) return reject(err)
        let bytes = 0
        for (let k = 0; k < responses.length; k++) {
          if (responses[k].status === 200) bytes += responses[k].buffer.length
        }
        resolve(bytes)
      })
    })
  }
}))
