'use strict'

// The ceiling of latency.js: `concurrency` bare keep-alive sockets, each
// sending one request and waiting for the whole response before the next,
// with no HTTP library at all. It counts response bytes only, so it is
// only for the delay server's fixed, known response.

const net = require('node:net')
const { runClient, EMPTY } = require('./harness')

runClient('raw', async ({ base, size }) => {
  const url = new URL(base)
  const head = `HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\ncontent-type: text/plain\r\n\r\n`
  const responseBytes = Buffer.byteLength(head) + size
  const request = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`)
  const body = Buffer.alloc(size, 0x61)
  return {
    async run (urls, concurrency) {
      const bodies = new Array(urls.length).fill(EMPTY)
      let next = 0
      const lane = () => new Promise((resolve, reject) => {
        const socket = net.connect(Number(url.port), url.hostname)
        let got = 0
        let current = -1
        const send = () => {
          if (next >= urls.length) return socket.end(resolve)
          current = next++
          got = 0
          socket.write(request)
        }
        socket.on('connect', send)
        socket.on('data', (chunk) => {
          got += chunk.length
          if (got >= responseBytes) {
            bodies[current] = body
            send()
          }
        })
        socket.on('error', reject)
      })
      const lanes = []
      for (let k = 0; k < Math.min(concurrency, urls.length); k++) lanes.push(lane())
      await Promise.all(lanes)
      return bodies
    }
  }
})
