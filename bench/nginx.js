'use strict'

// A real nginx on 127.0.0.1 serving fixed files with keep-alive, in a private
// temporary prefix (config, pid, logs, temp paths), stopped when the bench ends.
// With `tls` ({ cert, key } file paths) it serves https (HTTP/1.1) instead,
// and with `tls.http2` HTTP/2 as well, chosen by ALPN.

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx']

function findNginx () {
  if (process.env.BENCH_NGINX) return process.env.BENCH_NGINX
  for (const candidate of NGINX_CANDIDATES) {
    if (fs.existsSync(candidate)) return candidate
  }
  return null
}

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function config ({ dir, port, workers, tls, extraListen = [], keepaliveRequests = 10000000, accessLog = null }) {
  const ssl = tls ? (tls.http2 ? ' ssl http2' : ' ssl') : ''
  const extra = extraListen.map((ip) => `\n    listen ${ip}:${port}${ssl};`).join('')
  const log = accessLog ? `log_format bench '${accessLog}';\n  access_log ${dir}/access.log bench;` : 'access_log off;'
  const user = process.getuid && process.getuid() === 0 ? 'user root;\n' : ''
  return `${user}worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
  multi_accept on;
}
http {
  ${log}
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests ${keepaliveRequests};
  open_file_cache max=64 inactive=300s;
  etag off;
  server {
    listen 127.0.0.1:${port} backlog=4096 reuseport${ssl};${extra}
    root ${dir}/www;${tls ? `
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_session_cache shared:bench:4m;` : ''}
  }
}
`
}

async function waitForPort (port, child, limitMs) {
  const deadline = Date.now() + limitMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}`)
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port} within ${limitMs} ms`)
}

/**
 * Starts nginx serving `files` (name → size in bytes). Returns
 * `{ port, url(name), workerPids(), stop() }`. `extraListen`: more addresses
 * served on the same port; `keepaliveRequests`: requests per connection;
 * `accessLog`: a log_format for `dir`/access.log (off by default).
 */
async function startNginx ({ files, workers = 1, tls = null, ...more }) {
  const bin = findNginx()
  if (bin === null) {
    const hint = process.getuid && process.getuid() === 0
      ? 'apt-get update && apt-get install -y nginx-light (or nginx)'
      : 'as root: apt-get install -y nginx-light (or nginx); or set BENCH_NGINX to an nginx binary'
    throw new Error(`nginx not found. Install it: ${hint}`)
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-bench-nginx-'))
  fs.mkdirSync(path.join(dir, 'www'))
  for (const [name, size] of Object.entries(files)) {
    const body = Buffer.alloc(size)
    for (let k = 0; k < size; k++) body[k] = 97 + (k % 26)
    fs.writeFileSync(path.join(dir, 'www', name), body)
  }
  const port = await freePort()
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config({ dir, port, workers, tls, ...more }))
  const test = spawnSync(bin, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' })
  if (test.status !== 0) throw new Error(`nginx rejected its config:\n${test.stderr}`)
  const child = spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitForPort(port, child, 5000)
  return {
    port,
    dir,
    url: (name) => `${tls ? 'https' : 'http'}://127.0.0.1:${port}/${name}`,
    /** The worker processes (children of the master), for CPU accounting. */
    workerPids () {
      try {
        return fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
      } catch {
        return []
      }
    },
    stop () {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => {
          fs.rmSync(dir, { recursive: true, force: true })
          resolve()
        })
        child.kill('SIGQUIT')
      })
    }
  }
}

/** utime+stime of `pids` in seconds, from /proc (0 where unreadable). */
function cpuSecondsOf (pids) {
  const tick = 100 // USER_HZ on Linux
  let total = 0
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / tick
    } catch { /* the process is gone */ }
  }
  return total
}

module.exports = { startNginx, cpuSecondsOf, findNginx }
