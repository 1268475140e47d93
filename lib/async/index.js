'use strict';

// The async v3 drop-in surface. `createAsync(native)` builds it; `native` is
// fetchpool's core (see the README, "The async surface") and only changes the map/each/eachOf/
// mapValues families and queue(): with fetchpool's `fetch` as the iteratee (or
// no iteratee, or no queue worker) they run on the native pool. Without
// `native` the surface is pure JavaScript and behaves as async 3.2.6.

const { createMap } = require('./collections/map');
const { createEach } = require('./collections/each');
const { createEachOf } = require('./collections/each-of');
const { createMapValues } = require('./collections/map-values');
const filter = require('./collections/filter');
const detect = require('./collections/detect');
const some = require('./collections/some');
const every = require('./collections/every');
const concat = require('./collections/concat');
const groupBy = require('./collections/group-by');
const reduce = require('./collections/reduce');
const { sortBy } = require('./collections/sort-by');
const { transform } = require('./collections/transform');

const parallel = require('./control/parallel');
const { waterfall } = require('./control/waterfall');
const { auto } = require('./control/auto');
const { autoInject } = require('./control/auto-inject');
const { createQueueFactory, cargo, cargoQueue } = require('./control/queue');
const { priorityQueue } = require('./control/priority-queue');
const { retry, retryable } = require('./control/retry');
const whilst = require('./control/whilst');
const { forever } = require('./control/forever');
const times = require('./control/times');
const { race } = require('./control/race');
const { tryEach } = require('./control/try-each');
const { seq, compose } = require('./control/seq');
const { applyEach, applyEachSeries } = require('./control/apply-each');

const { reflect, reflectAll } = require('./utils/reflect');
const { timeout } = require('./utils/timeout');
const { ensureAsync } = require('./utils/ensure-async');
const { memoize, unmemoize } = require('./utils/memoize');
const { apply } = require('./utils/apply');
const { constant } = require('./utils/constant');
const { log, dir } = require('./utils/console');
const { asyncify } = require('./internal/wrap-async');
const defer = require('./internal/defer');

function createAsync(native) {
  if (native != null) {
    for (const name of ['isNativeIteratee', 'mapNative', 'fetch']) {
      if (typeof native[name] !== 'function') {
        throw new TypeError(`createAsync: native.${name} must be a function`);
      }
    }
  }
  const surface = {
    ...createMap(native),
    ...createEach(native),
    ...createEachOf(native),
    ...createMapValues(native),
    ...filter,
    ...detect,
    ...some,
    ...every,
    ...concat,
    ...groupBy,
    ...reduce,
    sortBy,
    transform,

    ...parallel,
    waterfall,
    auto,
    autoInject,
    queue: createQueueFactory(native),
    priorityQueue,
    cargo,
    cargoQueue,
    retry,
    retryable,
    ...whilst,
    forever,
    ...times,
    race,
    tryEach,
    compose,
    seq,
    applyEach,
    applyEachSeries,

    reflect,
    reflectAll,
    timeout,
    asyncify,
    ensureAsync,
    memoize,
    unmemoize,
    apply,
    constant,
    log,
    dir,
    nextTick: defer.nextTick,
    setImmediate: defer.setImmediate,
  };
  addAliases(surface);
  return surface;
}

// async's alias names, pointing at the same functions.
const ALIASES = {
  all: 'every', allLimit: 'everyLimit', allSeries: 'everySeries',
  any: 'some', anyLimit: 'someLimit', anySeries: 'someSeries',
  find: 'detect', findLimit: 'detectLimit', findSeries: 'detectSeries',
  flatMap: 'concat', flatMapLimit: 'concatLimit', flatMapSeries: 'concatSeries',
  forEach: 'each', forEachLimit: 'eachLimit', forEachSeries: 'eachSeries',
  forEachOf: 'eachOf', forEachOfLimit: 'eachOfLimit', forEachOfSeries: 'eachOfSeries',
  inject: 'reduce', foldl: 'reduce', foldr: 'reduceRight',
  select: 'filter', selectLimit: 'filterLimit', selectSeries: 'filterSeries',
  wrapSync: 'asyncify', during: 'whilst', doDuring: 'doWhilst',
};

function addAliases(surface) {
  for (const alias of Object.keys(ALIASES)) surface[alias] = surface[ALIASES[alias]];
}

// require('./lib/async') is itself a pure-JS async drop-in, plus the factory.
module.exports = Object.assign(createAsync(null), { createAsync, ALIASES });
