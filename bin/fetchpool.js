#!/usr/bin/env node
'use strict'

const { main } = require('../lib/cli/main')

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
}, (err) => {
  process.stderr.write(`fetchpool: ${err && err.stack ? err.stack : err}\n`)
  process.exitCode = 1
})
