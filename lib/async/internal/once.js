'use strict'

const { alreadyCalled } = require('./errors')

// Later calls are ignored: used for final callbacks.
function once (fn) {
  let callFn = fn
  return function onceWrapper () {
    if (callFn === null) return
    const f = callFn
    callFn = null
    f.apply(this, arguments)
  }
}

// Later calls throw: used for the callbacks handed to user functions.
function onlyOnce (fn) {
  let callFn = fn
  return function onlyOnceWrapper () {
    if (callFn === null) throw alreadyCalled()
    const f = callFn
    callFn = null
    f.apply(this, arguments)
  }
}

module.exports = { once, onlyOnce }
