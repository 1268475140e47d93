'use strict';

// whilst, doWhilst, until and doUntil. The test and the body alternate; when
// both call back synchronously, a loop (not recursion) drives them, so long
// synchronous loops use constant stack. The final callback gets the values the
// last body call passed.

const { wrapAsync } = require('../internal/wrap-async');
const { onlyOnce } = require('../internal/once');
const { awaitify } = require('../internal/awaitify');

// Runs `step` now, or after the current step returns when called from inside one.
function trampoline() {
  let running = false;
  let queued = null;
  return function schedule(step) {
    queued = step;
    if (running) return;
    running = true;
    try {
      while (queued !== null) {
        const run = queued;
        queued = null;
        run();
      }
    } finally {
      running = false;
    }
  };
}

function whilst(test, iteratee, callback) {
  callback = onlyOnce(callback);
  const body = wrapAsync(iteratee);
  const check = wrapAsync(test);
  const schedule = trampoline();
  let results = [];

  const runTest = () => check(afterTest);
  const runBody = () => body(afterBody);

  function afterBody(err, ...values) {
    if (err) return callback(err);
    results = values;
    if (err === false) return;
    schedule(runTest);
  }

  function afterTest(err, truth) {
    if (err) return callback(err);
    if (err === false) return;
    if (!truth) return callback(null, ...results);
    schedule(runBody);
  }

  schedule(runTest);
}

function doWhilst(iteratee, test, callback) {
  callback = onlyOnce(callback);
  const body = wrapAsync(iteratee);
  const check = wrapAsync(test);
  const schedule = trampoline();
  let results;

  const runBody = () => body(afterBody);
  const runTest = () => check(...results, afterTest);

  function afterBody(err, ...values) {
    if (err) return callback(err);
    if (err === false) return;
    results = values;
    schedule(runTest);
  }

  function afterTest(err, truth) {
    if (err) return callback(err);
    if (err === false) return;
    if (!truth) return callback(null, ...results);
    schedule(runBody);
  }

  schedule(runBody);
}

const whilstAwaitable = awaitify(whilst, 3);
const doWhilstAwaitable = awaitify(doWhilst, 3);

function until(test, iteratee, callback) {
  const check = wrapAsync(test);
  return whilstAwaitable((cb) => check((err, truth) => cb(err, !truth)), iteratee, callback);
}

function doUntil(iteratee, test, callback) {
  const check = wrapAsync(test);
  return doWhilstAwaitable(iteratee, (...args) => {
    const cb = args.pop();
    check(...args, (err, truth) => cb(err, !truth));
  }, callback);
}

module.exports = { whilst: whilstAwaitable, doWhilst: doWhilstAwaitable, until, doUntil };
