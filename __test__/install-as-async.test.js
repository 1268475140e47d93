'use strict'

// fetchpool installed under the name async: the packed tarball goes into an
// empty project as its "async" dependency, and as the async of a dependency
// that asks for async ^3 (through "overrides"). Everything runs offline; the
// native path runs against a server this process starts.

const { test, before, after } = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const { startHttpServer } = require('./support/http-server')
const { cacheRuntimeDependencies } = require('./support/npm-cache')

const run = promisify(execFile)
const ROOT = path.join(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const NPM_FLAGS = ['--no-audit', '--no-fund', '--offline', '--ignore-scripts', '--loglevel=error']
// fetchpool's own dependencies come from npm's cache (support/npm-cache.js).
const npmFlags = () => NPM_FLAGS

let dir
let server

// A dependency of the project that requires a deep path of async itself.
const DEPENDENCY = {
  'package.json': JSON.stringify({ name: 'uses-async', version: '1.0.0', main: 'index.js', dependencies: { async: '^3.2.0' } }),
  'index.js': `'use strict';
const eachLimit = require('async/eachLimit');
module.exports = (items, callback) => {
  const seen = [];
  eachLimit(items, 2, (item, next) => { seen.push(item); next(); }, (err) => callback(err, seen));
};
`
}

function writeAll (base, files) {
  fs.mkdirSync(base, { recursive: true })
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(base, name), text)
}

// The root package and this system's platform package, as `npm run pack`
// makes them from the addon already built (no second build).
async function packFetchpool (to) {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts', 'pack.js'), '--prebuilt', '--dest', to], { cwd: to })
  const [root, platform] = stdout.trim().split('\n').map((file) => path.join(to, file))
  return { root, platform, platformName: path.basename(platform).replace(/-\d+\.\d+\.\d+\.tgz$/, '') }
}

// --pack-destination keeps the worktree clean; --ignore-scripts skips any
// build script.
async function pack (from, to) {
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', to, ...npmFlags()], { cwd: from, maxBuffer: 1 << 24 })
  return path.join(to, JSON.parse(stdout)[0].filename)
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-as-async-'))
  const fetchpool = await packFetchpool(dir)
  writeAll(path.join(dir, 'uses-async'), DEPENDENCY)
  const dependency = await pack(path.join(dir, 'uses-async'), dir)
  writeAll(path.join(dir, 'project'), {
    'package.json': JSON.stringify({
      name: 'project',
      version: '1.0.0',
      private: true,
      dependencies: {
        async: `file:${fetchpool.root}`,
        'uses-async': `file:${dependency}`,
        // From the registry once published; offline here, from its tarball.
        [fetchpool.platformName]: `file:${fetchpool.platform}`
      },
      overrides: { async: '$async' }
    })
  })
  await cacheRuntimeDependencies()
  await run(npm, ['install', ...npmFlags()], { cwd: path.join(dir, 'project') })
  server = await startHttpServer((req, res) => res.end(`body ${req.url}`))
})

