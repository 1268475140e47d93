'use strict'

// Runs Debian's tinyproxy as a forward proxy for a test file: plain forwarding
// for http, CONNECT for https. `connectPorts` limits the ports CONNECT may
// reach (tinyproxy answers 403 for others); `auth` turns on Basic
// credentials (407 without them). Responses it forwards carry
// `via: 1.1 fetchpool-test-proxy …`, and `requests()` reads its log of what it
// was asked, so tests can tell proxied traffic from direct traffic.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { requireProgram } = require('./certs')
const { freePorts } = require('./ports')
const { startDaemon, readText } = require('./daemon')

const VIA_NAME = 'fetchpool-test-proxy'

/** Returns `{ port, url, urlWithAuth, requests(), stop() }`. */
async function startTinyproxy ({ connectPorts = [], auth = null } = {}) {
  const bin = requireProgram('tinyproxy')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-tinyproxy-'))
  const [port] = await freePorts(1)
  const log = path.join(dir, 'tinyproxy.log')
  const conf = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 200',
    'Allow 127.0.0.1',
    'LogLevel Info',
    `LogFile "${log}"`,
    `PidFile "${dir}/tinyproxy.pid"`,
    `ViaProxyName "${VIA_NAME}"`,
    ...connectPorts.map((p) => `ConnectPort ${p}`),
    auth ? `BasicAuth ${auth.user} ${auth.password}` : '',
    ''
  ].join('\n')
  fs.writeFileSync(path.join(dir, 'tinyproxy.conf'), conf)
  const readLog = () => readText(log)
  const daemon = await startDaemon({
    name: 'tinyproxy',
    bin,
    args: ['-d', '-c', path.join(dir, 'tinyproxy.conf')],
    dir,
    ports: [port],
    log: readLog
  })
  const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : ''
  return {
    port,
    via: VIA_NAME,
    url: `http://127.0.0.1:${port}`,
    urlWithAuth: `http://${credentials}127.0.0.1:${port}`,
    /** Request lines the proxy logged, e.g. `CONNECT 127.0.0.1:443 HTTP/1.1`. */
    requests () {
      return [...readLog().matchAll(/Request \(file descriptor \d+\): (.*)$/gm)].map((m) => m[1].trim())
    },
    stop: () => daemon.stop()
  }
}

module.exports = { startTinyproxy }
