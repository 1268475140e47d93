'use strict'

// async's messages for these three are part of its contract; users match on them.
function alreadyCalled () {
  return new Error('Callback was already called.')
}

function expectedFunction () {
  return new Error('expected a function')
}

function checkLimit (limit) {
  // As async: a limit of 0 or less throws and a fractional one runs up to its
  // ceiling at once. `!(limit > 0)` also rejects NaN and undefined, which
  // would hang async.
  if (!(limit > 0)) {
    throw new RangeError('concurrency limit cannot be less than 1')
  }
}

module.exports = { alreadyCalled, expectedFunction, checkLimit }
