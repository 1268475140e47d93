'use strict'

// The packed tarballs (`npm run pack`, in dist/) installed into an empty
// project the way a user installs them, with no Rust toolchain on PATH: the
// package must load from CommonJS, ESM and TypeScript and fetch from a local
// server, and with its platform package gone it must say what exists.
// Run with `node --test __test__/install/*.test.js` after `npm run pack`.

const { test, before, after } = require('node:test')
const assert = require('node:assert')
const { execFile, execFileSync } = require('node:child_process')
const { promisify } = require('node:util')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startHttpServer } = require('../support/http-server')
const { cacheRuntimeDependencies } = require('../support/npm-cache')

const repo = path.join(__dirname, '..', '..')
const dist = path.join(repo, 'dist')
const pkg = require('../../package.json')

let project
let server
let env

/** PATH without the directories that hold cargo or rustc. */
function pathWithoutRust () {
  const names = process.platform === 'win32' ? ['cargo.exe', 'rustc.exe'] : ['cargo', 'rustc']
  return process.env.PATH.split(path.delimiter)
    .filter((dir) => !names.some((name) => fs.existsSync(path.join(dir, name))))
    .join(path.delimiter)
}

/** Runs a command in the project; the loop stays free for the server. */
async function run (file, args) {
  const { stdout } = await promisify(execFile)(file, args, {
    cwd: project,
    env,
    shell: process.platform === 'win32'
  })
  return stdout
}

/** Runs `script` with this Node in the project; returns what it printed. */
async function node (script) {
  return JSON.parse(await run(process.execPath, [script]))
}

const CJS = `
const { gather } = require('fetchpool')
gather([process.env.TARGET + '/a', process.env.TARGET + '/b']).then(async (list) => {
  console.log(JSON.stringify(await Promise.all(list.map(async (r) => [r.status, await r.text()]))))
})
`

const ESM = `
import { gather } from 'fetchpool'
const list = await gather([process.env.TARGET + '/c'])
console.log(JSON.stringify([list[0].status, await list[0].text()]))
`

// Without esModuleInterop the default import compiles to a plain `.default`
// read, which the CommonJS module must have.
const TS = `
import fetchpool, { fetch, Response } from 'fetchpool'
async function main (): Promise<void> {
  const res: Response = await fetch(process.env.TARGET + '/d')
  const body: string = await res.text()
  const again: Response[] = await fetchpool.gather([process.env.TARGET + '/e'])
  console.log(JSON.stringify([res.status, body, await again[0].text()]))
}
void main()
`

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    module: 'commonjs',
    moduleResolution: 'node',
    esModuleInterop: false,
    typeRoots: [path.join(repo, 'node_modules', '@types')],
    types: ['node'],
    outDir: 'out'
  },
  files: ['check.ts']
}

before(async () => {
  const tarballs = fs.readdirSync(dist).filter((name) => name.endsWith('.tgz'))
  assert.ok(tarballs.some((name) => name === `fetchpool-${pkg.version}.tgz`), 'run `npm run pack` first')
  assert.ok(tarballs.some((name) => name.startsWith('fetchpool-') && name !== `fetchpool-${pkg.version}.tgz`))
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-install-'))
  env = { ...process.env, PATH: pathWithoutRust() }
  for (const tool of ['cargo', 'rustc']) {
    assert.throws(() => execFileSync(tool, ['--version'], { env, stdio: 'ignore' }), `${tool} is still on PATH`)
  }
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'install-check', private: true }))
  // --offline: everything comes from the two tarballs and npm's cache
  // (support/npm-cache.js); the other systems' platform packages are
  // optional and skipped.
  await cacheRuntimeDependencies()
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts',
    ...tarballs.map((name) => path.join(dist, name))])
  server = await startHttpServer((req, res) => res.end(`body of ${req.url}`))
  env.TARGET = server.url('').replace(/\/$/, '')
})

after(async () => {
  if (server) await server.close()
  if (project) fs.rmSync(project, { recursive: true, force: true })
})

test('the root package ships no binary and no build on install', () => {
  const installed = path.join(project, 'node_modules', 'fetchpool')
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'))
  assert.strictEqual(Object.keys(manifest.optionalDependencies).length, pkg.napi.targets.length)
  assert.deepStrictEqual(Object.keys(manifest.scripts || {}).filter((name) =>
    ['preinstall', 'install', 'postinstall', 'prepare'].includes(name)), [])
  assert.deepStrictEqual(fs.readdirSync(installed).filter((name) => name.endsWith('.node')), [])
})

test('require() loads the platform package and fetches', async () => {
  fs.writeFileSync(path.join(project, 'check.cjs'), CJS)
  assert.deepStrictEqual(await node('check.cjs'), [[200, 'body of /a'], [200, 'body of /b']])
})

test('import loads the same package and fetches', async () => {
  fs.writeFileSync(path.join(project, 'check.mjs'), ESM)
  assert.deepStrictEqual(await node('check.mjs'), [200, 'body of /c'])
})

test('a TypeScript file type-checks against the shipped types and fetches', async () => {
  fs.writeFileSync(path.join(project, 'check.ts'), TS)
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG))
  await run(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'])
  assert.deepStrictEqual(await node(path.join('out', 'check.js')), [200, 'body of /d', 'body of /e'])
})

test('without a platform package the async surface works, and the first client names the targets and the way to build', async () => {
  const platformPackages = fs.readdirSync(path.join(project, 'node_modules'))
    .filter((name) => name.startsWith('fetchpool-'))
  assert.strictEqual(platformPackages.length, 1)
  fs.rmSync(path.join(project, 'node_modules', platformPackages[0]), { recursive: true })
  // The async surface is JavaScript and works; the first client needs the
  // addon, and says what is missing.
  fs.writeFileSync(path.join(project, 'missing.cjs'), `
const fetchpool = require('fetchpool')
fetchpool.mapLimit([1, 2, 3], 2, async (n) => n * 2, (err, doubled) => {
  let seen = { err, doubled }
  try { new fetchpool.Client() } catch (err) {
    seen = { ...seen, code: err.code, targets: err.targets, packages: err.packages, cause: err.cause instanceof Error }
  }
  try { fetchpool.fetch('http://127.0.0.1:1/') } catch (err) { seen.fetchCode = err.code }
  console.log(JSON.stringify(seen))
})`)
  const seen = await node('missing.cjs')
  assert.deepStrictEqual([seen.err, seen.doubled], [null, [2, 4, 6]])
  assert.strictEqual(seen.code, 'ERR_NO_NATIVE_BINARY')
  assert.strictEqual(seen.fetchCode, 'ERR_NO_NATIVE_BINARY')
  // The loader's own error, with every path it tried, stays on as the cause.
  assert.strictEqual(seen.cause, true)
  assert.deepStrictEqual(seen.targets, pkg.napi.targets)
  const published = fs.readdirSync(path.join(repo, 'npm'))
    .map((dir) => require(path.join(repo, 'npm', dir, 'package.json')).name)
  assert.deepStrictEqual(seen.packages.sort(), published.sort())
  assert.ok(seen.packages.includes(platformPackages[0]))
})
