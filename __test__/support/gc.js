'use strict'

// A full garbage collection from inside a test, for WeakRefs and heap sizes.
// V8 keeps a WeakRef's target until the job that made it ends, so each
// collection comes after a turn of the event loop.

const v8 = require('node:v8')
const vm = require('node:vm')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

/** Resolves after three turns of the event loop, each followed by a full GC. */
async function collectGarbage () {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
}

module.exports = { collectGarbage }
