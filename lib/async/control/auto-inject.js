'use strict'

const { auto } = require('./auto')
const { wrapAsync, isAsync } = require('../internal/wrap-async')

function stripComments (src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '')
}

// Parameter names of a function, arrow function or method, defaults removed.
function parseParams (fn) {
  const src = stripComments(Function.prototype.toString.call(fn)).trim()
  const match =
    /^(?:async\s+)?(?:function\b\s*\*?)?\s*[\w$]*\s*\(([^)]*)\)/.exec(src) ||
    /^(?:async\s+)?([\w$]+)\s*=>/.exec(src)
  if (!match) throw new Error('could not parse args in autoInject\nSource:\n' + src)
  const list = match[1].replace(/\s/g, '')
  if (list === '') return []
  return list.split(',').map((arg) => arg.replace(/=.*$/, ''))
}

// Like auto, but each task names its dependencies as parameters and gets their
// values as arguments, callback last (async functions get no callback).
function autoInject (tasks, callback) {
  const converted = {}
  for (const key of Object.keys(tasks)) {
    let taskFn = tasks[key]
    let params
    const injected = (results, taskCb) => {
      const args = params.map((name) => results[name])
      args.push(taskCb)
      wrapAsync(taskFn)(...args)
    }
    const fnIsAsync = typeof taskFn === 'function' && isAsync(taskFn)
    const hasNoDeps = (!fnIsAsync && taskFn.length === 1) || (fnIsAsync && taskFn.length === 0)

    if (Array.isArray(taskFn)) {
      params = taskFn.slice(0, -1)
      taskFn = taskFn[taskFn.length - 1]
      converted[key] = params.length > 0 ? params.concat(injected) : [taskFn]
    } else if (hasNoDeps) {
      converted[key] = taskFn
    } else {
      params = parseParams(taskFn)
      // No parameters in the source: a callback-style function of none, or
      // one whose source shows none (a bound function). Either would run
      // without the values or the callback it takes.
      if (params.length === 0) {
        throw new Error('autoInject task functions require explicit parameters.')
      }
      if (!fnIsAsync) params.pop()
      converted[key] = params.concat(injected)
    }
  }
  return auto(converted, callback)
}

module.exports = { autoInject, parseParams }
