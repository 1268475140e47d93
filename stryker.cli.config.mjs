// Stryker over the command-line tool, lib/cli/: `npm run mutation -- --cli`.
//
// cli.test.js runs the command in child processes. A child sees the active
// mutant (Stryker passes it in the environment) but reports no coverage, so
// under stryker.config.mjs's per-test coverage every mutant of lib/cli/ is
// "not covered". Here scripts/mutation-no-coverage.js reports every mutant of
// lib/cli/ as reached by cli.test.js, so each one runs it, as a user runs the
// command. lib/cli/record.js, which
// report.test.js loads in-process, stays with the main run.

import base, { cliFiles } from './stryker.config.mjs'

export default {
  ...base,
  mutate: cliFiles,
  tap: {
    ...base.tap,
    testFiles: ['__test__/cli.test.js'],
    nodeArgs: [...base.tap.nodeArgs, '-r', './scripts/mutation-no-coverage.js']
  },
  // Static mutants (top-level tables) cost no more than the others here.
  ignoreStatic: false,
  incrementalFile: 'reports/mutation/stryker-cli-incremental.json',
  jsonReporter: { fileName: 'reports/mutation/mutation-cli.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation-cli.html' }
}
