'use strict'

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const https = require('node:https')
const { PassThrough, Readable, Writable } = require('node:stream')
const { startServer, refusedPort } = require('./support/server')
const { blackHole } = require('./support/black-hole')
const { makeCerts, which } = require('./support/certs')

const BIN = path.join(__dirname, '..', 'bin', 'fetchpool.js')

let server
let dir
before(async () => {
  server = await startServer()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-cli-'))
})
after(async () => {
  await server.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs the command without blocking this process (its server answers the requests). */
function cli (args, { input, command } = {}) {
  const child = command ? spawn('script', ['-q', '-e', '-c', command, '/dev/null']) : spawn(process.execPath, [BIN, ...args])
  const out = []
  const err = []
  child.stdout.on('data', (c) => out.push(c))
  child.stderr.on('data', (c) => err.push(c))
  child.stdin.on('error', () => {})
  child.stdin.end(input)
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))
  })
}

function writeFile (name, text) {
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

const parseLines = (text) => text.trim().split('\n').map((line) => JSON.parse(line))

test('fetchpool --help lists its options and exits 0', async () => {
  const { code, stdout } = await cli(['--help'])
  assert.equal(code, 0)
  for (const flag of ['--concurrency', '--connections-per-host', '--rate', '--timeout', '--retries', '--header',
    '--method', '--redirect', '--http2', '--proxy', '--ca', '--output', '--save-dir', '--report', '--demo']) {
    assert.ok(stdout.includes(flag), `help lacks ${flag}`)
  }
})

test('a URL file gives one NDJSON line per request, and exit 1 when one failed', async () => {
  const refused = `http://127.0.0.1:${await refusedPort()}/`
  const urls = [...Array.from({ length: 20 }, (_, i) => server.url(`/p/${i}`)), server.url('/status/404'), refused]
  const file = writeFile('urls.txt', `# a comment\n${urls.join('\n')}\n\n`)
  const { code, stdout, stderr } = await cli([file])
  assert.equal(code, 1)
  const lines = parseLines(stdout)
  assert.equal(lines.length, urls.length)
  assert.deepEqual(lines.map((l) => l.index).sort((a, b) => a - b), urls.map((_, i) => i))
  for (const line of lines) {
    assert.equal(line.url, urls[line.index])
    assert.ok(line.timing.queued <= line.timing.end)
    if (line.index < 20) {
      assert.equal(line.status, 200)
      assert.equal(line.bytes, Buffer.byteLength(`hello /p/${line.index}`))
      assert.equal(line.error, undefined)
    }
  }
  assert.equal(lines.find((l) => l.index === 20).status, 404)
  const failed = lines.find((l) => l.index === 21)
  assert.equal(failed.error, 'ECONNREFUSED')
  assert.equal(failed.status, undefined)
  assert.match(stderr, /200: 20/)
  assert.match(stderr, /404: 1/)
  assert.match(stderr, /ECONNREFUSED: 1/)
  assert.match(stderr, /p50 .* p95 .* p99 /)
  assert.match(stderr, /makespan/)
})

test('exit 0 when every request got a response, whatever its status', async () => {
  const file = writeFile('ok.txt', [server.url('/a'), server.url('/status/500')].join('\n'))
  const { code, stdout } = await cli([file])
  assert.equal(code, 0)
  assert.deepEqual(parseLines(stdout).map((l) => l.status).sort(), [200, 500])
})

test('NDJSON request objects from standard input are sent as given, bodies saved with --save-dir', async () => {
  const saveDir = path.join(dir, 'bodies')
  const input = [
    JSON.stringify({ url: server.url('/echo'), method: 'POST', headers: { 'x-one': '1' }, body: 'first' }),
    JSON.stringify({ url: server.url('/echo'), method: 'PUT', body: 'second', note: 'ignored' })
  ].join('\n')
  const { code, stdout } = await cli(['--save-dir', saveDir, '-H', 'x-all: yes'], { input })
  assert.equal(code, 0)
  const lines = parseLines(stdout)
  const files = fs.readdirSync(saveDir).sort()
  assert.deepEqual(files, ['0-echo', '1-echo'])
  const first = JSON.parse(fs.readFileSync(path.join(saveDir, '0-echo'), 'utf8'))
  const second = JSON.parse(fs.readFileSync(path.join(saveDir, '1-echo'), 'utf8'))
  assert.deepEqual([first.method, first.body, first.headers['x-one'], first.headers['x-all']], ['POST', 'first', '1', 'yes'])
  assert.deepEqual([second.method, second.body, second.headers['x-all']], ['PUT', 'second', 'yes'])
  assert.equal(lines.find((l) => l.index === 0).bytes, fs.statSync(path.join(saveDir, '0-echo')).size)
})

test('--concurrency bounds what the server sees in flight', async () => {
  server.reset()
  const file = writeFile('slow.txt', Array.from({ length: 12 }, (_, i) => server.url(`/slow?ms=40&id=${i}`)).join('\n'))
  const { code } = await cli(['--concurrency', '3', file])
  assert.equal(code, 0)
  assert.equal(server.stats.requests, 12)
  assert.ok(server.stats.maxInFlight <= 3, `server saw ${server.stats.maxInFlight}`)
})

test('--connections-per-host, --http2 off and --max-redirects reach the client', async () => {
  server.reset()
  const file = writeFile('per-host.txt', Array.from({ length: 12 }, (_, i) => server.url(`/slow?ms=40&id=${i}`)).join('\n'))
  const { code } = await cli(['--concurrency', '6', '--connections-per-host', '2', '--http2', 'off', file])
  assert.equal(code, 0)
  assert.equal(server.stats.requests, 12)
  assert.ok(server.stats.maxInFlight <= 2, `server saw ${server.stats.maxInFlight}`)
  const hops = writeFile('hops.txt', `${server.url('/redirect?n=3')}\n`)
  const limited = await cli(['--max-redirects', '1', hops])
  assert.equal(limited.code, 1)
  assert.equal(parseLines(limited.stdout)[0].error, 'ERR_TOO_MANY_REDIRECTS')
})

test('--concurrency auto keeps within --max-concurrency and reports its limit', async () => {
  server.reset()
  const file = writeFile('auto.txt', Array.from({ length: 24 }, (_, i) => server.url(`/slow?ms=40&id=${i}`)).join('\n'))
  const { code, stderr } = await cli(['--concurrency', 'auto', '--max-concurrency', '3', file])
  assert.equal(code, 0)
  assert.equal(server.stats.requests, 24)
  assert.ok(server.stats.maxInFlight <= 3, `server saw ${server.stats.maxInFlight}`)
  assert.match(stderr, new RegExp(`auto limit +${server.url('/').slice(0, -1)}: [1-3] at the end`))
})

test('the summary: counts, rate, latency, time in flight, and each auto limit at the end and its range', () => {
  const { Recorder } = require('../lib/cli/record')
  const { fromColumns } = require('../lib/timeline')
  const { summaryText } = require('../lib/cli/summary')
  const recorder = new Recorder()
  recorder.add({ index: 0, status: 200, bytes: 100, timing: { queued: 0, start: 0, end: 1500 } })
  recorder.add({ index: 1, status: 404, bytes: 5, timing: { queued: 0, start: 500, end: 1000 } })
  recorder.add({ index: 2, error: 'ECONNREFUSED', timing: { queued: 0, start: 1000, end: 1002.5 } })
  // The limit rose, then fell: the last sample is neither the first nor the highest.
  recorder.addLimits(0, { 'http://a:80': 4 })
  recorder.addLimits(100, { 'http://a:80': 9 })
  recorder.addLimits(200, { 'http://a:80': 6 })
  // 3 requests in 1.5 s; durations 1500, 500 and 2.5 ms, 2002.5 ms in flight
  // over 1500 ms, two at once from 500 to 1000 ms.
  assert.equal(summaryText(recorder, fromColumns(recorder.timelineColumns())), [
    'fetchpool: 3 requests, 2 responses, 1 failed, 2 req/s, makespan 1.50 s',
    '  by status      200: 1  404: 1',
    '  by error code  ECONNREFUSED: 1',
    '  latency        p50 500.0 ms  p95 1.50 s  p99 1.50 s  max 1.50 s',
    '  in flight      mean 1.3  peak 2  bytes 105',
    '  auto limit     http://a:80: 6 at the end, 4–9 during the run',
    ''
  ].join('\n'))
})

test('--retries, --timeout, --method and --data reach the requests', async () => {
  server.reset()
  const file = writeFile('opts.txt', [server.url('/status/503'), server.url('/headers-delay?ms=2000'), server.url('/echo')].join('\n'))
  const saveDir = path.join(dir, 'opts')
  const { code, stdout } = await cli(['--retries', '2', '--timeout', '300', '-X', 'PUT', '-d', 'payload', '--save-dir', saveDir, file])
  assert.equal(code, 1)
  const byIndex = parseLines(stdout).sort((a, b) => a.index - b.index)
  assert.deepEqual([byIndex[0].status, byIndex[0].attempts], [503, 3])
  assert.equal(byIndex[1].error, 'ERR_TOTAL_TIMEOUT')
  assert.equal(byIndex[2].status, 200)
  const echoed = JSON.parse(fs.readFileSync(path.join(saveDir, '2-echo'), 'utf8'))
  assert.deepEqual([echoed.method, echoed.body], ['PUT', 'payload'])
  assert.equal(server.stats.paths.filter((p) => p === '/status/503').length, 3)
})

test('--connect-timeout alone reaches the client', async (t) => {
  const port = await blackHole(t)
  // A connect that gets no answer fails at 300 ms, long before the other
  // request's answer at 4 s: the lines come in completion order. Under the
  // default connect timeout (10 s) the order would be the other way round.
  const file = writeFile('connect.txt', [`http://127.0.0.1:${port}/`, server.url('/headers-delay?ms=4000')].join('\n'))
  const { code, stdout } = await cli(['--connect-timeout', '300', '--retries', '0', file])
  assert.equal(code, 1)
  const lines = parseLines(stdout)
  assert.deepEqual(lines.map((line) => line.index), [0, 1])
  assert.equal(lines[0].error, 'ERR_CONNECT_TIMEOUT')
  assert.equal(lines[1].status, 200)
})

test('--ca trusts a certificate authority the system does not; --insecure checks none', { skip: !which('openssl') && 'openssl is not installed' }, async () => {
  const certs = makeCerts()
  const tls = https.createServer({ cert: fs.readFileSync(certs.server.cert), key: fs.readFileSync(certs.server.key) },
    (req, res) => res.end('secure'))
  await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve))
  try {
    const file = writeFile('tls.txt', `https://127.0.0.1:${tls.address().port}/`)
    const untrusted = await cli([file])
    assert.equal(untrusted.code, 1)
    assert.equal(parseLines(untrusted.stdout)[0].error, 'ERR_TLS_CERT')
    const trusted = await cli(['--ca', certs.ca.cert, file])
    assert.equal(trusted.code, 0)
    assert.deepEqual([parseLines(trusted.stdout)[0].status, parseLines(trusted.stdout)[0].bytes], [200, 6])
    const insecure = await cli(['--insecure', file])
    assert.equal(insecure.code, 0)
    assert.equal(parseLines(insecure.stdout)[0].status, 200)
  } finally {
    tls.closeAllConnections()
    await new Promise((resolve) => tls.close(resolve))
    certs.remove()
  }
})

