'use strict'

// fetchpool's HTTP/1.1 reader held to Node's own (llhttp, through
// node:http) on the documented cases of __test__/fixtures/http1-responses.json:
// the same bytes, sent whole and then the connection closed, give the same
// status and body, or an error from both. Where fetchpool differs on purpose,
// the fixture names the case and docs/http1-framing.md says why; the test
// checks that the difference is still there, so the table stays true. The
// Rust suite holds the same cases, and mutants of them, to hyper.

const { test, before, after } = require('node:test')
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

fixture.cases.forEach((c, i) => {
  test(`${c.name}: as llhttp reads it${c.differs?.llhttp ? ', except as documented' : ''}`, async () => {
    const target = `/case-${i}`
    const bytes = c.fill ? c.bytes.replace(c.fill.marker, c.fill.text.repeat(c.fill.count)) : c.bytes
    responses.set(target, Buffer.from(bytes, 'latin1'))
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
