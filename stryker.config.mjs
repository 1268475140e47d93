// Stryker over fetchpool's JavaScript: every file under lib/ and index.js.
// `npm run mutation` (scripts/mutation.js) runs it; docs/mutation.md says how
// long it takes and why each surviving mutant survives.
//
// The tests are node:test files, which print TAP when stdout is not a TTY, so
// the TAP runner runs them one file at a time under Stryker's hook. With
// per-test coverage each mutant then runs only the test files that reached it.

import { readdirSync } from 'node:fs'

// Test files left out of the mutation run. Each one runs the code it tests in
// child processes. A child sees the active mutant (Stryker passes it in the
// environment) but reports no coverage, so per-test coverage never picks these
// files for a lib/ mutant, while each costs seconds to minutes in every
// initial run:
//   install-as-async: packs the tarball and installs it into a scratch project.
//   bullmq: the example's worker processes against redis.
//   examples: each recipe in a child process.
//   stream-memory: measures memory in child processes.
//   descriptors: the client runs in a child under a low `ulimit -n`.
const childProcessOnly = [
  'install-as-async',
  'bullmq',
  'examples',
  'stream-memory',
  'descriptors'
]

// The TAP runner's glob takes no negations, so the list is made here.
const testFiles = readdirSync('__test__')
  .filter((name) => name.endsWith('.test.js'))
  .filter((name) => !childProcessOnly.includes(name.slice(0, -'.test.js'.length)))
  .map((name) => `__test__/${name}`)

// The command-line tool's files but record.js: their tests run the command
// in child processes, so stryker.cli.config.mjs runs them with coverage
// analysis off.
export const cliFiles = ['args', 'config', 'demo', 'input', 'main', 'output', 'progress', 'run', 'summary']
  .map((name) => `lib/cli/${name}.js`)

export default {
  mutate: ['lib/**/*.js', 'index.js', ...cliFiles.map((file) => `!${file}`)],
  testRunner: 'tap',
  tap: {
    testFiles,
    nodeArgs: ['-r', '{{hookFile}}', '-r', './scripts/mutation-watchdog.js'],
    forceBail: true
  },
  coverageAnalysis: 'perTest',
  // Code run while a module loads (top-level constants, tables) would have to
  // run the whole suite for each of its mutants; those are reported as
  // Ignored instead. docs/mutation.md says so.
  ignoreStatic: true,
  // Two cores, shared: more runners than that only make mutants time out.
  concurrency: 2,
  // A mutant that makes a test hang is reported Timeout (detected) once it
  // runs 1.5 times as long as the unmutated test files plus 10 s.
  timeoutMS: 10000,
  timeoutFactor: 1.5,
  // The sandbox gets the addon (binding.js and the .node file) with the rest
  // of the checkout; the Rust build tree (gigabytes) and reports do not go in.
  ignorePatterns: [
    'target',
    'reports',
    'mutants.out',
    'mutants.out.old',
    'bench/node_modules',
    'dist',
    '*.tgz',
    '.stryker-tmp*'
  ],
  // No type checker runs, and the `// @ts-nocheck` this would add to each file
  // breaks the test that holds index.mjs and fn/ to their generator.
  disableTypeChecks: false,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true
}
