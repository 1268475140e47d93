'use strict'

// Clients made by a test file, closed together in its after().

const { Client } = require('../..')

function clientTracker () {
  const clients = []
  return {
    client (options) {
      const c = new Client(options)
      clients.push(c)
      return c
    },
    closeAll () {
      for (const c of clients.splice(0)) c.close()
    }
  }
}

module.exports = { clientTracker }
