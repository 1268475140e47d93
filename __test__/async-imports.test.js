'use strict'

// Every way code imports async works with fetchpool: the names (held to async
// 3.2.6's own list), named ESM imports, and the deep paths fetchpool/<name> and
// fetchpool/<name>.js from CommonJS and ESM, which load only what they need.

const { test, describe } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

const run = promisify(execFile)

const NAMES = require('../lib/async/names')
const { files, DIR } = require('../scripts/deep-paths')

const ROOT = path.join(__dirname, '..')
const asyncRoot = path.dirname(require.resolve('async/package.json'))

describe('names', () => {
  test("are async 3.2.6's: its main module's and its one-file-per-function list", () => {
    const main = Object.keys(require('async')).filter((k) => k !== 'default')
    assert.deepStrictEqual([...NAMES].sort(), main.sort())
    const perFile = fs.readdirSync(asyncRoot).filter((f) => f.endsWith('.js') && f !== 'index.js')
      .map((f) => f.slice(0, -3))
    assert.deepStrictEqual([...NAMES].sort(), perFile.sort())
  })

  test("each is a plain property of the module, as async's are, before and after its first read", () => {
    const fetchpool = require('..')
    const listed = Object.keys(fetchpool)
    for (const name of NAMES) assert.ok(listed.includes(name), name)
    const value = fetchpool.mapLimit
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(fetchpool, 'mapLimit'),
      { value, writable: true, enumerable: true, configurable: true })
    // A name assigned before its first read keeps what it was given.
    const timesLimit = require('../lib/async/lazy').load('timesLimit')
    const mine = () => {}
    fetchpool.timesLimit = mine
    assert.strictEqual(fetchpool.timesLimit, mine)
    fetchpool.timesLimit = timesLimit
  })

  test('index.mjs, fn/ and its types are what scripts/deep-paths.js generates', () => {
    const expected = files()
    for (const [file, text] of expected) {
      assert.strictEqual(fs.readFileSync(path.join(ROOT, file), 'utf8'), text, `${file} is out of date: npm run deep-paths`)
    }
    const onDisk = fs.readdirSync(path.join(ROOT, DIR)).map((f) => `${DIR}/${f}`).sort()
    assert.deepStrictEqual(onDisk, [...expected.keys()].filter((f) => f.startsWith(`${DIR}/`)).sort())
  })
})

describe('ESM', () => {
  test("import { name } works for every one of async's ESM names, default included", async () => {
    const ours = await import('fetchpool')
    const theirs = await import('async')
    for (const name of Object.keys(theirs)) {
      // Node 23 on names a CommonJS module's own exports object in its
      // namespace ('module.exports'); it is no async name.
      if (name === '__esModule' || name === 'module.exports') continue
      assert.ok(name in ours, name)
      assert.strictEqual(typeof ours[name], typeof theirs[name], name)
    }
    assert.strictEqual(ours.default, require('fetchpool'))
    for (const name of NAMES) assert.strictEqual(ours[name], ours.default[name], name)
  })

  test('the native names stay named exports', async () => {
    const ours = await import('fetchpool')
    for (const name of ['fetch', 'gather', 'stream', 'queue', 'Client', 'FetchError', 'Response', 'stats']) {
      assert.strictEqual(ours[name], ours.default[name], name)
    }
  })
})

