'use strict'

// Proxies that must never go direct, and what reaches them: a small Node
// server plays the proxy and answers every forwarded request itself, so a
// request that reaches the target instead went direct. Proxy URLs that the
// URL parser accepts but a stricter reader would not (stray whitespace,
// spaces, quotes or a second `@` in the user info) are used as the URL
// parser reads them; httpoxy (a CGI's HTTP_PROXY) is ignored; user info in a
// request's URL never reaches the request line.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')
const { clientTracker } = require('./support/clients')
const { startHttpServer } = require('./support/http-server')

const NAMES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'REQUEST_METHOD']

let proxy
let target
const clients = clientTracker()

before(async () => {
  proxy = await startHttpServer((req, res) => res.end('proxied'))
  target = await startHttpServer((req, res) => res.end('direct'))
})

after(async () => {
  clients.closeAll()
  if (proxy) await proxy.close()
  if (target) await target.close()
})

/** A client made while the environment holds `vars` (and no other proxy variable). */
function clientWithEnv (vars, options) {
  const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]))
  for (const n of NAMES) delete process.env[n]
  Object.assign(process.env, vars)
  try {
    return clients.client(options)
  } finally {
    for (const n of NAMES) {
      if (saved[n] === undefined) delete process.env[n]
      else process.env[n] = saved[n]
    }
  }
}

/** Fetches the target; returns which server answered and what the proxy saw. */
async function fetchThrough (client, url = target.url('/x')) {
  const before = proxy.requests.length
  const body = await (await client.fetch(url)).text()
  return { body, seen: proxy.requests.slice(before) }
}

function basic (headers) {
  const value = headers['proxy-authorization']
  assert.ok(value && value.startsWith('Basic '), `proxy-authorization: ${value}`)
  return Buffer.from(value.slice(6), 'base64').toString('utf8')
}

