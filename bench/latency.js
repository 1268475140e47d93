'use strict'

// Latency-bound runs: a server that answers each request after a fixed delay
// (delay_server.rs, or latency-server.js in Node; its own process), many
// requests at high concurrency.
// The ideal is Little's law, concurrency ÷ delay requests per second; each
// client's req/s is shown as a fraction of it, with its CPU. `raw` is a
// minimal keep-alive client on bare sockets: what the server and the machine
// allow at that connection count, the ceiling the others are held to.
// The Rust server also reports what it saw of each client: the connections
// it accepted and over how long (how fast the client opened them), how late
// it wrote responses past their due time (its own share of a round), and the
// client's turn, from a response written to the next request read on that
// connection (the client's share, with the kernel's). A round costs about
// delay + late + turn. The tallies cover the whole client process: with
// LAT_WARMUP, the warm-up too, and each kept connection's pause between the
// warm-up and the timed run counts as one long turn.
//
//   node bench/latency.js
//   LAT_CONCURRENCY=1000 LAT_DELAYS=100 LAT_CLIENTS=fetchpool-gather node bench/latency.js
//
// Environment (defaults in brackets):
//   LAT_COUNT        requests per run [20000]
//   LAT_CONCURRENCY  comma-separated concurrencies [1000,5000]
//   LAT_DELAYS       comma-separated server delays in ms [100,500]
//   LAT_CLIENTS      comma-separated clients [raw,fetchpool-gather,undici-request]
//   LAT_WARMUP       warm-up requests per client process (connections made
//                    before the timed run) [0: the run opens them]
//   LAT_NOFILE       `ulimit -n` of each client process [20000]
//   LAT_SERVER       rust (bench/delay_server.rs, built with cargo on first
//                    use) or node (latency-server.js) [rust]
//   LAT_SERVER_THREADS  the Rust server's threads [1]

const path = require('node:path')
const fs = require('node:fs')
const readline = require('node:readline')
const { spawn, spawnSync } = require('node:child_process')
const { cpuSecondsOf } = require('./nginx')

function listEnv (name, fallback) {
  const value = process.env[name]
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : fallback
}

/** Shell that raises the descriptor limit to `n`, or to the hard limit if lower. */
function raiseNofile (n) {
  return `{ ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }`
}

const ROOT = path.resolve(__dirname, '..')
const RUST_SERVER = path.join(ROOT, 'target', 'release', 'examples', 'delay_server')

/** The server's command line: the Rust one, built if missing, or Node's. */
function serverCommand (delay) {
  if (process.env.LAT_SERVER === 'node') return [process.execPath, [path.join(__dirname, 'latency-server.js'), String(delay)]]
  if (!fs.existsSync(RUST_SERVER)) {
    console.error('latency: building the delay server (cargo build --release --example delay_server)')
    const r = spawnSync('cargo', ['build', '--release', '--example', 'delay_server'], { cwd: ROOT, stdio: 'inherit' })
    if (r.status !== 0) throw new Error('could not build the delay server; LAT_SERVER=node uses the Node one')
  }
  return [RUST_SERVER, [String(delay), process.env.LAT_SERVER_THREADS || '1']]
}

