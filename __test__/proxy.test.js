'use strict'

// Forward proxies, with tinyproxy in front of nginx: plain forwarding for
// http (absolute-form request line), CONNECT tunnels for https, Basic
// credentials from the proxy URL, NO_PROXY, the environment, and each failure
// as ERR_PROXY. tinyproxy marks what it forwards with a Via header and logs
// each request line, which is how the tests tell proxied from direct.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { makeCerts } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { startTinyproxy } = require('./support/tinyproxy')
const { freePorts } = require('./support/ports')
const { clientTracker } = require('./support/clients')

// tinyproxy's BasicAuth takes [-a-z0-9._] only.
const AUTH = { user: 'fetch', password: 'se.cret-1' }

let certs
let nginx
let open
let guarded
let closedPort

const { client, closeAll } = clientTracker()

before(async () => {
  certs = makeCerts()
  const hello = 'location = /hello { return 200 "hello $server_protocol\\n"; }'
  nginx = await startNginx({
    servers: {
      web: { config: hello },
      tls: { ssl: certs.server, http2: true, config: hello },
      // A TLS port the proxies do not allow CONNECT to.
      tlsBlocked: { ssl: certs.server, config: hello }
    }
  })
  open = await startTinyproxy({ connectPorts: [nginx.port('tls')] })
  guarded = await startTinyproxy({ connectPorts: [nginx.port('tls')], auth: AUTH })
  ;[closedPort] = await freePorts(1)
})

after(async () => {
  closeAll()
  if (open) await open.stop()
  if (guarded) await guarded.stop()
  if (nginx) await nginx.stop()
  if (certs) certs.remove()
})

async function codeOf (promise) {
  try {
    const res = await promise
    return `resolved with ${res.status}`
  } catch (err) {
    return err.code
  }
}

const viaProxy = (res) => (res.headers.get('via') || '').includes(open.via)

describe('explicit proxy URL', () => {
  test('http is forwarded with an absolute-form request line', async () => {
    const url = nginx.url('web', '/hello?q=1')
    const res = await client({ proxy: open.url }).fetch(url)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'hello HTTP/1.1\n')
    assert.equal(res.url, url)
    assert.ok(viaProxy(res), `via: ${res.headers.get('via')}`)
    assert.ok(open.requests().includes(`GET ${url} HTTP/1.1`), open.requests().join('\n'))
  })

  test('https goes through a CONNECT tunnel, and HTTP/2 works inside it', async () => {
    const url = nginx.url('tls', '/hello')
    const before = open.requests().filter((r) => r.startsWith('CONNECT')).length
    const res = await client({ proxy: open.url, ca: certs.ca.pem }).fetch(url)
    assert.equal(res.status, 200)
    assert.equal(res.httpVersion, '2')
    assert.equal(viaProxy(res), false, 'a tunnel is end to end')
    const connects = open.requests().filter((r) => r === `CONNECT 127.0.0.1:${nginx.port('tls')} HTTP/1.1`)
    assert.equal(connects.length, before + 1)
  })

  test('certificates are still checked end to end through the tunnel', async () => {
    const res = client({ proxy: open.url }).fetch(nginx.url('tls', '/hello'))
    assert.equal(await codeOf(res), 'ERR_TLS_CERT')
  })

  test('many requests through the proxy', async () => {
    const c = client({ proxy: open.url, ca: certs.ca.pem })
    const urls = []
    for (let i = 0; i < 40; i++) urls.push(nginx.url(i % 2 ? 'tls' : 'web', `/hello?i=${i}`))
    const results = await c.gather(urls, { concurrency: 16, timeout: 20000 })
    assert.equal(results.length, 40)
    assert.ok(results.every((r) => r.status === 200))
  })
})