test('- reads standard input; indented lines and comments; --data alone makes a POST', async () => {
  const saveDir = path.join(dir, 'stdin-dash')
  const input = `   # an indented comment\n   ${server.url('/echo')}   \n`
  // The least each number takes is allowed.
  const { code, stdout } = await cli(['--data', 'alone', '--concurrency', '1', '--retries', '0', '--save-dir', saveDir, '-'], { input })
  assert.equal(code, 0)
  const lines = parseLines(stdout)
  assert.equal(lines.length, 1)
  assert.equal(lines[0].url, server.url('/echo'))
  const echoed = JSON.parse(fs.readFileSync(path.join(saveDir, '0-echo'), 'utf8'))
  assert.deepEqual([echoed.method, echoed.body], ['POST', 'alone'])
})

test('a malformed line or option stops with exit 2 before anything is sent', async () => {
  server.reset()
  const file = writeFile('bad.txt', `${server.url('/a')}\n{"url": 5}\n`)
  const bad = await cli([file])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /line 2/)
  assert.equal(bad.stdout, '')
  const badBody = await cli([writeFile('bad-body.txt', `{"url": ${JSON.stringify(server.url('/a'))}, "body": 5}\n`)])
  assert.equal(badBody.code, 2)
  assert.equal(badBody.stdout, '')
  // A good file, so that only the option can be what stops the run.
  const good = writeFile('good.txt', `${server.url('/a')}\n`)
  for (const args of [['--concurrency', '0', good], ['--rate', 'fast', good], ['--bogus'], ['--redirect', 'maybe', good],
    ['--max-concurrency', '4', good], ['--concurrency', 'auto', '--max-concurrency', '0', good],
    ['--ca', path.join(dir, 'no-such.pem'), good], ['--http2', 'sometimes', good],
    [path.join(dir, 'missing.txt')], ['--rate', ' ', good], ['--header', ': no name', good],
    [good, good], ['--progress', '--no-progress', good], ['--demo', good],
    // A whole number in another notation; an option the parser takes and the
    // Client refuses (a proxy's scheme), which is a usage error all the same.
    ['--retries', '1e3', good], ['--proxy', 'ftp://127.0.0.1:1', good],
    // A method that is no token, a body with GET; an input that is a
    // directory, an output or a --save-dir that cannot be made.
    ['-X', 'GE T', good], ['-X', 'get', '-d', 'x', good], [dir],
    ['-o', path.join(dir, 'no-such-dir', 'out.ndjson'), good], ['--save-dir', good, good],
    ['--save-dir', path.join(good, 'below'), good]]) {
    const { code, stdout } = await cli(args)
    assert.equal(code, 2, args.join(' '))
    assert.equal(stdout, '')
  }
  assert.equal(server.stats.requests, 0)
})

