'use strict';

// async's messages for these three are part of its contract; users match on them.
function alreadyCalled() {
  return new Error('Callback was already called.');
}

function expectedFunction() {
  return new Error('expected a function');
}

function checkLimit(limit) {
  // `!(limit >= 1)` also rejects NaN and undefined, which would hang async.
  if (!(limit >= 1)) {
    throw new RangeError('concurrency limit cannot be less than 1');
  }
}

module.exports = { alreadyCalled, expectedFunction, checkLimit };
