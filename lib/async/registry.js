'use strict'

// Where each async name comes from: the module that makes it, loaded only when
// one of its names is first asked for. Both the whole surface (createAsync) and
// the lazy one behind fetchpool's index and its deep paths (lazy.js) are made
// from this table, so a name is the same function whichever way it is reached.
// `make(native)` gets the native core; only the map/each/eachOf/mapValues
// families and queue use it.

const MODULES = [
  [['map', 'mapLimit', 'mapSeries'], (native) => require('./collections/map').createMap(native)],
  [['each', 'eachLimit', 'eachSeries'], (native) => require('./collections/each').createEach(native)],
  [['eachOf', 'eachOfLimit', 'eachOfSeries'], (native) => require('./collections/each-of').createEachOf(native)],
  [['mapValues', 'mapValuesLimit', 'mapValuesSeries'],
    (native) => require('./collections/map-values').createMapValues(native)],
  [['filter', 'filterLimit', 'filterSeries', 'reject', 'rejectLimit', 'rejectSeries'],
    () => require('./collections/filter')],
  [['detect', 'detectLimit', 'detectSeries'], () => require('./collections/detect')],
  [['some', 'someLimit', 'someSeries'], () => require('./collections/some')],
  [['every', 'everyLimit', 'everySeries'], () => require('./collections/every')],
  [['concat', 'concatLimit', 'concatSeries'], () => require('./collections/concat')],
  [['groupBy', 'groupByLimit', 'groupBySeries'], () => require('./collections/group-by')],
  [['reduce', 'reduceRight'], () => require('./collections/reduce')],
  [['sortBy'], () => require('./collections/sort-by')],
  [['transform'], () => require('./collections/transform')],
  [['parallel', 'parallelLimit', 'series'], () => require('./control/parallel')],
  [['waterfall'], () => require('./control/waterfall')],
  [['auto'], () => require('./control/auto')],
  [['autoInject'], () => require('./control/auto-inject')],
  [['queue'], (native) => ({ queue: require('./control/queue').createQueueFactory(native) })],
  [['cargo', 'cargoQueue'], () => require('./control/queue')],
  [['priorityQueue'], () => require('./control/priority-queue')],
  [['retry', 'retryable'], () => require('./control/retry')],
  [['whilst', 'doWhilst', 'until', 'doUntil'], () => require('./control/whilst')],
  [['forever'], () => require('./control/forever')],
  [['times', 'timesLimit', 'timesSeries'], () => require('./control/times')],
  [['race'], () => require('./control/race')],
  [['tryEach'], () => require('./control/try-each')],
  [['seq', 'compose'], () => require('./control/seq')],
  [['applyEach', 'applyEachSeries'], () => require('./control/apply-each')],
  [['reflect', 'reflectAll'], () => require('./utils/reflect')],
  [['timeout'], () => require('./utils/timeout')],
  [['asyncify'], () => require('./internal/wrap-async')],
  [['ensureAsync'], () => require('./utils/ensure-async')],
  [['memoize', 'unmemoize'], () => require('./utils/memoize')],
  [['apply'], () => require('./utils/apply')],
  [['constant'], () => require('./utils/constant')],
  [['log', 'dir'], () => require('./utils/console')],
  [['nextTick', 'setImmediate'], () => require('./internal/defer')]
]

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
  wrapSync: 'asyncify', during: 'whilst', doDuring: 'doWhilst'
}

const moduleOf = new Map()
for (const entry of MODULES) for (const name of entry[0]) moduleOf.set(name, entry)

/**
 * A loader of the surface's names over `native` (or none, for pure JS): each
 * module is made once, on the first read of one of its names.
 */
function createLoader (native) {
  const made = new Map()
  return function load (name) {
    const entry = moduleOf.get(Object.prototype.hasOwnProperty.call(ALIASES, name) ? ALIASES[name] : name)
    if (entry === undefined) throw new Error(`async has no function named ${name}`)
    let exported = made.get(entry)
    if (exported === undefined) {
      exported = entry[1](native)
      made.set(entry, exported)
    }
    return exported[moduleOf.has(name) ? name : ALIASES[name]]
  }
}

const NAMES = Object.freeze([...moduleOf.keys(), ...Object.keys(ALIASES)])

module.exports = { createLoader, ALIASES, NAMES }