test('values the Client would take but the command does not stop with exit 2 too', async () => {
  server.reset()
  const good = writeFile('good-too.txt', `${server.url('/a')}\n`)
  // The Client takes Infinity as "no limit"; the command wants a number.
  // A header with no colon would otherwise be cut into a name and a value.
  for (const args of [['--rate', 'Infinity', good], ['--timeout', 'Infinity', good], ['--header', 'x-no-colon', good],
    ['--demo', '-n', '0']]) {
    const { code, stdout } = await cli(args)
    assert.equal(code, 2, args.join(' '))
    assert.equal(stdout, '')
  }
  assert.equal(server.stats.requests, 0)
})

test('each value of --redirect and --http2 reaches the client', async () => {
  const hop = writeFile('one-hop.txt', `${server.url('/redirect?n=1')}\n`)
  const outcomes = []
  for (const args of [['--redirect', 'follow'], ['--redirect', 'manual'], ['--redirect', 'error'],
    ['--http2', 'auto'], ['--http2', 'prior-knowledge']]) {
    const { code, stdout } = await cli([...args, hop])
    const [line] = parseLines(stdout)
    outcomes.push([code, line.status ?? line.error])
  }
  // The test server speaks HTTP/1.1 only: prior knowledge of HTTP/2 fails,
  // with the protocol error, or with EPIPE when the server has closed the
  // connection on the preface before the rest of it is written.
  const [code, error] = outcomes.pop()
  assert.equal(code, 1)
  assert.ok(['ERR_HTTP_PROTOCOL', 'EPIPE', 'ECONNRESET'].includes(error), error)
  assert.deepEqual(outcomes, [[0, 200], [0, 302], [1, 'ERR_TOO_MANY_REDIRECTS'], [0, 200]])
})

