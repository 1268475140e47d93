'use strict'

// Preloaded, after Stryker's hook, into the test file of the command-line
// tool's run (stryker.cli.config.mjs). That file runs the command in child
// processes, which see the active mutant (Stryker passes it in the
// environment) but report no coverage, so Stryker would call most of
// lib/cli/'s mutants "not covered". In the first (dry) run this reports every
// mutant of the instrumented lib/cli/ files as reached, so that Stryker runs
// the file for each of them.
const fs = require('node:fs')
const path = require('node:path')

const ns = global[process.env.STRYKER_NAMESPACE || '__stryker__']

if (ns !== undefined && process.env.STRYKER_DRY_RUN === 'true') {
  const reached = {}
  const dir = path.join(process.cwd(), 'lib', 'cli')
  for (const name of fs.readdirSync(dir)) {
    const source = fs.readFileSync(path.join(dir, name), 'utf8')
    for (const [, id] of source.matchAll(/stryMutAct_9fa48\("(\d+)"\)/g)) reached[id] = 1
  }
  ns.mutantCoverage = { static: reached, perTest: {} }
}
