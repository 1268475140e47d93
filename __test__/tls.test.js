'use strict'

// TLS against nginx with certificates made at test time: a trusted `ca`,
// rejectUnauthorized: false, and each certificate failure (untrusted, expired,
// wrong host) as ERR_TLS_CERT; other handshake failures as ERR_TLS.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { Client } = require('..')
const { makeCerts } = require('./support/certs')
const { startNginx } = require('./support/nginx')
const { clientTracker } = require('./support/clients')

let certs
let nginx

const { client, closeAll } = clientTracker()

before(async () => {
  certs = makeCerts()
  const hello = 'location = /hello { return 200 "hello over tls\\n"; }'
  nginx = await startNginx({
    servers: {
      good: { ssl: certs.server, http2: true, config: hello },
      expired: { ssl: certs.expired, config: hello },
      wrongHost: { ssl: certs.wrongHost, config: hello },
      stranger: { ssl: certs.stranger, config: hello },
      selfSigned: { ssl: certs.selfSigned, config: hello },
      selfSignedWrongHost: { ssl: certs.selfSignedWrongHost, config: hello },
      selfSignedExpired: { ssl: certs.selfSignedExpired, config: hello },
      // TLS 1.2 with only a CBC suite: rustls offers none it accepts.
      cbcOnly: {
        ssl: certs.server,
        config: `ssl_protocols TLSv1.2; ssl_ciphers ECDHE-ECDSA-AES128-SHA; ${hello}`
      },
      plain: { config: hello }
    }
  })
})

