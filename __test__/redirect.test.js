'use strict'

// Redirects: nginx's `return 301/302/307` for following, the maximum and the
// modes; two small Node servers (two origins) for what a redirect does to
// the method, the body and the credentials.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { startNginx } = require('./support/nginx')
const { startHttpServer, readBody } = require('./support/http-server')

let nginx
let origin
let other
let client

before(async () => {
  nginx = await startNginx({
    servers: {
      web: {
        config: [
          'location = /hello { return 200 "hello\\n"; }',
          'location = /r301 { return 301 /hello?from=301; }',
          'location = /r302 { return 302 /hello; }',
          'location = /r307 { return 307 /hello; }',
          'location = /chain1 { return 302 /chain2; }',
          'location = /chain2 { return 302 /chain3; }',
          'location = /chain3 { return 302 /hello; }',
          'location = /loop { return 302 /loop; }',
          'location = /ftp { return 302 ftp://127.0.0.1/file; }',
          'location = /file { return 302 file:///etc/passwd; }'
        ].join('\n')
      }
    }
  })
  const echo = async (req, res) => {
    const body = await readBody(req)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString() }))
  }
  other = await startHttpServer(echo)
  origin = await startHttpServer(async (req, res, url) => {
    if (url.pathname === '/to') {
      // /to?code=303&where=other|same
      const where = url.searchParams.get('where')
      const target = where === 'other' ? other.url('/echo') : '/echo'
      await readBody(req)
      res.writeHead(Number(url.searchParams.get('code') || 302), where === 'none' ? {} : { location: target })
      return res.end()
    }
    return echo(req, res)
  })
  client = new Client()
})

after(async () => {
  if (client) client.close()
  if (nginx) await nginx.stop()
  if (origin) await origin.close()
  if (other) await other.close()
})

async function codeOf (promise) {
  try {
    const res = await promise
    return `resolved with ${res.status}`
  } catch (err) {
    return err.code
  }
}

describe('follow (the default)', () => {
  for (const code of [301, 302, 307]) {
    test(`follows a ${code} from nginx; url and redirected describe the end`, async () => {
      const res = await client.fetch(nginx.url('web', `/r${code}`))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hello\n')
      assert.equal(res.redirected, true)
      assert.equal(res.url, nginx.url('web', code === 301 ? '/hello?from=301' : '/hello'))
    })
  }

  test('follows a chain', async () => {
    const res = await client.fetch(nginx.url('web', '/chain1'))
    assert.equal(res.status, 200)
    assert.equal(res.url, nginx.url('web', '/hello'))
  })

  test('a response that is not a redirect has redirected: false', async () => {
    const res = await client.fetch(nginx.url('web', '/hello'))
    assert.equal(res.redirected, false)
    assert.equal(res.url, nginx.url('web', '/hello'))
  })

  test('a 3xx without Location is the response', async () => {
    const res = await client.fetch(origin.url('/to?code=301&where=none'))
    assert.equal(res.status, 301)
    assert.equal(res.redirected, false)
  })
})

describe('maximum', () => {
  test('more redirects than maxRedirects is ERR_TOO_MANY_REDIRECTS', async () => {
    assert.equal(await codeOf(client.fetch(nginx.url('web', '/chain1'), { maxRedirects: 2 })), 'ERR_TOO_MANY_REDIRECTS')
  })

  test('exactly maxRedirects is fine', async () => {
    const res = await client.fetch(nginx.url('web', '/chain1'), { maxRedirects: 3 })
    assert.equal(res.status, 200)
  })

  test('a loop ends at the default maximum (20)', async () => {
    const err = await client.fetch(nginx.url('web', '/loop')).then(() => null, (e) => e)
    assert.ok(err, 'expected a rejection')
    assert.equal(err.code, 'ERR_TOO_MANY_REDIRECTS')
    assert.equal(err.url, nginx.url('web', '/loop'))
  })

  test('the default maximum is exactly 20: 20 redirects are followed, the 21st is refused', async () => {
    // /n/<k> redirects to /n/<k-1>; /n/0 answers.
    const chain = await startHttpServer((req, res, url) => {
      const k = Number(url.pathname.split('/')[2])
      if (k === 0) return res.end('end')
      res.writeHead(302, { location: `/n/${k - 1}` })
      res.end()
    })
    try {
      const res = await client.fetch(chain.url('/n/20'))
      assert.equal(await res.text(), 'end')
      assert.equal(chain.requests.length, 21)
      chain.requests.length = 0
      assert.equal(await codeOf(client.fetch(chain.url('/n/21'))), 'ERR_TOO_MANY_REDIRECTS')
      // The first request and the 20 redirects followed; /n/0 is never asked for.
      assert.equal(chain.requests.length, 21)
      assert.equal(chain.requests.at(-1).url, '/n/1')
    } finally {
      await chain.close()
    }
  })

  test('maxRedirects: 0 refuses the first one', async () => {
    assert.equal(await codeOf(client.fetch(nginx.url('web', '/r302'), { maxRedirects: 0 })), 'ERR_TOO_MANY_REDIRECTS')
  })
})

