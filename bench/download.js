'use strict'

// Bulk download to disk, in one run: fetchpool's download() against
// undici.stream into fs.createWriteStream and `curl --parallel`, each in its
// own process, fetching the same list from a local nginx into an empty
// directory. Reports throughput and the client's CPU per MiB (user + system,
// from the shell's `times`), median of the rounds.
//
//   node bench/download.js            (after `npm ci` in bench/)
//
// Environment (defaults in brackets):
//   BENCH_DL_COUNT        files [1000]
//   BENCH_DL_SIZE         bytes per file [1048576]
//   BENCH_DL_CONCURRENCY  downloads in flight [32]
//   BENCH_DL_ROUNDS       rounds, the order of the clients rotating [3]
//   BENCH_DL_CLIENTS      comma-separated [fetchpool,undici-stream,curl]
//   BENCH_FETCHPOOL       folder of the fetchpool module under test [the repo]
//   BENCH_UNDICI          folder of undici [bench/node_modules/undici]
//   BENCH_FETCHPOOL_B     folder of a second fetchpool build, run as the
//                         client `fetchpool-b` (an A/B) [BENCH_FETCHPOOL]

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { startNginx } = require('./nginx')

const ROOT = path.resolve(__dirname, '..')

function intEnv (name, fallback) {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return n
}

const COUNT = intEnv('BENCH_DL_COUNT', 1000)
const SIZE = intEnv('BENCH_DL_SIZE', 1 << 20)
const CONCURRENCY = intEnv('BENCH_DL_CONCURRENCY', 32)
const ROUNDS = intEnv('BENCH_DL_ROUNDS', 3)
const FETCHPOOL = path.resolve(process.env.BENCH_FETCHPOOL || ROOT)
const UNDICI = path.resolve(process.env.BENCH_UNDICI || path.join(__dirname, 'node_modules', 'undici'))
const CLIENTS = (process.env.BENCH_DL_CLIENTS || 'fetchpool,undici-stream,curl').split(',')

function fetchpoolScript (folder) {
  return `
    const [list, dir, c] = process.argv.slice(2)
    const urls = require('node:fs').readFileSync(list, 'utf8').trim().split('\\n')
    require(${JSON.stringify(folder)}).download(urls, dir, { concurrency: Number(c) }).then((results) => {
      const bad = results.filter((r) => !r.saved)
      if (bad.length > 0) { console.error(bad[0]); process.exit(1) }
    })`
}

/** Node scripts read the list and the directory from argv. */
const SCRIPTS = {
  fetchpool: fetchpoolScript(FETCHPOOL),
  // An A/B: another build of fetchpool, from BENCH_FETCHPOOL_B.
  'fetchpool-b': fetchpoolScript(path.resolve(process.env.BENCH_FETCHPOOL_B || FETCHPOOL)),
  'undici-stream': `
    const fs = require('node:fs')
    const path = require('node:path')
    const { stream } = require(${JSON.stringify(UNDICI)})
    const [list, dir, c] = process.argv.slice(2)
    const urls = fs.readFileSync(list, 'utf8').trim().split('\\n')
    let next = 0
    async function worker () {
      while (next < urls.length) {
        const url = urls[next++]
        const file = path.join(dir, path.basename(new URL(url).pathname) + '-' + next)
        await stream(url, { method: 'GET', opaque: file }, ({ statusCode, opaque }) => {
          if (statusCode !== 200) throw new Error('status ' + statusCode)
          return fs.createWriteStream(opaque)
        })
      }
    }
    Promise.all(Array.from({ length: Number(c) }, worker)).catch((err) => { console.error(err); process.exit(1) })`
}

/** The command line of one client, run by bash so that `times` gives its CPU. */
function commandOf (client, list, dir, curlConfig) {
  if (client === 'curl') {
    return `/usr/bin/curl --parallel --parallel-max ${CONCURRENCY} --fail -s -K ${curlConfig}`
  }
  const script = path.join(os.tmpdir(), `fetchpool-bench-dl-${client}.js`)
  fs.writeFileSync(script, SCRIPTS[client])
  return `${process.execPath} ${script} ${list} ${dir} ${CONCURRENCY}`
}

function seconds (text) {
  const m = /^(\d+)m([\d.]+)s$/.exec(text)
  return m === null ? NaN : Number(m[1]) * 60 + Number(m[2])
}

function runOnce (client, urls, work) {
  const dir = fs.mkdtempSync(path.join(work, `${client}-`))
  const list = path.join(work, 'urls.txt')
  const curlConfig = path.join(work, `curl-${path.basename(dir)}.txt`)
  fs.writeFileSync(curlConfig, urls.map((u, i) => `url = "${u}"\noutput = "${dir}/f-${i}"\n`).join(''))
  const command = commandOf(client, list, dir, curlConfig)
  const start = process.hrtime.bigint()
  const run = spawnSync('/bin/bash', ['-c', `${command}; code=$?; times; exit $code`], { encoding: 'utf8', timeout: 10 * 60 * 1000 })
  const wall = Number(process.hrtime.bigint() - start) / 1e9
  if (run.status !== 0) throw new Error(`${client} failed (${run.status}):\n${run.stderr}${run.stdout}`)
  const [user, sys] = run.stdout.trim().split('\n').pop().split(/\s+/).map(seconds)
  const files = fs.readdirSync(dir)
  const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.rmSync(curlConfig, { force: true })
  if (files.length !== urls.length || bytes !== urls.length * SIZE) {
    throw new Error(`${client}: ${files.length} files, ${bytes} bytes`)
  }
  const mib = bytes / (1 << 20)
  return { wall, mibPerSec: mib / wall, cpuMsPerMiB: ((user + sys) * 1000) / mib }
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main () {
  const nginx = await startNginx({ files: { 'file.bin': SIZE } })
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-bench-dl-'))
  const urls = Array.from({ length: COUNT }, (_, i) => `${nginx.url('file.bin')}?i=${i}`)
  fs.writeFileSync(path.join(work, 'urls.txt'), urls.join('\n'))
  const runs = Object.fromEntries(CLIENTS.map((c) => [c, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length])
      for (const client of order) {
        const r = runOnce(client, urls, work)
        runs[client].push(r)
        console.error(`round ${round + 1} ${client}: ${r.mibPerSec.toFixed(0)} MiB/s, ${r.cpuMsPerMiB.toFixed(2)} ms CPU/MiB`)
      }
    }
  } finally {
    await nginx.stop()
    fs.rmSync(work, { recursive: true, force: true })
  }
  const base = median(runs[CLIENTS[0]].map((r) => r.mibPerSec))
  console.log(`${COUNT} x ${SIZE} bytes, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds (node ${process.version}, ${os.cpus().length} cores)\n`)
  console.log('| client | MiB/s | CPU ms per MiB | throughput vs first |')
  console.log('|---|---:|---:|---:|')
  for (const client of CLIENTS) {
    const mibPerSec = median(runs[client].map((r) => r.mibPerSec))
    const cpu = median(runs[client].map((r) => r.cpuMsPerMiB))
    console.log(`| ${client} | ${mibPerSec.toFixed(0)} | ${cpu.toFixed(2)} | ${(mibPerSec / base).toFixed(2)} |`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
