'use strict'

// Runs Debian's nginx for a test file: a config written into a temp dir, free
// loopback ports, `nginx -p DIR -c nginx.conf -g 'daemon off;'` as a child
// process, a wait until every server listens, and `stop()` for `after()`.
// A machine without nginx fails the test with a message saying how to get it.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { requireProgram } = require('./certs')
const { freePorts } = require('./ports')
const { startDaemon, readText } = require('./daemon')

/**
 * `options.servers` maps a name to `{ ssl?: {cert, key}, http2?: boolean,
 * config?: string }`; `options.files` maps a path under the document root to
 * its content (string or Buffer); `options.http` is extra config for the
 * `http` block. Returns `{ port(name), url(name, path), dir, root, stop() }`.
 */
async function startNginx (options) {
  const bin = requireProgram('nginx')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-nginx-'))
  const root = path.join(dir, 'www')
  fs.mkdirSync(root)
  for (const [file, content] of Object.entries(options.files || {})) {
    const target = path.join(root, file)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, content)
  }
  const names = Object.keys(options.servers)
  const ports = await freePorts(names.length)
  const portOf = Object.fromEntries(names.map((name, i) => [name, ports[i]]))
  const servers = names.map((name) => {
    const s = options.servers[name]
    const flags = [s.ssl ? 'ssl' : '', s.http2 ? 'http2' : ''].filter(Boolean).join(' ')
    return [
      '  server {',
      `    listen 127.0.0.1:${portOf[name]} ${flags};`,
      '    server_name _;',
      `    root ${root};`,
      s.ssl ? `    ssl_certificate ${s.ssl.cert};\n    ssl_certificate_key ${s.ssl.key};` : '',
      s.config || '',
      '  }'
    ].join('\n')
  })
  // One process (no master, no workers): nothing outlives a kill, and running
  // as root needs no `user` directive.
  const conf = [
    'master_process off;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  default_type application/octet-stream;',
    '  keepalive_requests 100000;',
    `  client_body_temp_path ${dir}/body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
    options.http || '',
    ...servers,
    '}',
    ''
  ].join('\n')
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf)

  const errorLog = () => readText(path.join(dir, 'error.log'))
  const daemon = await startDaemon({
    name: 'nginx',
    bin,
    args: ['-p', dir, '-c', 'nginx.conf', '-e', `${dir}/error.log`, '-g', 'daemon off;'],
    dir,
    ports,
    log: errorLog
  })
  return {
    dir,
    root,
    port: (name) => portOf[name],
    url: (name, p = '/') => `${options.servers[name].ssl ? 'https' : 'http'}://127.0.0.1:${portOf[name]}${p}`,
    errorLog,
    stop: () => daemon.stop()
  }
}

module.exports = { startNginx }
