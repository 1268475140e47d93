'use strict'

// Mutation testing, outside `npm test` because it takes a long while (see
// docs/mutation.md): Stryker over lib/ and index.js (stryker.config.mjs),
// then cargo-mutants over the engine (.cargo/mutants.toml).
//
//   npm run mutation            both
//   npm run mutation -- --js    Stryker only
//   npm run mutation -- --rust  cargo-mutants only
//
// Any other argument goes to the tool that runs, e.g. `--js --force` to
// rebuild Stryker's incremental file, or `--js --mutate lib/join.js`.
// Run it under `nice -n 19` on a shared machine.

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')

function run (command, args) {
  console.log(`\n$ ${[command, ...args].join(' ')}`)
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.error) throw result.error
  return result.status === null ? 1 : result.status
}

function stryker (extra) {
  // Incremental: a re-run after a small change tests only the mutants whose
  // code or covering tests changed (the file is under reports/mutation/).
  const bin = path.join(root, 'node_modules', '.bin', 'stryker')
  return run(bin, ['run', '--incremental', ...extra])
}

function cargoMutants (extra) {
  const probe = spawnSync('cargo', ['mutants', '--version'], { cwd: root, encoding: 'utf8' })
  if (probe.status !== 0) {
    console.error('cargo-mutants is not installed. Install it with:\n\n  cargo install cargo-mutants --locked\n')
    return 1
  }
  return run('cargo', ['mutants', ...extra])
}

function main (argv) {
  const js = argv.includes('--js')
  const rust = argv.includes('--rust')
  const extra = argv.filter((arg) => arg !== '--js' && arg !== '--rust')
  const both = js === rust
  let status = 0
  if (both || js) status = stryker(both ? [] : extra) || status
  if (both || rust) status = cargoMutants(both ? [] : extra) || status
  return status
}

process.exitCode = main(process.argv.slice(2))
