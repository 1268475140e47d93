'use strict'

// Server-side request forgery: with allowPrivateNetworks: false a client
// refuses, before anything is sent, to connect to a loopback, private or
// link-local address, however the URL spells it and whatever a name
// resolves to. Loopback stands for every private address here: it is
// refused with the option and reached without it.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { clientTracker } = require('./support/clients')
const { startHttpServer } = require('./support/http-server')

let server
let proxy
const clients = clientTracker()

before(async () => {
  server = await startHttpServer((req, res) => res.end('reached'))
  proxy = await startHttpServer((req, res) => res.end('proxied'))
})

after(async () => {
  clients.closeAll()
  if (server) await server.close()
  if (proxy) await proxy.close()
})

async function codeOf (promise) {
  try {
    const res = await promise
    return `resolved with ${res.status} ${await res.text()}`
  } catch (err) {
    return err.code
  }
}

const spellings = () => {
  const p = server.port
  return [
    `http://127.0.0.1:${p}/`,
    `http://127.1:${p}/`,
    `http://0x7f.1:${p}/`,
    `http://0177.0.0.1:${p}/`,
    `http://2130706433:${p}/`,
    `http://[::ffff:127.0.0.1]:${p}/`,
    `http://[::ffff:7f00:1]:${p}/`,
    `http://0.0.0.0:${p}/`,
    `http://[::1]:${p}/`,
    `http://localhost:${p}/`
  ]
}

describe('allowPrivateNetworks: false', () => {
  test('refuses every spelling of a loopback address, and nothing reaches the server', async () => {
    const client = clients.client({ allowPrivateNetworks: false })
    const before = server.requests.length
    for (const url of spellings()) {
      assert.equal(await codeOf(client.fetch(url)), 'ERR_PRIVATE_NETWORK', url)
    }
    assert.equal(server.requests.length, before)
  })

  test('refuses a name that resolves to a private address (the address connected to is checked)', async () => {
    const host = `rebind.test:${server.port}`
    const client = clients.client({ allowPrivateNetworks: false, resolve: { [host]: '127.0.0.1' } })
    const before = server.requests.length
    assert.equal(await codeOf(client.fetch(`http://${host}/`)), 'ERR_PRIVATE_NETWORK')
    assert.equal(server.requests.length, before)
  })

  test('refuses in a batch, each request with its own code', async () => {
    const client = clients.client({ allowPrivateNetworks: false })
    const results = await client.gather(spellings().slice(0, 3), { settle: true })
    for (const r of results) assert.equal(r.status === 'rejected' && r.reason.code, 'ERR_PRIVATE_NETWORK')
  })

  test('the proxy the caller named may be private; a private destination is still refused', async () => {
    const client = clients.client({ allowPrivateNetworks: false, proxy: proxy.url('') })
    assert.equal(await codeOf(client.fetch(server.url('/'))), 'ERR_PRIVATE_NETWORK')
    assert.equal(await codeOf(client.fetch('http://public.test/')), 'resolved with 200 proxied')
  })

  test('a value other than a boolean is refused', () => {
    assert.throws(() => clients.client({ allowPrivateNetworks: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('by default', () => {
  test('private addresses are reached', async () => {
    const client = clients.client()
    for (const url of spellings().slice(0, 5)) {
      assert.equal(await codeOf(client.fetch(url)), 'resolved with 200 reached', url)
    }
  })
})
