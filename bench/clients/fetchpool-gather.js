'use strict'

// fetchpool: one `gather` call for the whole list.

const fp = require('./fetchpool')
const { runClient } = require('../harness')

runClient('fetchpool-gather', async () => ({
  async run (urls, concurrency) {
    const responses = await fp.gather(urls, { concurrency })
    let bytes = 0
    for (let k = 0; k < responses.length; k++) {
      if (responses[k].status === 200) bytes += responses[k].buffer.length
    }
    return bytes
  }
}))
