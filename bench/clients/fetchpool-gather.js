'use strict'

// fetchpool: one `gather` call for the whole list.

const fp = require('./fetchpool')
const { runClient, EMPTY } = require('../harness')

runClient('fetchpool-gather', async () => ({
  async run (urls, concurrency) {
    const responses = await fp.gather(urls, { concurrency })
    const bodies = new Array(responses.length)
    for (let k = 0; k < responses.length; k++) bodies[k] = responses[k].status === 200 ? responses[k].buffer : EMPTY
    return bodies
  }
}))