function startServer (delay) {
  return new Promise((resolve, reject) => {
    const [bin, args] = serverCommand(delay)
    const child = spawn('sh', ['-c', `${raiseNofile(Number(process.env.LAT_NOFILE || 20000))} && exec "$0" "$@"`, bin, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = readline.createInterface({ input: child.stdout })
    const waiting = []
    lines.on('line', (line) => {
      const next = waiting.shift()
      if (next) next(line)
    })
    /** What the server saw since the last call (the Rust server only). */
    const seen = () => new Promise((resolve) => {
      if (process.env.LAT_SERVER === 'node') return resolve(null)
      waiting.push((line) => {
        try { resolve(JSON.parse(line)) } catch { resolve(null) }
      })
      child.stdin.write('\n')
    })
    waiting.push((line) => resolve({ child, port: Number(line.trim()), seen }))
    child.once('exit', (code) => reject(new Error(`the delay server exited with ${code}`)))
  })
}

function runClient (name, env, server) {
  return new Promise((resolve) => {
    const script = name === 'raw' ? path.join(__dirname, 'latency-raw.js') : path.join(__dirname, 'clients', `${name}.js`)
    const nofile = Number(process.env.LAT_NOFILE || 20000)
    const cmd = `${raiseNofile(nofile)} && exec "${process.execPath}" "${script}"`
    const server0 = cpuSecondsOf([server.child.pid])
    // Starts the server's tally afresh for this client.
    const cleared = server.seen()
    const child = spawn('sh', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', async () => {
      const line = out.trim().split('\n').pop()
      let result
      try { result = JSON.parse(line) } catch { result = { error: `no result: ${out.slice(0, 200)}` } }
      result.serverCpuSeconds = cpuSecondsOf([server.child.pid]) - server0
      await cleared
      result.server = await server.seen()
      resolve(result)
    })
  })
}

/** A server tally as `mean / max` in ms. */
function tally (seen, name) {
  const t = seen && seen[name]
  return t ? `${(t.meanUs / 1000).toFixed(1)} / ${(t.maxUs / 1000).toFixed(1)}` : ''
}

/** Connections the server accepted, and over how long. */
function opened (seen) {
  if (!seen) return ''
  return seen.connections ? `${seen.connections}, ${(seen.acceptSpanUs / 1000).toFixed(0)}` : '0'
}

async function main () {
  const count = Number(process.env.LAT_COUNT || 20000)
  const concurrencies = listEnv('LAT_CONCURRENCY', ['1000', '5000']).map(Number)
  const delays = listEnv('LAT_DELAYS', ['100', '500']).map(Number)
  const clients = listEnv('LAT_CLIENTS', ['raw', 'fetchpool-gather', 'undici-request'])
  const rows = ['| concurrency | delay ms | client | req/s | of ideal | CPU s | CPU µs/req | server CPU s | connections opened, over ms | server late, mean / max ms | client turn, mean / max ms | |', '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|']
  for (const delay of delays) {
    const server = await startServer(delay)
    try {
      for (const c of concurrencies) {
        const ideal = (c * 1000) / delay
        for (const name of clients) {
          const r = await runClient(name, {
            BENCH_URL: `http://127.0.0.1:${server.port}/`,
            BENCH_COUNT: String(count),
            BENCH_SIZE: '16',
            BENCH_CONCURRENCY: String(c),
            BENCH_WARMUP: process.env.LAT_WARMUP || '0',
            // The event-loop monitor's 1 ms timer would cost each client
            // about 40 ms of CPU a second of a mostly idle run.
            BENCH_ELD: '0'
          }, server)
          const shown = r.error ? `error: ${r.error.split('\n')[0].slice(0, 120)}` : `${Math.round(r.rps)} req/s, ${(r.rps / ideal).toFixed(3)} of ideal, ${r.cpuSeconds.toFixed(2)} CPU s`
          console.error(`latency: c=${c} delay=${delay} ms ${name}: ${shown}`)
          rows.push(r.error
            ? `| ${c} | ${delay} | ${name} | | | | | | | | | ${r.error.split('\n')[0].slice(0, 100)} |`
            : `| ${c} | ${delay} | ${name} | ${Math.round(r.rps)} | ${(r.rps / ideal).toFixed(3)} | ${r.cpuSeconds.toFixed(2)} | ${r.cpuUsPerRequest.toFixed(0)} | ${r.serverCpuSeconds.toFixed(2)} | ${opened(r.server)} | ${tally(r.server, 'late')} | ${tally(r.server, 'gap')} | |`)
        }
      }
    } finally {
      server.child.kill()
    }
  }
  process.stdout.write(`${count} requests per run; ideal = concurrency ÷ delay.\n\n${rows.join('\n')}\n`)
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exitCode = 1
})
