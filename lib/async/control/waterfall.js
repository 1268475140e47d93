'use strict';

const { wrapAsync } = require('../internal/wrap-async');
const { once } = require('../internal/once');
const { alreadyCalled } = require('../internal/errors');
const { awaitify } = require('../internal/awaitify');

// Each task gets the values the previous one passed. A task that calls back
// synchronously does not grow the stack: the loop below starts the next one.
function waterfall(tasks, callback) {
  callback = once(callback);
  if (!Array.isArray(tasks)) {
    return callback(new Error('First argument to waterfall must be an array of functions'));
  }
  if (!tasks.length) return callback();
  let index = 0;
  let args = [];
  let looping = false;
  let pending = false;

  function stepCallback() {
    let called = false;
    return (err, ...values) => {
      if (called) throw alreadyCalled();
      called = true;
      if (err === false) return;
      if (err || index === tasks.length) {
        callback(err, ...values);
        return;
      }
      args = values;
      if (looping) pending = true;
      else run();
    };
  }

  function run() {
    looping = true;
    try {
      do {
        pending = false;
        const task = wrapAsync(tasks[index++]);
        args.push(stepCallback());
        task.apply(undefined, args);
      } while (pending);
    } finally {
      looping = false;
    }
  }

  run();
}

module.exports = { waterfall: awaitify(waterfall, 2) };
