'use strict'

// fetchpool's HTTP/1.1 reader held to Node's own (llhttp, through
// node:http) on the documented cases of __test__/fixtures/http1-responses.json:
// the same bytes, sent whole and then the connection closed, give the same
// status and body, or an error from both. Where fetchpool differs on purpose,
// the fixture names the case and docs/http1-framing.md says why; the test
// checks that the difference is still there, so the table stays true. The
// Rust suite holds the same cases, and mutants of them, to hyper.
//
// Then each case again on a connection the server keeps open and answers
// on: whatever the case gives, the next request gets its own response.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const { Client } = require('..')

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'http1-responses.json'), 'utf8'))

let server
let port
let client
// The response for the next connection, by request path.
const responses = new Map()

before(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (data) => {
      head += data.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      const target = head.split(' ')[1]
      socket.end(responses.get(target) ?? Buffer.alloc(0))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = server.address().port
  client = new Client()
})

after(async () => {
  client.close()
  await new Promise((resolve) => server.close(resolve))
})

async function viaFetchpool (target) {
  try {
    const res = await client.fetch(`http://127.0.0.1:${port}${target}`, { retry: 0, decompress: false })
    return { status: res.status, body: res.buffer.toString('latin1') }
  } catch (err) {
    return { error: err.code }
  }
}

function viaLlhttp (target) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
      const chunks = []
      res.on('data', (d) => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('latin1') }))
      res.on('error', (err) => resolve({ error: err.code }))
      res.on('aborted', () => resolve({ error: 'aborted' }))
    })
    req.on('error', (err) => resolve({ error: err.code }))
  })
}

const agree = (a, b) => ('error' in a && 'error' in b) || (a.status === b.status && a.body === b.body)

const bytesOf = (c) => Buffer.from(c.fill ? c.bytes.replace(c.fill.marker, c.fill.text.repeat(c.fill.count)) : c.bytes, 'latin1')

fixture.cases.forEach((c, i) => {
  test(`${c.name}: as llhttp reads it${c.differs?.llhttp ? ', except as documented' : ''}`, async () => {
    const target = `/case-${i}`
    responses.set(target, bytesOf(c))
    const ours = await viaFetchpool(target)
    const node = await viaLlhttp(target)
    if ('error' in ours) {
      // A response fetchpool cannot read is a protocol error, never anything else.
      assert.ok(['ERR_HTTP_PROTOCOL', 'ECONNRESET'].includes(ours.error), ours.error)
    }
    if (c.differs?.llhttp) {
      assert.ok(!agree(ours, node), `documented as differing, but both gave ${JSON.stringify(ours)}`)
    } else {
      assert.ok(agree(ours, node), `fetchpool ${JSON.stringify(ours)}, llhttp ${JSON.stringify(node)}`)
    }
  })
})

describe('the request after each case, on a connection kept open', () => {
  let keeper
  let keeperPort
  // What each request path answers; every request on a connection is
  // answered in turn, and the connection stays open.
  const answers = new Map([['/next', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext')]])

  before(async () => {
    keeper = net.createServer((socket) => {
      socket.on('error', () => {})
      let buf = ''
      socket.on('data', (data) => {
        buf += data.toString('latin1')
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          const target = buf.split(' ')[1]
          buf = buf.slice(end + 4)
          socket.write(answers.get(target) ?? Buffer.alloc(0))
        }
      })
    })
    await new Promise((resolve) => keeper.listen(0, '127.0.0.1', resolve))
    keeperPort = keeper.address().port
  })

  after(() => new Promise((resolve) => keeper.close(resolve)))

  fixture.cases.forEach((c, i) => {
    test(`after ${c.name}`, async () => {
      const target = `/kept-${i}`
      answers.set(target, bytesOf(c))
      const kept = new Client()
      try {
        const base = `http://127.0.0.1:${keeperPort}`
        // One lane takes both, as a batch's lane would reuse its
        // connection. A response that needs the close to end fails on its
        // timeout.
        const [, next] = await kept.gather([base + target, base + '/next'], {
          concurrency: 1,
          settle: true,
          retry: 0,
          decompress: false,
          timeout: { headers: 300, body: 300 }
        })
        assert.equal(next.status, 'fulfilled', next.reason?.code)
        assert.equal(next.value.buffer.toString(), 'next')
      } finally {
        kept.close()
      }
    })
  })
})
