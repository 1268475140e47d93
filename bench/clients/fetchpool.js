'use strict'

// The fetchpool module under test: the work tree (two folders up), or the
// folder named by BENCH_FETCHPOOL.

const path = require('node:path')

module.exports = require(process.env.BENCH_FETCHPOOL || path.resolve(__dirname, '..', '..'))