test('--header: name and value trimmed, a one-letter name taken', async () => {
  const saveDir = path.join(dir, 'headers')
  const file = writeFile('echo.txt', `${server.url('/echo')}\n`)
  const { code } = await cli(['-H', ' x-spaced : yes', '-H', 'x: 1', '--save-dir', saveDir, file])
  assert.equal(code, 0)
  const echoed = JSON.parse(fs.readFileSync(path.join(saveDir, '0-echo'), 'utf8'))
  assert.deepEqual([echoed.headers['x-spaced'], echoed.headers.x], ['yes', '1'])
  // Node's server drops the spaces around a value itself; the client's
  // headers show that the command does.
  const { parse } = require('../lib/cli/args')
  const { configOf } = require('../lib/cli/config')
  assert.deepEqual(configOf(parse(['-H', ' x-spaced :  yes  ', '-H', 'x: 1'])).client.headers, [['x-spaced', 'yes'], ['x', '1']])
})

test('--progress draws the bar on a pipe; --no-progress draws none, on a terminal either', async () => {
  const file = writeFile('bar.txt', `${server.url('/a')}\n`)
  const drawn = await cli(['--progress', file])
  assert.equal(drawn.code, 0)
  assert.match(drawn.stderr, BAR)
  const none = await cli(['--no-progress', file])
  assert.equal(none.code, 0)
  assert.doesNotMatch(none.stderr, BAR)
  if (!hasScript) return
  const out = path.join(dir, 'no-bar.ndjson')
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --no-progress ${JSON.stringify(file)} -o ${JSON.stringify(out)}`
  const tty = await cli([], { command })
  assert.equal(tty.code, 0)
  assert.doesNotMatch(tty.stdout, BAR)
})

test('the command\'s own defaults, and --rate and --concurrency auto, as the Client gets them', () => {
  const { parse } = require('../lib/cli/args')
  const { configOf } = require('../lib/cli/config')
  const plain = configOf(parse([]))
  assert.deepEqual([plain.client.concurrency, plain.count], [64, 2000])
  const auto = configOf(parse(['--concurrency', 'auto', '--rate', '2.5']))
  assert.deepEqual([auto.client.concurrency, auto.client.rateLimit], ['auto', 2.5])
})

test('--output writes the results to a file, and --demo needs no input', async () => {
  const out = path.join(dir, 'demo.ndjson')
  const { code, stdout, stderr } = await cli(['--demo', '-n', '50', '-o', out])
  assert.equal(code, 0)
  assert.equal(stdout, '')
  assert.equal(parseLines(fs.readFileSync(out, 'utf8')).length, 50)
  assert.match(stderr, /50 requests, 50 responses, 0 failed/)
})

/** Standard input, output and error for main() in this process, each a terminal or not. */
function fakeIo ({ stdin = false, stdout = false, stderr = false } = {}) {
  const sink = (isTTY) => Object.assign(new PassThrough(), { isTTY, text: '' })
  const io = { stdin: Object.assign(Readable.from([]), { isTTY: stdin }), stdout: sink(stdout), stderr: sink(stderr) }
  for (const name of ['stdout', 'stderr']) io[name].on('data', (c) => { io[name].text += c })
  return io
}

test('the bar goes to a terminal, not when the results go to that same one; --progress overrides', async () => {
  const { main } = require('../lib/cli/main')
  const out = path.join(dir, 'bar.ndjson')
  const bothTTY = { stdout: true, stderr: true }
  for (const [args, isTTY, drawn] of [[[], bothTTY, false], [['-o', '-'], bothTTY, false],
    [['-o', out], bothTTY, true], [['--progress'], {}, true]]) {
    const io = fakeIo(isTTY)
    assert.equal(await main(['--demo', '-n', '5', ...args], io), 0)
    assert.equal(BAR.test(io.stderr.text), drawn, args.join(' '))
    // The results are complete when main() resolves, in the file or on stdout.
    assert.equal(parseLines(args[0] === '-o' && args[1] === out ? fs.readFileSync(out, 'utf8') : io.stdout.text).length, 5)
  }
})

test('--version prints the version; no input on a terminal is a usage error; other errors are not', async () => {
  const { main } = require('../lib/cli/main')
  const version = fakeIo()
  assert.equal(await main(['--version'], version), 0)
  assert.equal(version.stdout.text, `${require('../package.json').version}\n`)
  const noInput = fakeIo({ stdin: true })
  assert.equal(await main([], noInput), 2)
  assert.equal(noInput.stdout.text, '')
  // An output file that cannot be opened is a bad option value: exit 2, before anything is sent.
  const noOutput = fakeIo()
  assert.equal(await main(['--demo', '-n', '1', '-o', path.join(dir, 'no-such-dir', 'out')], noOutput), 2)
  assert.match(noOutput.stderr.text, /cannot write .*ENOENT/)
  // Other errors are not usage errors: main() rejects (exit 1 from bin/).
  await assert.rejects(main(['--demo', '-n', '1', '--report', path.join(dir, 'no-such-dir', 'r.html')], fakeIo()), { code: 'ENOENT' })
})

test('standard output closed by its reader (| head) ends the output, not the run', async () => {
  const { main } = require('../lib/cli/main')
  const io = fakeIo()
  io.stdout = new Writable({ highWaterMark: 1, write (chunk, enc, cb) { cb(Object.assign(new Error('gone'), { code: 'EPIPE' })) } })
  assert.equal(await main(['--demo', '-n', '5'], io), 0)
  assert.match(io.stderr.text, /^fetchpool: 5 requests, 5 responses/)
})

test('plain URL lines with --save-dir: each body saved, the directory made with its parents', async () => {
  const { main } = require('../lib/cli/main')
  const saveDir = path.join(dir, 'plain', 'bodies')
  const file = writeFile('plain.txt', [server.url('/p/0'), server.url('/p/1')].join('\n'))
  assert.equal(await main(['--save-dir', saveDir, file], fakeIo()), 0)
  const files = fs.readdirSync(saveDir).sort()
  assert.deepEqual(files.map((f) => fs.readFileSync(path.join(saveDir, f), 'utf8')), ['hello /p/0', 'hello /p/1'])
})

test('an NDJSON line has finalUrl only after a redirect, an error its code, status and attempts', async () => {
  const { main } = require('../lib/cli/main')
  const { recordOf } = require('../lib/cli/output')
  const io = fakeIo()
  // The last, an origin with no path, is normalised with a slash: no redirect.
  const file = writeFile('final.txt', [server.url('/redirect?n=1'), server.url('/a'), server.url('/').slice(0, -1)].join('\n'))
  assert.equal(await main([file], io), 0)
  const lines = parseLines(io.stdout.text).sort((a, b) => a.index - b.index)
  assert.deepEqual(lines.map((l) => l.finalUrl), [server.url('/echo'), undefined, undefined])
  // As the line is written: JSON drops a field left undefined.
  const line = (reason) => JSON.parse(JSON.stringify(recordOf({ status: 'rejected', reason, index: 0 }, ['http://a/'])))
  const withStatus = line(Object.assign(new Error('x'), { code: 'ERR_HTTP', status: 503, attempts: 2 }))
  assert.deepEqual([withStatus.error, withStatus.status, withStatus.attempts], ['ERR_HTTP', 503, 2])
  const bare = line(new Error('x'))
  assert.deepEqual([bare.error, 'status' in bare, 'attempts' in bare], ['ERR_UNKNOWN', false, false])
})

test('LineWriter: pieces of 64 KiB with backpressure; a reader gone ends the output, other errors the run', async () => {
  const { LineWriter } = require('../lib/cli/output')
  let got = ''
  const slow = new Writable({ highWaterMark: 1, write (chunk, enc, cb) { got += chunk; setImmediate(cb) } })
  const writer = new LineWriter(slow)
  const big = { a: 'x'.repeat(64 * 1024 - 9) } // 64 KiB with its newline
  await writer.write(big)
  assert.equal(got.length, 64 * 1024)
  await writer.write({ b: 1 })
  assert.equal(got.length, 64 * 1024, 'a short line waits for more')
  await writer.write(big)
  await writer.end(true)
  assert.equal(got, [big, { b: 1 }, big].map((r) => JSON.stringify(r) + '\n').join(''))
  assert.ok(slow.writableFinished)
  // Every wait took its listeners off again: only LineWriter's own 'error' listener stays.
  assert.deepEqual(['drain', 'close', 'finish', 'error'].map((e) => slow.listenerCount(e)), [0, 0, 0, 1])

  const failing = (code, options) => new Writable({
    highWaterMark: 1, ...options, write (chunk, enc, cb) { cb(Object.assign(new Error(code), { code })) }
  })
  const gone = new LineWriter(failing('EPIPE'))
  for (let i = 0; i < 2; i++) {
    await gone.write({ i })
    await gone.end(false)
  }
  const full = new LineWriter(failing('ENOSPC'))
  for (let i = 0; i < 2; i++) {
    await full.write({ i })
    await assert.rejects(full.end(false), { code: 'ENOSPC' })
  }
  const unfinished = new LineWriter(new Writable({
    write (chunk, enc, cb) { cb() }, final (cb) { cb(Object.assign(new Error('final'), { code: 'EIO' })) }
  }))
  await unfinished.write({ i: 0 })
  await assert.rejects(unfinished.end(true), { code: 'EIO' })
})

const hasScript = spawnSync('script', ['--version']).status === 0
const BAR = /\d+\/(\d+) \| \d+ req\/s/

test('on a terminal the progress bar is drawn, then cleared before the summary', { skip: !hasScript && 'util-linux script is not installed' }, async () => {
  const file = writeFile('tty.txt', Array.from({ length: 200 }, (_, i) => server.url(`/p/${i}`)).join('\n'))
  const out = path.join(dir, 'tty.ndjson')
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${JSON.stringify(file)} -o ${JSON.stringify(out)}`
  const { code, stdout } = await cli([], { command })
  assert.equal(code, 0)
  assert.match(stdout, BAR, 'no bar drawn')
  const summary = stdout.indexOf('fetchpool: 200 requests')
  assert.ok(summary > 0)
  // The bar's line is erased (ESC [2K) after its last frame and before the summary.
  const clear = stdout.lastIndexOf('\x1b[2K', summary)
  assert.ok(clear > stdout.search(BAR), 'bar not cleared before the summary')
  assert.doesNotMatch(stdout.slice(summary), BAR)
  assert.equal(parseLines(fs.readFileSync(out, 'utf8')).length, 200)
})

