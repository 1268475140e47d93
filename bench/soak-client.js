'use strict'

// One mode of `npm run soak` (see soak.js), in its own process, started with
// --expose-gc: prints one JSON line per point ({ done, heap, rss, rps }) and
// a last one with the totals.

const { performance } = require('node:perf_hooks')
const { limit } = require('./harness')

const mode = process.env.SOAK_MODE
const base = process.env.SOAK_URL
const count = Number(process.env.SOAK_COUNT)
const batch = Number(process.env.SOAK_BATCH)
const concurrency = Number(process.env.SOAK_CONCURRENCY)
const size = Number(process.env.SOAK_SIZE)
const every = Math.max(1, Math.floor(count / Number(process.env.SOAK_POINTS)))

let nextMark = every
let lastAt = performance.now()
let lastDone = 0

/** Prints a point when `done` has passed the next mark. */
function mark (done) {
  if (done < nextMark && done !== count) return
  nextMark += every
  global.gc()
  const now = performance.now()
  const { heapUsed, rss } = process.memoryUsage()
  const rps = ((done - lastDone) * 1000) / (now - lastAt)
  process.stdout.write(JSON.stringify({ done, heap: heapUsed, rss, rps }) + '\n')
  lastAt = performance.now()
  lastDone = done
}

function check (status, bytes, at) {
  if (status !== 200 || bytes !== size) throw new Error(`request ${at}: status ${status}, ${bytes} bytes`)
}

function urlsFrom (start, n) {
  const urls = new Array(n)
  for (let k = 0; k < n; k++) urls[k] = `${base}?i=${start + k}`
  return urls
}

async function viaStream (fp) {
  function * urls () {
    for (let i = 0; i < count; i++) yield `${base}?i=${i}`
  }
  let done = 0
  for await (const res of fp.stream(urls(), { concurrency })) {
    check(res.status, res.buffer.length, res.index)
    mark(++done)
  }
}

async function viaGather (fp) {
  for (let done = 0; done < count;) {
    const n = Math.min(batch, count - done)
    const responses = await fp.gather(urlsFrom(done, n), { concurrency })
    for (const res of responses) check(res.status, res.buffer.length, done + res.index)
    done += n
    mark(done)
  }
}

async function viaUndici () {
  const { Agent, request } = require('undici')
  const dispatcher = new Agent({ connections: concurrency })
  for (let done = 0; done < count;) {
    const n = Math.min(batch, count - done)
    const bodies = await limit(urlsFrom(done, n), concurrency, async (url) => {
      const { statusCode, body } = await request(url, { dispatcher })
      const buf = await body.arrayBuffer()
      check(statusCode, buf.byteLength, url)
      return buf
    })
    if (bodies.length !== n) throw new Error(`${bodies.length} bodies for ${n} requests`)
    done += n
    mark(done)
  }
  await dispatcher.close()
}

async function main () {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  if (mode === 'undici') await viaUndici()
  else {
    const fp = require('./clients/fetchpool')
    await (mode === 'stream' ? viaStream(fp) : viaGather(fp))
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(JSON.stringify({ seconds, rps: count / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n')
  setImmediate(() => process.exit())
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
