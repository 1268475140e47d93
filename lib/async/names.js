'use strict';

// The names createAsync(native) gives, listed so that fetchpool's index can
// offer them without loading the surface's modules until one is used. A test
// holds the list to what createAsync makes.
module.exports = Object.freeze([
  'map', 'mapLimit', 'mapSeries', 'each', 'eachLimit', 'eachSeries', 'eachOf',
  'eachOfLimit', 'eachOfSeries', 'mapValues', 'mapValuesLimit',
  'mapValuesSeries', 'filter', 'filterLimit', 'filterSeries', 'reject',
  'rejectLimit', 'rejectSeries', 'detect', 'detectLimit', 'detectSeries',
  'some', 'someLimit', 'someSeries', 'every', 'everyLimit', 'everySeries',
  'concat', 'concatLimit', 'concatSeries', 'groupBy', 'groupByLimit',
  'groupBySeries', 'reduce', 'reduceRight', 'sortBy', 'transform', 'parallel',
  'parallelLimit', 'series', 'waterfall', 'auto', 'autoInject', 'queue',
  'priorityQueue', 'cargo', 'cargoQueue', 'retry', 'retryable', 'whilst',
  'doWhilst', 'until', 'doUntil', 'forever', 'times', 'timesLimit',
  'timesSeries', 'race', 'tryEach', 'compose', 'seq', 'applyEach',
  'applyEachSeries', 'reflect', 'reflectAll', 'timeout', 'asyncify',
  'ensureAsync', 'memoize', 'unmemoize', 'apply', 'constant', 'log', 'dir',
  'nextTick', 'setImmediate', 'all', 'allLimit', 'allSeries', 'any',
  'anyLimit', 'anySeries', 'find', 'findLimit', 'findSeries', 'flatMap',
  'flatMapLimit', 'flatMapSeries', 'forEach', 'forEachLimit', 'forEachSeries',
  'forEachOf', 'forEachOfLimit', 'forEachOfSeries', 'inject', 'foldl',
  'foldr', 'select', 'selectLimit', 'selectSeries', 'wrapSync', 'during',
  'doDuring'
]);