test('with standard error piped there is no bar and no escape sequence', async () => {
  const file = writeFile('pipe.txt', Array.from({ length: 50 }, (_, i) => server.url(`/p/${i}`)).join('\n'))
  const { code, stderr } = await cli([file])
  assert.equal(code, 0)
  assert.doesNotMatch(stderr, BAR)
  assert.ok(!stderr.includes('\x1b['))
  assert.match(stderr, /^fetchpool: 50 requests/)
})

test('--demo: the statuses and body sizes of its items, and a server on 127.0.0.1 only', async () => {
  const { code, stdout } = await cli(['--demo', '-n', '100'])
  assert.equal(code, 0)
  const lines = parseLines(stdout).sort((a, b) => a.index - b.index)
  assert.equal(lines.length, 100)
  // Item 13 answers 500; items 7, 48 and 89 answer 404; each body is 256 + (n * 131) % 4096 bytes.
  for (const { index: n, status, bytes } of lines) {
    assert.deepEqual([status, bytes], [n === 13 ? 500 : n % 41 === 7 ? 404 : 200, 256 + (n * 131) % 4096], `item ${n}`)
  }
  const net = require('node:net')
  const { startDemo } = require('../lib/cli/demo')
  const demo = await startDemo()
  try {
    const port = Number(new URL(demo.urls(1)[0]).port)
    const reached = (host) => new Promise((resolve) => {
      const socket = net.connect(port, host, () => { socket.destroy(); resolve('connected') })
      socket.on('error', (err) => resolve(err.code))
    })
    assert.equal(await reached('127.0.0.1'), 'connected')
    assert.equal(await reached('127.0.0.2'), 'ECONNREFUSED')
  } finally {
    await demo.close()
  }
})

