'use strict'

// `npm run pack`: the release build, then the two tarballs a user installs
// on this system, in dist/: the root package (JavaScript, types and the
// loader; no binary, no build on install) and this system's platform
// package (the .node). `--prebuilt` packs the binary already built, so CI
// builds once.
//
// The root package is packed from a copy whose package.json has no
// `prepare`: in this repository `npm install` builds from source through
// it, but npm counts it as an install script of a packed package and warns
// consumers, who get the binary from the platform package instead.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const { napi } = require('../package.json')

/** The npm/ folder name napi-rs gives this system, e.g. linux-x64-gnu. */
function platformDir () {
  const abi = { linux: '-gnu', win32: '-msvc' }[process.platform] || ''
  return `${process.platform}-${process.arch}${abi}`
}

function npm (args, cwd) {
  const out = execFileSync('npm', args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' })
  return JSON.parse(out)[0].filename
}

/** Copies what `files` selects into dist/root, less the build on install. */
function stageRoot () {
  const stage = path.join(dist, 'root')
  fs.rmSync(stage, { recursive: true, force: true })
  const [listing] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'],
    { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' }))
  for (const { path: file } of listing.files) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(stage, file))
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  delete manifest.scripts.prepare
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  return stage
}

function main () {
  if (!process.argv.includes('--prebuilt')) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  }
  const dir = platformDir()
  const binary = `${napi.binaryName}.${dir}.node`
  const packageDir = path.join(root, 'npm', dir)
  if (!fs.existsSync(packageDir)) throw new Error(`no platform package for ${dir} in npm/`)
  fs.copyFileSync(path.join(root, binary), path.join(packageDir, binary))
  fs.mkdirSync(dist, { recursive: true })
  const tarballs = [
    npm(['pack', '--json', '--pack-destination', dist], stageRoot()),
    npm(['pack', '--json', '--pack-destination', dist], packageDir)
  ]
  for (const name of tarballs) console.log(path.join('dist', name))
}

main()
