'use strict'

// A server that answers every request after a fixed delay, for the
// latency-bound runs of latency.js, in its own process. It reads request
// heads off raw sockets and writes a canned response from one timer list
// (Node keeps timers of one duration in one list, so a timer costs O(1)):
// cheap enough that thousands of connections at the delay are within its
// reach on one core. Prints its port, then serves until killed.
//
//   node latency-server.js <delay ms> <body bytes>

const net = require('node:net')

const delay = Number(process.argv[2])
const size = Number(process.argv[3] || 16)
const RESPONSE = Buffer.concat([
  Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\ncontent-type: text/plain\r\n\r\n`),
  Buffer.alloc(size, 0x61)
])

const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  let tail = ''
  socket.on('data', (chunk) => {
    const text = tail + chunk.toString('latin1')
    const heads = text.split('\r\n\r\n')
    tail = heads.pop()
    for (let k = 0; k < heads.length; k++) {
      setTimeout(() => { if (!socket.destroyed) socket.write(RESPONSE) }, delay)
    }
  })
  socket.on('error', () => {})
})

server.listen({ port: 0, host: '127.0.0.1', backlog: 8192 }, () => {
  process.stdout.write(`${server.address().port}\n`)
})