after(async () => {
  if (server) await server.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

// Runs a script in the project (not execFileSync: this process serves its requests).
async function inProject (file, text) {
  fs.writeFileSync(path.join(dir, 'project', file), text)
  const { stdout } = await run(process.execPath, [file], { cwd: path.join(dir, 'project') })
  return JSON.parse(stdout)
}

test('require: async, async/mapLimit, and a dependency requiring async/eachLimit', async () => {
  const out = await inProject('check.cjs', `
const async = require('async');
const mapLimit = require('async/mapLimit');
const usesAsync = require('uses-async');
const installed = require('path').dirname(require.resolve('async/package.json'));
usesAsync([1, 2, 3], (err, seen) => {
  mapLimit([1, 2], 2, (x, cb) => cb(null, x * 10), (err2, tens) => {
    console.log(JSON.stringify({
      name: require('async/package.json').name,
      installed,
      same: mapLimit === async.mapLimit,
      dependencyGotTheSameAsync: require.resolve('async', { paths: [require.resolve('uses-async')] }) === require.resolve('async'),
      seen, tens, errors: [err, err2],
    }));
  });
});
`)
  assert.strictEqual(out.name, 'fetchpool')
  assert.strictEqual(out.installed, path.join(dir, 'project', 'node_modules', 'async'))
  assert.strictEqual(out.same, true)
  assert.strictEqual(out.dependencyGotTheSameAsync, true)
  assert.deepStrictEqual(out.seen, [1, 2, 3])
  assert.deepStrictEqual(out.tens, [10, 20])
  assert.deepStrictEqual(out.errors, [null, null])
})

test("import: { mapLimit } from 'async' and waterfall from 'async/waterfall.js'", async () => {
  const out = await inProject('check.mjs', `
import async, { mapLimit } from 'async';
import waterfall from 'async/waterfall.js';
const order = [];
const result = await waterfall([(cb) => { order.push(1); cb(null, 2); order.push(3); }, (x, cb) => { order.push(x); cb(null, x * 2); }]);
console.log(JSON.stringify({
  same: mapLimit === async.mapLimit,
  mapped: await mapLimit([1, 2, 3], 2, async (x) => x + 1),
  result, order,
}));
`)
  assert.deepStrictEqual(out, { same: true, mapped: [2, 3, 4], result: 4, order: [1, 2, 3] })
})

test('the native path: async.mapLimit(urls, 8, async.fetch, cb) runs on the installed addon', async () => {
  const urls = Array.from({ length: 12 }, (_, i) => server.url(`/${i}`))
  const out = await inProject('native.cjs', `
const async = require('async');
// Counts the batches handed to the pool (by file path: "exports" hides lib/).
const { Client } = require(require('path').join(require.resolve('async'), '..', 'lib', 'client.js'));
const gather = Client.prototype._gather;
let batches = 0;
Client.prototype._gather = function counted(...args) { batches++; return gather.apply(this, args); };
async.mapLimit(${JSON.stringify(urls)}, 8, async.fetch, async (err, responses) => {
  const bodies = await Promise.all(responses.map((r) => r.text()));
  const addon = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
  console.log(JSON.stringify({ err, statuses: responses.map((r) => r.status), bodies, addon, batches }));
  async.defaultClient.close();
});
`)
  assert.strictEqual(out.err, null)
  assert.deepStrictEqual(out.statuses, urls.map(() => 200))
  assert.deepStrictEqual(out.bodies, urls.map((_, i) => `body /${i}`))
  assert.strictEqual(out.batches, 1, 'one batch on the pool, not one fetch per URL')
  assert.strictEqual(out.addon.length, 1)
  // The binary comes from the platform package installed beside it.
  assert.ok(out.addon[0].startsWith(path.join(dir, 'project', 'node_modules', 'fetchpool-')), out.addon[0])
  assert.strictEqual(server.requests.filter((r) => /^\/\d+$/.test(r.url)).length, urls.length)
})

test('types: async and its deep paths type-check, with and without "exports" resolution', async () => {
  const project = path.join(dir, 'project')
  writeAll(project, {
    'check.ts': `import async = require('async');
import mapLimit = require('async/mapLimit');
import waterfall = require('async/waterfall.js');
const tens: Promise<number[]> = mapLimit([1, 2], 2, async (x: number) => x * 10);
const same: typeof async.mapLimit = mapLimit;
waterfall([(cb: (err: Error | null) => void) => cb(null)], (err) => { if (err) throw err; });
// @ts-expect-error a deep path is typed: this is no string
const wrong: string = mapLimit;
void [tens, same, wrong];
`
  })
  const tsc = require.resolve('typescript/bin/tsc')
  for (const resolution of [['commonjs', 'node'], ['node16', 'node16']]) {
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        lib: ['ES2022'],
        skipLibCheck: true, // the declarations themselves are checked by __test__/types-deep
        // fetchpool's types refer to Node's: the project would have @types/node.
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        types: ['node'],
        module: resolution[0],
        moduleResolution: resolution[1]
      },
      files: ['check.ts']
    }
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(config))
    const { stdout } = await run(process.execPath, [tsc, '-p', project]).catch((err) => err)
    assert.strictEqual(stdout, '', `moduleResolution ${resolution[1]}`)
  }
})