describe('a proxy URL the URL parser accepts is used, never bypassed', () => {
  test('HTTP_PROXY with a trailing newline', async () => {
    const client = clientWithEnv({ HTTP_PROXY: `${proxy.url('')}\n` })
    const { body, seen } = await fetchThrough(client)
    assert.equal(body, 'proxied')
    assert.equal(seen[0].url, target.url('/x'))
  })

  for (const [name, given] of [
    ['a trailing space', () => `${proxy.url('')} `],
    ['a space, a quote, braces and a bar in the user info', () => proxy.url('').replace('://', '://us er:p"{|}ü@')]
  ]) {
    test(`the proxy option with ${name}`, async () => {
      const { body } = await fetchThrough(clients.client({ proxy: given() }))
      assert.equal(body, 'proxied')
    })
  }

  test('user info with odd characters reaches the proxy as given', async () => {
    const url = proxy.url('').replace('://', '://us er:p"{|}ü@')
    const { seen } = await fetchThrough(clients.client({ proxy: url }))
    assert.equal(basic(seen[0].headers), 'us er:p"{|}ü')
  })

  test('a password holding @ is sent whole', async () => {
    const url = proxy.url('').replace('://', '://user:p@ss@')
    const { body, seen } = await fetchThrough(clients.client({ proxy: url }))
    assert.equal(body, 'proxied')
    assert.equal(basic(seen[0].headers), 'user:p@ss')
  })

  test('a proxy that cannot be used is an error when the client is made', () => {
    for (const bad of ['http://127.0.0.1:99999', 'http://', 'socks5://127.0.0.1:1080']) {
      assert.throws(() => clients.client({ proxy: bad }), { code: 'ERR_INVALID_ARG_VALUE' }, bad)
      assert.throws(() => clientWithEnv({ HTTP_PROXY: bad }), { code: 'ERR_INVALID_ARG_VALUE' }, bad)
    }
  })

  test('an error about a proxy URL does not show its password', () => {
    for (const bad of ['http://user:pa/ss@127.0.0.1:99999', 'http://user:p@ss@127.0.0.1:99999']) {
      const err = (() => { try { clients.client({ proxy: bad }) } catch (e) { return e } })()
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE')
      assert.ok(!err.message.includes('pa/ss') && !err.message.includes('p@ss'), err.message)
    }
  })

  test('no character of a password shows in an error, whatever follows the host', () => {
    // No Q appears in the messages but for the password.
    for (const bad of [
      'http://u:QQQQ@127.0.0.1:99999',
      'http://u:QQQQ@127.0.0.1:99999/?q=1',
      'http://u:QQQQ@127.0.0.1:99999#f',
      'socks5://u:QQQQ@127.0.0.1:1080'
    ]) {
      const err = (() => { try { clients.client({ proxy: bad }) } catch (e) { return e } })()
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE', bad)
      assert.ok(!err.message.includes('Q'), err.message)
    }
  })

  test('no character of a password shows in an error, with or without a scheme', () => {
    // No Q appears in an error but for the password; inspect() shows the
    // message, the stack, every own property and the cause. The stack's
    // frames name files, whose paths may hold a Q, and are left out.
    const forms = [
      'u:QQQQ@127.0.0.1:99999',
      'u:QQQQ@127.0.0.1:99999/?q=1',
      'u:QQQQ@127.0.0.1:99999#f',
      ':QQQQ@127.0.0.1:99999',
      'u:QQ/QQ@127.0.0.1:99999',
      'u:QQ@QQ@127.0.0.1:99999',
      'u:QQ#QQ@127.0.0.1:99999',
      'u:QQ?QQ@127.0.0.1:99999',
      'u:QQQQ@127.0.0.1:99999/?a@b#c@d',
      'u:QQQQ@',
      'u:QQQQ@[::1',
      ' u:QQQQ@127.0.0.1:99999',
      'http://u:QQ#QQ@127.0.0.1:99999',
      'http://u:QQ?QQ@127.0.0.1:99999',
      'http://u:QQ/QQ@[::1',
      'socks5://u:QQ#QQ@127.0.0.1:1080'
    ]
    const shown = (err) => inspect(err, { depth: 5 })
      .split('\n').filter((line) => !/^\s+at /.test(line)).join('\n')
    for (const bad of forms) {
      const fromOption = (() => { try { clients.client({ proxy: bad }) } catch (e) { return e } })()
      assert.equal(fromOption && fromOption.code, 'ERR_INVALID_ARG_VALUE', bad)
      assert.ok(!shown(fromOption).includes('Q'), shown(fromOption))
      for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY']) {
        const fromEnv = (() => { try { clientWithEnv({ [name]: bad }) } catch (e) { return e } })()
        assert.equal(fromEnv && fromEnv.code, 'ERR_INVALID_ARG_VALUE', `${name}=${bad}`)
        assert.ok(!shown(fromEnv).includes('Q'), shown(fromEnv))
      }
    }
  })
})

describe('httpoxy: in a CGI program (REQUEST_METHOD set)', () => {
  test('upper-case HTTP_PROXY is ignored', async () => {
    const client = clientWithEnv({ REQUEST_METHOD: 'GET', HTTP_PROXY: proxy.url('') })
    const { body, seen } = await fetchThrough(client)
    assert.equal(body, 'direct')
    assert.equal(seen.length, 0)
  })

  test('lower-case http_proxy still counts', async () => {
    const client = clientWithEnv({ REQUEST_METHOD: 'GET', http_proxy: proxy.url('') })
    assert.equal((await fetchThrough(client)).body, 'proxied')
  })

  test('outside CGI, HTTP_PROXY counts', async () => {
    const client = clientWithEnv({ HTTP_PROXY: proxy.url('') })
    assert.equal((await fetchThrough(client)).body, 'proxied')
  })
})

describe('user info in a request URL', () => {
  test('never reaches the proxy\'s request line nor its headers', async () => {
    const client = clients.client({ proxy: proxy.url('') })
    const url = target.url('/x').replace('://', '://user:secret@')
    const { body, seen } = await fetchThrough(client, url)
    assert.equal(body, 'proxied')
    assert.equal(seen[0].url, target.url('/x'))
    assert.equal(seen[0].headers.authorization, undefined)
    assert.ok(!JSON.stringify(seen[0]).includes('secret'))
  })
})