describe('deep paths', () => {
  test('fetchpool/<name> and <name>.js give one function, from require and import, as the main entry', async () => {
    const fetchpool = require('fetchpool')
    for (const name of NAMES) {
      const plain = require(`fetchpool/${name}`)
      assert.strictEqual(typeof plain, 'function', name)
      assert.strictEqual(typeof require(`async/${name}`), 'function', name)
      assert.strictEqual(require(`fetchpool/${name}.js`), plain, name)
      assert.strictEqual((await import(`fetchpool/${name}.js`)).default, plain, name)
      assert.strictEqual((await import(`fetchpool/${name}`)).default, plain, name)
      assert.strictEqual(plain, fetchpool[name], name)
    }
  })

  test("behave as async's own files", async () => {
    const pairs = (name) => [require(`fetchpool/${name}`), require(`async/${name}`)]
    for (const mapLimit of pairs('mapLimit')) {
      assert.deepStrictEqual(await mapLimit([3, 1, 2], 2, async (x) => x * 2), [6, 2, 4])
    }
    for (const waterfall of pairs('waterfall')) {
      const order = []
      await new Promise((resolve) => waterfall([
        (cb) => { order.push(1); cb(); order.push(2) },
        (cb) => { order.push(3); cb() }
      ], resolve))
      assert.deepStrictEqual(order, [1, 3, 2])
    }
    const outcomes = []
    for (const reflect of pairs('reflect')) {
      outcomes.push(await new Promise((resolve) => reflect(async () => { throw new Error('r') })((err, out) => resolve(Object.keys(out)))))
    }
    assert.deepStrictEqual(outcomes, [['error', 'value'], ['error', 'value']])
  })

  test("async's other entry points, index and dist/async, are the main entry", async () => {
    const fetchpool = require('fetchpool')
    for (const entry of ['index', 'index.js', 'dist/async', 'dist/async.js', 'dist/async.min.js']) {
      assert.strictEqual(require(`fetchpool/${entry}`), fetchpool, entry)
      assert.strictEqual((await import(`fetchpool/${entry}`)).default, fetchpool, entry)
    }
    assert.strictEqual((await import('fetchpool/dist/async.mjs')).mapLimit, fetchpool.mapLimit)
    // TypeScript's CommonJS output of `import fetchpool from 'fetchpool'` reads `.default`.
    assert.strictEqual(fetchpool.default, fetchpool)
  })

  test('a path outside the names is not exported', () => {
    assert.throws(() => require('fetchpool/lib/client'), { code: 'MODULE_NOT_FOUND' })
    assert.throws(() => require('fetchpool/noSuchFunction'), { code: 'MODULE_NOT_FOUND' })
  })

  test('no deep path loads the HTTP client or the addon until the native path needs them', async () => {
    const { startHttpServer } = require('./support/http-server')
    const server = await startHttpServer((req, res) => res.end(req.url))
    try {
      const script = `
        const loaded = () => Object.keys(require.cache).filter((k) => /client\\.js$|binding\\.js$|\\.node$/.test(k)).length;
        const waterfall = require('fetchpool/waterfall');
        const mapLimit = require('fetchpool/mapLimit.js');
        for (const name of ${JSON.stringify(NAMES)}) require('fetchpool/' + name);
        waterfall([(cb) => cb(null, 1), (x, cb) => cb(null, x + 1)], (err, two) => {
          mapLimit([1, 2], 1, (x, cb) => cb(null, x * two), (err, plain) => {
            const before = loaded();
            // No iteratee: the URLs are fetched on the pool, as through fetchpool's index.
            mapLimit(${JSON.stringify([server.url('/a'), server.url('/b')])}, 2).then(async (responses) => {
              const bodies = await Promise.all(responses.map((r) => r.text()));
              console.log(JSON.stringify([two, plain, before, loaded() > 0, bodies]));
              require('fetchpool').defaultClient.close();
            });
          });
        });`
      // Not execFileSync: this process serves the child's requests meanwhile.
      const { stdout: out } = await run(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })
      assert.deepStrictEqual(JSON.parse(out), [2, [2, 4], 0, true, ['/a', '/b']])
      assert.deepStrictEqual(server.requests.map((r) => r.url).sort(), ['/a', '/b'])
    } finally {
      await server.close()
    }
  })

  test("with fetchpool's fetch as the iteratee a deep path runs on the pool in one batch", async () => {
    const { startHttpServer } = require('./support/http-server')
    const { Client } = require('../lib/client')
    const server = await startHttpServer((req, res) => res.end(req.url))
    const original = Client.prototype._gather
    let batches = 0
    Client.prototype._gather = function counted (...args) {
      batches++
      return original.apply(this, args)
    }
    try {
      const mapLimit = require('fetchpool/mapLimit')
      const fetchpool = require('fetchpool')
      const urls = [server.url('/1'), server.url('/2'), server.url('/3')]
      const responses = await mapLimit(urls, 2, fetchpool.fetch)
      assert.deepStrictEqual(await Promise.all(responses.map((r) => r.text())), ['/1', '/2', '/3'])
      assert.strictEqual(batches, 1)
    } finally {
      Client.prototype._gather = original
      await server.close()
    }
  })
})