describe('modes', () => {
  test('manual returns the 3xx as it is', async () => {
    const res = await client.fetch(nginx.url('web', '/r301'), { redirect: 'manual' })
    assert.equal(res.status, 301)
    assert.equal(res.redirected, false)
    assert.equal(res.url, nginx.url('web', '/r301'))
    assert.match(res.headers.get('location'), /\/hello\?from=301$/)
  })

  test('error fails on any redirect', async () => {
    assert.equal(await codeOf(client.fetch(nginx.url('web', '/r302'), { redirect: 'error' })), 'ERR_TOO_MANY_REDIRECTS')
    const plain = await client.fetch(nginx.url('web', '/hello'), { redirect: 'error' })
    assert.equal(plain.status, 200)
  })

  test('an unknown mode is refused before sending', async () => {
    await assert.rejects(client.fetch(nginx.url('web', '/hello'), { redirect: 'sometimes' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })
})

describe('what a redirect does to the request', () => {
  const post = (url) => ({
    url,
    method: 'POST',
    body: 'the body',
    headers: { 'content-type': 'text/plain' }
  })

  for (const code of [301, 302, 303]) {
    test(`${code} after POST becomes a GET without body`, async () => {
      const res = await client.fetch(post(origin.url(`/to?code=${code}`)))
      const seen = await res.json()
      assert.equal(seen.method, 'GET')
      assert.equal(seen.body, '')
      assert.equal(seen.headers['content-type'], undefined)
      assert.equal(seen.headers['content-length'], undefined)
    })
  }

  for (const code of [307, 308]) {
    test(`${code} keeps the method and the body`, async () => {
      const res = await client.fetch(post(origin.url(`/to?code=${code}`)))
      const seen = await res.json()
      assert.equal(seen.method, 'POST')
      assert.equal(seen.body, 'the body')
      assert.equal(seen.headers['content-type'], 'text/plain')
    })
  }

  test('303 after PUT becomes GET too; 302 after PUT stays PUT', async () => {
    const put = { url: origin.url('/to?code=303'), method: 'PUT', body: 'x' }
    assert.equal((await (await client.fetch(put)).json()).method, 'GET')
    const put302 = { url: origin.url('/to?code=302'), method: 'PUT', body: 'x' }
    const seen = await (await client.fetch(put302)).json()
    assert.equal(seen.method, 'PUT')
    assert.equal(seen.body, 'x')
  })

  const secrets = {
    authorization: 'Bearer secret',
    cookie: 'session=secret',
    'proxy-authorization': 'Basic c2VjcmV0',
    'x-custom': 'kept'
  }

  test('credentials stay on their origin', async () => {
    const res = await client.fetch({ url: origin.url('/to?where=same'), headers: secrets })
    const seen = await res.json()
    assert.equal(seen.headers.authorization, secrets.authorization)
    assert.equal(seen.headers.cookie, secrets.cookie)
    assert.equal(seen.headers['proxy-authorization'], secrets['proxy-authorization'])
  })

  test('Authorization, Cookie and Proxy-Authorization are dropped when leaving the origin', async () => {
    const res = await client.fetch({ url: origin.url('/to?where=other'), headers: secrets })
    assert.equal(res.url, other.url('/echo'))
    const seen = await res.json()
    assert.equal(seen.headers.authorization, undefined)
    assert.equal(seen.headers.cookie, undefined)
    assert.equal(seen.headers['proxy-authorization'], undefined)
    assert.equal(seen.headers['x-custom'], 'kept')
  })

  test('the same host on another port is another origin', async () => {
    // `other` differs from `origin` by port alone.
    assert.equal(new URL(other.url()).hostname, new URL(origin.url()).hostname)
    const seen = await (await client.fetch({ url: origin.url('/to?where=other'), headers: secrets })).json()
    assert.equal(seen.headers.cookie, undefined)
  })
})

describe('targets', () => {
  test('a redirect to ftp: is an error', async () => {
    assert.equal(await codeOf(client.fetch(nginx.url('web', '/ftp'))), 'ERR_INVALID_URL_SCHEME')
  })

  test('a redirect to file: is an error', async () => {
    assert.equal(await codeOf(client.fetch(nginx.url('web', '/file'))), 'ERR_INVALID_URL_SCHEME')
  })

  test('manual mode hands such a redirect over untouched', async () => {
    const res = await client.fetch(nginx.url('web', '/file'), { redirect: 'manual' })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), 'file:///etc/passwd')
  })
})