describe('credentials from the proxy URL', () => {
  test('Proxy-Authorization: Basic for forwarded http', async () => {
    const res = await client({ proxy: guarded.urlWithAuth }).fetch(nginx.url('web', '/hello'))
    assert.equal(res.status, 200)
    assert.ok((res.headers.get('via') || '').includes(guarded.via))
  })

  test('and on the CONNECT for https', async () => {
    const res = await client({ proxy: guarded.urlWithAuth, ca: certs.ca.pem }).fetch(nginx.url('tls', '/hello'))
    assert.equal(res.status, 200)
  })

  test('without them the proxy answers 407: ERR_PROXY, for http and https', async () => {
    const c = client({ proxy: guarded.url, ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('web', '/hello'))), 'ERR_PROXY')
    assert.equal(await codeOf(c.fetch(nginx.url('tls', '/hello'))), 'ERR_PROXY')
  })

  test('wrong credentials: ERR_PROXY for https, the proxy\'s answer for http', async () => {
    const wrong = guarded.url.replace('http://', 'http://fetch:nope@')
    const c = client({ proxy: wrong, ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('tls', '/hello'))), 'ERR_PROXY')
    // tinyproxy answers wrong credentials with 401, not 407; a forwarded
    // request cannot tell that 401 from the origin's, so it is the response.
    assert.equal(await codeOf(c.fetch(nginx.url('web', '/hello'))), 'resolved with 401')
  })

  test('an invalid proxy option does not echo the password', () => {
    try {
      new Client({ proxy: 'socks5://user:hunter2@127.0.0.1:1080' })
      assert.fail('expected a throw')
    } catch (err) {
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE')
      assert.ok(!String(err.message).includes('hunter2'))
    }
  })
})

describe('failures are ERR_PROXY', () => {
  test('the proxy refuses the connection', async () => {
    const c = client({ proxy: `http://127.0.0.1:${closedPort}`, ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('web', '/hello'))), 'ERR_PROXY')
    assert.equal(await codeOf(c.fetch(nginx.url('tls', '/hello'))), 'ERR_PROXY')
  })

  test('the proxy rejects the CONNECT (port not allowed)', async () => {
    const c = client({ proxy: open.url, ca: certs.ca.pem })
    const err = await c.fetch(nginx.url('tlsBlocked', '/hello')).then(() => null, (e) => e)
    assert.ok(err, 'expected a rejection')
    assert.equal(err.code, 'ERR_PROXY')
    assert.equal(err.url, nginx.url('tlsBlocked', '/hello'))
  })
})

