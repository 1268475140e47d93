'use strict'

// A long run: many requests through `stream`, through repeated `gather`, and
// through the same repeated loop on undici's `request`, each in its own
// process against one local nginx. At regular points each prints the
// JavaScript heap after a full collection and the RSS; at the end, the slope
// of each over the second half of the run (what a longer run would add),
// and the steady RSS of each client side by side.
//
//   npm run soak                           (from the repository root)
//   SOAK_COUNT=200000 SOAK_MODES=stream npm run soak
//
// Environment (defaults in brackets):
//   SOAK_COUNT        requests per mode [1000000]
//   SOAK_BATCH        URLs per gather call (and per undici loop) [1000]
//   SOAK_CONCURRENCY  requests in flight [64]
//   SOAK_SIZE         body bytes [1024]
//   SOAK_POINTS       points at which heap and RSS are printed [20]
//   SOAK_MODES        which modes run [stream,gather,undici]
//   SOAK_HEAP_MB      --max-old-space-size of each child, if set [unset]
//   BENCH_FETCHPOOL   folder of the fetchpool module under test [the repo]
//   BENCH_NGINX       the nginx binary [found on PATH]

const path = require('node:path')
const { spawn } = require('node:child_process')
const { startNginx } = require('./nginx')

const MODES = ['stream', 'gather', 'undici']

function intEnv (name, fallback) {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return n
}

function settings () {
  const modes = (process.env.SOAK_MODES || MODES.join(',')).split(',').map((s) => s.trim()).filter(Boolean)
  for (const m of modes) if (!MODES.includes(m)) throw new RangeError(`unknown mode ${m}; known: ${MODES.join(', ')}`)
  return {
    count: intEnv('SOAK_COUNT', 1_000_000),
    batch: intEnv('SOAK_BATCH', 1000),
    concurrency: intEnv('SOAK_CONCURRENCY', 64),
    size: intEnv('SOAK_SIZE', 1024),
    points: intEnv('SOAK_POINTS', 20),
    heapMb: process.env.SOAK_HEAP_MB ? intEnv('SOAK_HEAP_MB', 0) : null,
    modes
  }
}

/** Least-squares slope of `y` over `x`. */
function slope (points, key) {
  const n = points.length
  if (n < 2) return NaN
  const mx = points.reduce((s, p) => s + p.done, 0) / n
  const my = points.reduce((s, p) => s + p[key], 0) / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.done - mx) * (p[key] - my)
    den += (p.done - mx) ** 2
  }
  return num / den
}

function runMode (mode, cfg, url) {
  return new Promise((resolve) => {
    const args = ['--expose-gc']
    if (cfg.heapMb) args.push(`--max-old-space-size=${cfg.heapMb}`)
    args.push(path.join(__dirname, 'soak-client.js'))
    const env = {
      ...process.env,
      SOAK_MODE: mode,
      SOAK_URL: url,
      SOAK_COUNT: String(cfg.count),
      SOAK_BATCH: String(cfg.batch),
      SOAK_CONCURRENCY: String(cfg.concurrency),
      SOAK_SIZE: String(cfg.size),
      SOAK_POINTS: String(cfg.points)
    }
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
    const points = []
    let buffered = ''
    let summary = null
    child.stdout.on('data', (d) => {
      buffered += d
      const lines = buffered.split('\n')
      buffered = lines.pop()
      for (const line of lines) {
        const msg = JSON.parse(line)
        if (msg.done !== undefined) {
          points.push(msg)
          console.error(`soak: ${mode} ${msg.done.toLocaleString('en-US')} done: heap ${mib(msg.heap)} MiB, RSS ${mib(msg.rss)} MiB, ${Math.round(msg.rps)} req/s`)
        } else summary = msg
      }
    })
    child.on('exit', (code, signal) => resolve({ mode, points, summary, failed: code !== 0 ? `exited with ${signal || code}` : null }))
  })
}

const mib = (bytes) => (bytes / 1048576).toFixed(1)

function report (cfg, runs) {
  const lines = []
  lines.push(`${cfg.count.toLocaleString('en-US')} requests × ${cfg.size} B per mode, concurrency ${cfg.concurrency}, ${cfg.batch} URLs per gather call or undici loop${cfg.heapMb ? `, --max-old-space-size=${cfg.heapMb}` : ''}.`)
  lines.push('Heap is heapUsed after a full collection; slopes are least-squares over the second half of the run, in bytes per 1,000 requests; steady RSS is the median over that half.')
  lines.push('')
  lines.push('| mode | req/s | CPU s | heap start → end MiB | heap slope B/1k req | RSS start → end MiB | steady RSS MiB | RSS slope B/1k req | |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const r of runs) {
    const p = r.points
    if (p.length === 0) {
      lines.push(`| ${r.mode} | | | | | | | | ${r.failed || 'no points'} |`)
      continue
    }
    const half = p.slice(Math.floor(p.length / 2))
    const rss = half.map((x) => x.rss).sort((a, b) => a - b)[half.length >> 1]
    const s = r.summary || {}
    lines.push(`| ${r.mode} | ${s.rps ? Math.round(s.rps).toLocaleString('en-US') : '–'} | ${s.cpuSeconds ? s.cpuSeconds.toFixed(1) : '–'} | ${mib(p[0].heap)} → ${mib(p[p.length - 1].heap)} | ${Math.round(slope(half, 'heap') * 1000)} | ${mib(p[0].rss)} → ${mib(p[p.length - 1].rss)} | ${mib(rss)} | ${Math.round(slope(half, 'rss') * 1000)} | ${r.failed || ''} |`)
  }
  return lines.join('\n')
}

async function main () {
  const cfg = settings()
  const nginx = await startNginx({ files: { 'soak.bin': cfg.size } })
  const runs = []
  try {
    for (const mode of cfg.modes) runs.push(await runMode(mode, cfg, nginx.url('soak.bin')))
  } finally {
    await nginx.stop()
  }
  process.stdout.write(report(cfg, runs) + '\n')
  if (runs.some((r) => r.failed)) process.exitCode = 1
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exitCode = 1
})
