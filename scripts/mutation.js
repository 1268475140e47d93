'use strict'

// Mutation testing, outside `npm test` because it takes a long while (see
// docs/mutation.md): Stryker over lib/ and index.js (stryker.config.mjs) and
// over the command-line tool (stryker.cli.config.mjs), then cargo-mutants
// over the engine (.cargo/mutants.toml).
//
//   npm run mutation            all three
//   npm run mutation -- --js    Stryker over lib/ and index.js only
//   npm run mutation -- --cli   Stryker over the command-line tool only
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

function stryker (config, extra) {
  // Incremental: a re-run after a small change tests only the mutants whose
  // code or covering tests changed (the files are under reports/mutation/).
  const bin = path.join(root, 'node_modules', '.bin', 'stryker')
  return run(bin, ['run', config, '--incremental', ...extra])
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
  const flags = ['--js', '--cli', '--rust']
  const [js, cli, rust] = flags.map((flag) => argv.includes(flag))
  const extra = argv.filter((arg) => !flags.includes(arg))
  const all = !js && !cli && !rust
  const only = all ? [] : extra
  let status = 0
  if (all || js) status = stryker('stryker.config.mjs', only) || status
  if (all || cli) status = stryker('stryker.cli.config.mjs', only) || status
  if (all || rust) status = cargoMutants(only) || status
  return status
}

process.exitCode = main(process.argv.slice(2))