after(async () => {
  closeAll()
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

describe('trusted certificates', () => {
  test('a certificate from the `ca` given (string) is trusted', async () => {
    const res = await client({ ca: certs.ca.pem }).fetch(nginx.url('good', '/hello'))
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'hello over tls\n')
  })

  test('`ca` also takes a Buffer and an array', async () => {
    const fromBuffer = await client({ ca: fs.readFileSync(certs.ca.cert) }).fetch(nginx.url('good', '/hello'))
    assert.equal(fromBuffer.status, 200)
    const fromList = await client({ ca: [certs.otherCa.pem, certs.ca.pem] }).fetch(nginx.url('good', '/hello'))
    assert.equal(fromList.status, 200)
  })

  test('`ca` adds to the roots: the system and webpki roots stay', async () => {
    // With only our CA the stranger (signed by another CA) is refused, and
    // with both it is accepted: roots add up rather than replace each other.
    const both = client({ ca: [certs.ca.pem, certs.otherCa.pem] })
    assert.equal((await both.fetch(nginx.url('stranger', '/hello'))).status, 200)
    assert.equal((await both.fetch(nginx.url('good', '/hello'))).status, 200)
  })

  test('the system store (here: SSL_CERT_FILE, read by rustls-native-certs) and NODE_EXTRA_CA_CERTS are trusted', async () => {
    // The system roots are read once per process, so this runs in a child
    // whose "system store" is our CA.
    const script = `
      const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
      const c = new Client()
      c.fetch(process.argv[1]).then(
        (res) => { console.log(res.status); c.close() },
        (err) => { console.log(err.code); c.close() })`
    const run = (env) => new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', script, nginx.url('good', '/hello')], { env, timeout: 20000 }, (err, stdout) => {
        if (err) reject(err)
        else resolve(stdout.trim())
      })
    })
    assert.equal(await run({ ...process.env, SSL_CERT_FILE: certs.ca.cert }), '200')
    assert.equal(await run({ ...process.env, SSL_CERT_FILE: certs.otherCa.cert }), 'ERR_TLS_CERT')
    // NODE_EXTRA_CA_CERTS adds to the roots, as it does for Node's own https;
    // a file that cannot be read adds nothing.
    assert.equal(await run({ ...process.env, NODE_EXTRA_CA_CERTS: certs.ca.cert }), '200')
    assert.equal(await run({ ...process.env, NODE_EXTRA_CA_CERTS: certs.otherCa.cert }), 'ERR_TLS_CERT')
    assert.equal(await run({ ...process.env, NODE_EXTRA_CA_CERTS: path.join(certs.dir, 'missing.pem') }), 'ERR_TLS_CERT')
  })

  test('a `ca` that is not PEM is refused before anything is sent', () => {
    assert.throws(() => new Client({ ca: 'not a certificate' }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.throws(() => new Client({ ca: 42 }), { code: 'ERR_INVALID_ARG_TYPE' })
    // Bytes come as a string or a Uint8Array; another view of them is refused.
    const view = new DataView(new TextEncoder().encode(certs.ca.pem).buffer)
    assert.throws(() => new Client({ ca: view }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('certificate failures are ERR_TLS_CERT', () => {
  test('untrusted: no `ca` for our authority', async () => {
    assert.equal(await codeOf(client().fetch(nginx.url('good', '/hello'))), 'ERR_TLS_CERT')
  })

  test('untrusted: signed by an authority the client does not know', async () => {
    const c = client({ ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('stranger', '/hello'))), 'ERR_TLS_CERT')
  })

  test('expired', async () => {
    const c = client({ ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('expired', '/hello'))), 'ERR_TLS_CERT')
  })

  test('wrong host', async () => {
    const c = client({ ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('wrongHost', '/hello'))), 'ERR_TLS_CERT')
  })

  test('the error carries url and attempts, and is not retried by default', async () => {
    const c = client({ ca: certs.ca.pem })
    const url = nginx.url('expired', '/hello')
    const err = await c.fetch(url, { retry: 3 }).then(() => null, (e) => e)
    assert.ok(err, 'expected a rejection')
    assert.equal(err.code, 'ERR_TLS_CERT')
    assert.equal(err.url, url)
    assert.equal(err.attempts, 1)
  })
})

describe('rejectUnauthorized: false', () => {
  test('accepts untrusted, expired and wrong-host certificates', async () => {
    const c = client({ rejectUnauthorized: false })
    for (const name of ['good', 'stranger', 'expired', 'wrongHost']) {
      const res = await c.fetch(nginx.url(name, '/hello'))
      assert.equal(res.status, 200, name)
      assert.equal(await res.text(), 'hello over tls\n')
    }
  })

  test('still fails a handshake that cannot complete', async () => {
    const c = client({ rejectUnauthorized: false })
    assert.equal(await codeOf(c.fetch(nginx.url('cbcOnly', '/hello'))), 'ERR_TLS')
  })

  test('must be a boolean', () => {
    assert.throws(() => new Client({ rejectUnauthorized: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' })
  })
})

describe('other handshake failures are ERR_TLS', () => {
  test('no cipher suite in common', async () => {
    const c = client({ ca: certs.ca.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('cbcOnly', '/hello'))), 'ERR_TLS')
  })

  test('https to a port that speaks plain http', async () => {
    const c = client({ ca: certs.ca.pem })
    const url = `https://127.0.0.1:${nginx.port('plain')}/hello`
    assert.equal(await codeOf(c.fetch(url)), 'ERR_TLS')
  })
})

describe('`resolve` with TLS keeps the name of the URL', () => {
  test('SNI and the certificate check use the URL host, not the address dialled', async () => {
    const port = nginx.port('good')
    const c = client({ ca: certs.ca.pem, resolve: { [`example.test:${port}`]: `127.0.0.1:${port}` } })
    const res = await c.fetch(`https://example.test:${port}/hello`)
    assert.equal(res.status, 200)
    assert.equal(res.url, `https://example.test:${port}/hello`)
  })

  test('a name the certificate does not cover fails even though the address is right', async () => {
    const port = nginx.port('good')
    const c = client({ ca: certs.ca.pem, resolve: { [`wrong.test:${port}`]: '127.0.0.1' } })
    assert.equal(await codeOf(c.fetch(`https://wrong.test:${port}/hello`)), 'ERR_TLS_CERT')
  })

  test('and the name the certificate does cover succeeds on the wrong-host server', async () => {
    const port = nginx.port('wrongHost')
    const c = client({ ca: certs.ca.pem, resolve: { [`wrong.test:${port}`]: '127.0.0.1' } })
    const res = await c.fetch(`https://wrong.test:${port}/hello`)
    assert.equal(res.status, 200)
  })
})

// `openssl req -x509` marks the certificate it makes CA:TRUE; Node's https
// and `curl --cacert` accept such a certificate when it is given as `ca`.
describe('a self-signed server certificate given as `ca`', () => {
  test('is trusted as itself, over HTTP/1.1 and in auto mode', async () => {
    for (const http2 of ['off', 'auto']) {
      const res = await client({ ca: certs.selfSigned.pem, http2 }).fetch(nginx.url('selfSigned', '/hello'))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hello over tls\n')
    }
  })

  test('is trusted among other certificates, and beside a private authority', async () => {
    const c = client({ ca: [certs.ca.pem, certs.selfSignedOther.pem, certs.selfSigned.pem] })
    assert.equal((await c.fetch(nginx.url('selfSigned', '/hello'))).status, 200)
    assert.equal((await c.fetch(nginx.url('good', '/hello'))).status, 200)
  })

  test('another self-signed certificate is not trusted for it', async () => {
    const c = client({ ca: certs.selfSignedOther.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('selfSigned', '/hello'))), 'ERR_TLS_CERT')
  })

  test('its name must still match the host', async () => {
    const c = client({ ca: certs.selfSignedWrongHost.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('selfSignedWrongHost', '/hello'))), 'ERR_TLS_CERT')
  })

  test('it must still be within its dates', async () => {
    const c = client({ ca: certs.selfSignedExpired.pem })
    assert.equal(await codeOf(c.fetch(nginx.url('selfSignedExpired', '/hello'))), 'ERR_TLS_CERT')
  })

  test('without it, the server is not trusted', async () => {
    assert.equal(await codeOf(client().fetch(nginx.url('selfSigned', '/hello'))), 'ERR_TLS_CERT')
    assert.equal(await codeOf(client({ ca: certs.ca.pem }).fetch(nginx.url('selfSigned', '/hello'))), 'ERR_TLS_CERT')
  })
})