test('the summary: singular counts, 1000 ms as 1.00 s, counts by most then by name, no empty "by" line', () => {
  const { Recorder } = require('../lib/cli/record')
  const { fromColumns } = require('../lib/timeline')
  const { summaryText } = require('../lib/cli/summary')
  const summaryOf = (records) => {
    const recorder = new Recorder()
    records.forEach((record, index) => recorder.add({ index, bytes: 0, timing: { queued: 0, start: 0, end: 1000 }, ...record }))
    return summaryText(recorder, fromColumns(recorder.timelineColumns())).split('\n')
  }
  const one = summaryOf([{ status: 200 }])
  assert.equal(one[0], 'fetchpool: 1 request, 1 response, 0 failed, 1 req/s, makespan 1.00 s')
  assert.deepEqual(one.filter((line) => line.includes(' by ')), ['  by status      200: 1'])
  // Inserted in neither order: the most first, a tie by name.
  const failed = summaryOf(['ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'ECONNRESET'].map((error) => ({ error })))
  assert.deepEqual(failed.filter((line) => line.includes(' by ')), ['  by error code  ECONNRESET: 2  ECONNREFUSED: 1  ETIMEDOUT: 1'])
})

test('the progress bar: none for no requests, its frames with and without a terminal, its rate, SIGINT', (t) => {
  const { performance } = require('node:perf_hooks')
  const { startProgress } = require('../lib/cli/progress')
  const streamOf = (isTTY) => {
    const stream = { isTTY, columns: 200, text: '', write (chunk) { stream.text += chunk; return true } }
    return stream
  }
  const empty = streamOf(true)
  startProgress(0, empty, true).stop()
  assert.equal(empty.text, '')
  // Forced (--progress) onto a pipe: frames all the same, as lines.
  const piped = streamOf(false)
  startProgress(3, piped, true).stop()
  assert.match(piped.text, /^ .* 0% \| 0\/3 \| 0 req\/s \| 0 failed \|/)
  const sigint = process.listeners('SIGINT')
  const tty = streamOf(true)
  const began = performance.now()
  const bar = startProgress(1000, tty, true)
  t.after(() => bar.stop())
  // The command handles SIGINT; the bar adds no listener of its own.
  assert.deepEqual(process.listeners('SIGINT'), sigint)
  bar.tick(1000, 7)
  const seconds = (performance.now() - began) / 1000
  bar.stop()
  assert.ok(tty.text.startsWith('\x1b7\x1b[?25l'), 'cursor not hidden')
  assert.ok(tty.text.includes('\x1b[?25h'), 'cursor not shown again')
  // The rate is the requests done over the time since the bar began, which is at most `seconds`.
  const [, rate] = /1000\/1000 \| (\d+) req\/s \| 7 failed/.exec(tty.text)
  assert.ok(Number(rate) >= Math.floor(1000 / seconds), `rate ${rate}`)
})

test('Ctrl-C writes what is done, the summary and the report, leaves no temporary file, and exits 130', async () => {
  const saveDir = path.join(dir, 'interrupted')
  const output = path.join(dir, 'interrupted.ndjson')
  const report = path.join(dir, 'interrupted.html')
  const fast = Array.from({ length: 5 }, (_, i) => server.url(`/a?i=${i}`))
  // One at a time: the slow body is asked for once the others are in, and
  // its bytes come one every 50 ms for 50 s.
  const input = [...fast, server.url('/dribble?n=1000&ms=50')].join('\n') + '\n'
  // --progress on a pipe writes a frame as lines, so the test can see when
  // the command has taken in the five.
  const child = spawn(process.execPath, [BIN, '-c', '1', '-o', output, '--save-dir', saveDir, '--report', report, '--progress'])
  const err = []
  child.stderr.on('data', (c) => err.push(c))
  child.stdin.end(input)
  const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  // Sent once the five are in and the slow body is being written to its
  // temporary file.
  const writing = () => fs.existsSync(saveDir) && fs.readdirSync(saveDir).some((n) => n.endsWith('.fetchpool-tmp'))
  const ready = () => Buffer.concat(err).toString().includes(' 5/6 ') && writing()
  for (let i = 0; i < 800 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  assert.ok(ready(), `the five never came in, or the slow body never started: ${Buffer.concat(err)}`)
  child.kill('SIGINT')
  const { code } = await closed
  const stderr = Buffer.concat(err).toString()
  assert.equal(code, 130, stderr)
  assert.deepEqual(parseLines(fs.readFileSync(output, 'utf8')).map((r) => [r.index, r.status]).sort(), [[0, 200], [1, 200], [2, 200], [3, 200], [4, 200]])
  assert.match(stderr, /fetchpool: 5 requests, 5 responses/)
  assert.match(stderr, /interrupted after 5 of 6 requests/)
  assert.ok(fs.existsSync(report))
  assert.deepEqual(fs.readdirSync(saveDir).filter((n) => n.includes('fetchpool')), [])
})

test('--method alone sets the method of plain URL lines, not of request objects, which need no body', async () => {
  const saveDir = path.join(dir, 'method-alone')
  const input = `${server.url('/echo')}\n${JSON.stringify({ url: server.url('/echo') })}\n`
  const { code } = await cli(['-X', 'DELETE', '--save-dir', saveDir], { input })
  assert.equal(code, 0)
  const methods = ['0-echo', '1-echo'].map((name) => JSON.parse(fs.readFileSync(path.join(saveDir, name), 'utf8')).method)
  assert.deepEqual(methods, ['DELETE', 'GET'])
})
