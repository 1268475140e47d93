'use strict'

// Credentials on redirects, with loopback servers playing the attacker: the
// origin a request was meant for redirects it to another origin (another
// port is enough) or from https down to http, and that origin records what
// reaches it. Authorization, Cookie, Proxy-Authorization and a caller's Host
// never leave their origin, whether the request or the client set them.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const https = require('node:https')
const { makeCerts } = require('./support/certs')
const { clientTracker } = require('./support/clients')
const { startHttpServer } = require('./support/http-server')

const SECRETS = {
  authorization: 'Bearer client-token',
  cookie: 'sid=client-session',
  'proxy-authorization': 'Basic Y2xpZW50OnNlY3JldA=='
}

let certs
let origin
let attacker
let tlsOrigin
let tlsUrl
const clients = clientTracker()

/** A server that redirects `/to?where=…&code=…` and echoes everything else. */
function redirecting (targetOf) {
  return async (req, res, url) => {
    if (url.pathname === '/to') {
      res.writeHead(Number(url.searchParams.get('code') || 302), { location: targetOf(url.searchParams.get('where')) })
      return res.end()
    }
    res.end('ok')
  }
}

before(async () => {
  certs = makeCerts()
  attacker = await startHttpServer(redirecting(() => '/echo'))
  origin = await startHttpServer(redirecting((where) => (where === 'other' ? attacker.url('/echo') : '/echo')))
  tlsOrigin = https.createServer({ key: fs.readFileSync(certs.server.key), cert: certs.server.pem }, (req, res) => {
    res.writeHead(302, { location: attacker.url('/echo') })
    res.end()
  })
  await new Promise((resolve) => tlsOrigin.listen(0, '127.0.0.1', resolve))
  tlsUrl = `https://127.0.0.1:${tlsOrigin.address().port}/to`
})

after(async () => {
  clients.closeAll()
  if (origin) await origin.close()
  if (attacker) await attacker.close()
  if (tlsOrigin) {
    tlsOrigin.closeAllConnections()
    await new Promise((resolve) => tlsOrigin.close(resolve))
  }
  if (certs) certs.remove()
})

/** What the attacker's server saw of the last request it received. */
function lastSeenByAttacker () {
  assert.ok(attacker.requests.length > 0, 'the redirect reached the other origin')
  return attacker.requests[attacker.requests.length - 1].headers
}

function assertNoSecrets (headers) {
  for (const name of Object.keys(SECRETS)) assert.equal(headers[name], undefined, name)
}

describe('client-level credentials', () => {
  test('stay with the origin on a redirect within it', async () => {
    const client = clients.client({ headers: SECRETS })
    const before = origin.requests.length
    await (await client.fetch(origin.url('/to?where=same'))).text()
    const seen = origin.requests.slice(before)
    assert.equal(seen.length, 2)
    assert.equal(seen[1].headers.authorization, SECRETS.authorization)
    assert.equal(seen[1].headers.cookie, SECRETS.cookie)
  })

  for (const code of [301, 302, 303, 307, 308]) {
    test(`are not sent to another origin after a ${code}`, async () => {
      const client = clients.client({ headers: SECRETS })
      const res = await client.fetch(origin.url(`/to?where=other&code=${code}`))
      assert.equal(res.url, attacker.url('/echo'))
      assertNoSecrets(lastSeenByAttacker())
    })
  }

  test('are not sent on a later hop within the other origin either', async () => {
    const client = clients.client({ headers: SECRETS })
    const before = attacker.requests.length
    // origin -> attacker /to -> attacker /echo
    const res = await client.fetch({ url: origin.url('/to?where=other'), headers: { 'x-hop': '1' } })
    await res.text()
    const seen = attacker.requests.slice(before)
    assert.ok(seen.length >= 1)
    for (const r of seen) assertNoSecrets(r.headers)
  })

  test('a client set with userAgent and credentials through gather drops them too', async () => {
    const client = clients.client({ headers: SECRETS, userAgent: 'probe' })
    const before = attacker.requests.length
    const results = await client.gather([origin.url('/to?where=other'), origin.url('/to?where=other&code=307')])
    assert.equal(results.length, 2)
    const seen = attacker.requests.slice(before)
    assert.equal(seen.length, 2)
    for (const r of seen) {
      assertNoSecrets(r.headers)
      assert.equal(r.headers['user-agent'], 'probe')
    }
  })
})

