'use strict'

// async's test: anything truthy with a non-negative integer `length`
// (strings and, as in async, functions too).
function isArrayLike (value) {
  return Boolean(value) &&
    typeof value.length === 'number' &&
    value.length >= 0 &&
    value.length % 1 === 0
}

function isAsyncIterable (value) {
  return value != null && typeof value[Symbol.asyncIterator] === 'function'
}

function getIterator (coll) {
  const make = coll[Symbol.iterator]
  return typeof make === 'function' ? make.call(coll) : null
}

// Own enumerable keys, without '__proto__' (async skips it to avoid pollution).
function ownKeys (obj) {
  const keys = Object.keys(obj)
  const i = keys.indexOf('__proto__')
  if (i !== -1) keys.splice(i, 1)
  return keys
}

function range (size) {
  const result = new Array(size)
  for (let i = 0; i < size; i++) result[i] = i
  return result
}

module.exports = { isArrayLike, isAsyncIterable, getIterator, ownKeys, range }
