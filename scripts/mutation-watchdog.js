'use strict'

// Preloaded into each test file Stryker runs (stryker.config.mjs): a mutant
// that leaves a request unanswered hangs its test for good, and Stryker's own
// timeout is scaled to every file that covers the mutant, minutes on the
// core files. A file still running after this long has hung: it bails out,
// which fails it, and the mutant counts as detected. The slowest file takes
// about 11 s unmutated on an idle 2-core machine.
const LIMIT_MS = Number(process.env.FETCHPOOL_MUTATION_FILE_LIMIT_MS || 60000)

setTimeout(() => {
  // A failed test line first: a bail-out alone reads as a crash to Stryker.
  const line = `not ok 9999 - still running after ${LIMIT_MS} ms\nBail out! still running after ${LIMIT_MS} ms\n`
  process.stdout.write(line, () => process.exit(1))
}, LIMIT_MS).unref()