describe('a request that overrides a client credential', () => {
  test('sends neither its own nor the client\'s to another origin', async () => {
    const client = clients.client({ headers: { authorization: 'Bearer client-only' } })
    const res = await client.fetch({ url: origin.url('/to?where=other'), headers: { authorization: 'Bearer request' } })
    await res.text()
    const headers = lastSeenByAttacker()
    assert.equal(headers.authorization, undefined)
  })

  test('the client\'s value never reaches the first origin either', async () => {
    const client = clients.client({ headers: { authorization: 'Bearer client-only' } })
    const before = origin.requests.length
    await (await client.fetch({ url: origin.url('/to?where=same'), headers: { authorization: 'Bearer request' } })).text()
    for (const r of origin.requests.slice(before)) assert.equal(r.headers.authorization, 'Bearer request')
  })
})

describe('a caller\'s Host', () => {
  test('from the request does not follow a redirect to another origin', async () => {
    const client = clients.client()
    await (await client.fetch({ url: origin.url('/to?where=other'), headers: { host: 'victim.test' } })).text()
    assert.equal(lastSeenByAttacker().host, `127.0.0.1:${attacker.port}`)
  })

  test('from the client does not either', async () => {
    const client = clients.client({ headers: { host: 'victim.test' } })
    await (await client.fetch(origin.url('/to?where=other'))).text()
    assert.equal(lastSeenByAttacker().host, `127.0.0.1:${attacker.port}`)
  })

  test('is refused when given twice, before anything is sent', async () => {
    const client = clients.client()
    const before = origin.requests.length
    const request = { url: origin.url('/echo'), headers: [['host', 'a.test'], ['Host', 'b.test']] }
    await assert.rejects(client.fetch(request), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.equal(origin.requests.length, before)
  })
})

describe('a downgrade from https to http', () => {
  test('sends none of the request\'s credentials', async () => {
    const client = clients.client({ ca: certs.ca.pem })
    const res = await client.fetch({ url: tlsUrl, headers: SECRETS })
    assert.equal(res.url, attacker.url('/echo'))
    assertNoSecrets(lastSeenByAttacker())
  })

  test('sends none of the client\'s credentials', async () => {
    const client = clients.client({ ca: certs.ca.pem, headers: SECRETS })
    await (await client.fetch(tlsUrl)).text()
    assertNoSecrets(lastSeenByAttacker())
  })
})

describe('user info in the URL', () => {
  test('is never sent, nor carried to another origin, nor shown in response.url', async () => {
    const client = clients.client()
    const url = origin.url('/to?where=same').replace('://', '://user:p%40ss@')
    const before = origin.requests.length
    const res = await client.fetch(url)
    await res.text()
    assert.equal(res.url, origin.url('/echo'))
    for (const r of origin.requests.slice(before)) assert.equal(r.headers.authorization, undefined)
  })

  test('in a Location is dropped, and response.url does not show it', async () => {
    const server = await startHttpServer((req, res, url) => {
      if (url.pathname === '/to') {
        res.writeHead(302, { location: attacker.url('/echo').replace('://', '://evil:secret@') })
        return res.end()
      }
      res.end()
    })
    try {
      const res = await clients.client().fetch(server.url('/to'))
      assert.equal(res.url, attacker.url('/echo'))
      assert.equal(lastSeenByAttacker().authorization, undefined)
    } finally {
      await server.close()
    }
  })
})
