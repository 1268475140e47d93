'use strict'

// Passed as an iteratee's value by detect/some/every to end an iteration early.
// Private to this module, so no user value can ever be mistaken for it.
const breakLoop = Object.freeze({})

module.exports = { breakLoop }