describe('{ http, https, noProxy }', () => {
  test('only http set: https goes direct', async () => {
    const c = client({ proxy: { http: open.url }, ca: certs.ca.pem })
    const before = open.requests().length
    const res = await c.fetch(nginx.url('tls', '/hello'))
    assert.equal(res.status, 200)
    assert.equal(open.requests().length, before)
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
  })

  test('only https set: http goes direct', async () => {
    const c = client({ proxy: { https: open.url }, ca: certs.ca.pem })
    assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false)
    const before = open.requests().length
    await c.fetch(nginx.url('tls', '/hello'))
    assert.equal(open.requests().length, before + 1)
  })

  test('noProxy (string or list) sends matching hosts direct', async () => {
    const c = client({ proxy: { http: open.url, noProxy: 'example.invalid, 127.0.0.0/8' } })
    assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false)
    const d = client({ proxy: { http: open.url, noProxy: ['example.invalid', '127.0.0.1'] } })
    assert.equal(viaProxy(await d.fetch(nginx.url('web', '/hello'))), false)
    const e = client({ proxy: { http: open.url, noProxy: 'example.invalid' } })
    assert.ok(viaProxy(await e.fetch(nginx.url('web', '/hello'))))
  })

  test('a URL object is a proxy URL; http: false or https: false goes direct', async () => {
    const c = client({ proxy: new URL(open.url) })
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
    const d = client({ proxy: { http: false, https: open.url }, ca: certs.ca.pem })
    assert.equal(viaProxy(await d.fetch(nginx.url('web', '/hello'))), false)
    const e = client({ proxy: { http: open.url, https: false }, ca: certs.ca.pem })
    const before = open.requests().length
    assert.equal((await e.fetch(nginx.url('tls', '/hello'))).status, 200)
    assert.equal(open.requests().length, before)
  })

  test('null for http, https or noProxy is the same as leaving it out', async () => {
    const c = client({ proxy: { http: null, https: open.url }, ca: certs.ca.pem })
    assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false)
    const d = client({ proxy: { http: open.url, https: null }, ca: certs.ca.pem })
    const before = open.requests().length
    assert.equal((await d.fetch(nginx.url('tls', '/hello'))).status, 200)
    assert.equal(open.requests().length, before)
    const e = client({ proxy: { http: open.url, noProxy: null } })
    assert.ok(viaProxy(await e.fetch(nginx.url('web', '/hello'))))
  })

  test('host:port alone is an http proxy; a scheme counts only at the start', async () => {
    const hostPort = open.url.slice('http://'.length)
    assert.ok(viaProxy(await client({ proxy: hostPort }).fetch(nginx.url('web', '/hello'))))
    assert.ok(viaProxy(await client({ proxy: `${hostPort}/a://b` }).fetch(nginx.url('web', '/hello'))))
  })

  test("noProxy '*' sends everything direct", async () => {
    const c = client({ proxy: { http: open.url, noProxy: '*' } })
    assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false)
  })

  test('bad values are refused before anything is sent', () => {
    assert.throws(() => new Client({ proxy: 42 }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => new Client({ proxy: 'https://127.0.0.1:1' }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ proxy: 'http://' }), { code: 'ERR_INVALID_ARG_VALUE' })
    // A scheme whose `//` is missing or cut short: not a host named `http`.
    for (const broken of ['http:/127.0.0.1:8080', 'http:127.0.0.1:8080', 'HTTP:u:QQ@127.0.0.1:8080', 'https:/proxy.test', 'socks5:proxy.test:1080']) {
      assert.throws(() => new Client({ proxy: broken }), (err) => err.code === 'ERR_INVALID_ARG_VALUE' && !err.message.includes('QQ'), broken)
    }
    assert.throws(() => new Client({ proxy: { htp: open.url } }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ proxy: { http: open.url, noProxy: 5 } }), { code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => new Client({ proxy: { http: open.url, noProxy: ['example.invalid', 5] } }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('the environment', () => {
  const NAMES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']

  /** A client made while the environment holds `vars` (and none of the others). */
  function clientWithEnv (vars, options = {}) {
    const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]))
    for (const n of NAMES) delete process.env[n]
    Object.assign(process.env, vars)
    try {
      return client(options)
    } finally {
      for (const n of NAMES) {
        if (saved[n] === undefined) delete process.env[n]
        else process.env[n] = saved[n]
      }
    }
  }

  test('HTTP_PROXY is used when `proxy` is not given', async () => {
    const c = clientWithEnv({ HTTP_PROXY: open.url })
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
  })

  test('lower case http_proxy wins over HTTP_PROXY', async () => {
    const c = clientWithEnv({ http_proxy: open.url, HTTP_PROXY: `http://127.0.0.1:${closedPort}` })
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
  })

  test('HTTPS_PROXY / https_proxy for https', async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy']) {
      const c = clientWithEnv({ [name]: open.url }, { ca: certs.ca.pem })
      const before = open.requests().length
      assert.equal((await c.fetch(nginx.url('tls', '/hello'))).status, 200)
      assert.equal(open.requests().length, before + 1, name)
    }
  })

  test('NO_PROXY / no_proxy are honoured', async () => {
    for (const name of ['NO_PROXY', 'no_proxy']) {
      const c = clientWithEnv({ HTTP_PROXY: open.url, [name]: 'localhost,127.0.0.1' })
      assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false, name)
    }
  })

  test('proxy: false ignores the environment', async () => {
    const c = clientWithEnv({ HTTP_PROXY: `http://127.0.0.1:${closedPort}` }, { proxy: false })
    assert.equal((await c.fetch(nginx.url('web', '/hello'))).status, 200)
  })

  test('an empty http_proxy leaves HTTP_PROXY in force', async () => {
    const c = clientWithEnv({ http_proxy: '', HTTP_PROXY: open.url })
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
  })

  test('empty variables are no proxy, for http and https', async () => {
    const c = clientWithEnv({ HTTP_PROXY: '', HTTPS_PROXY: '' }, { ca: certs.ca.pem })
    assert.equal(viaProxy(await c.fetch(nginx.url('web', '/hello'))), false)
    const before = open.requests().length
    assert.equal((await c.fetch(nginx.url('tls', '/hello'))).status, 200)
    assert.equal(open.requests().length, before)
  })

  test('proxy: null ignores the environment too', async () => {
    const c = clientWithEnv({ HTTP_PROXY: `http://127.0.0.1:${closedPort}` }, { proxy: null })
    assert.equal((await c.fetch(nginx.url('web', '/hello'))).status, 200)
  })

  test('an explicit proxy wins over the environment', async () => {
    const c = clientWithEnv({ HTTP_PROXY: `http://127.0.0.1:${closedPort}` }, { proxy: open.url })
    assert.ok(viaProxy(await c.fetch(nginx.url('web', '/hello'))))
  })

  test('an unusable proxy in the environment is an error, not a silent direct connection', () => {
    assert.throws(() => clientWithEnv({ HTTP_PROXY: 'socks5://127.0.0.1:1080' }), { code: 'ERR_INVALID_ARG_VALUE' })
  })
})
