'use strict'

// How the command runs its requests: one stream of settled outcomes in
// completion order, so a million requests take a bounded window of memory.

const path = require('node:path')
const { nameFromUrl } = require('../filename')

/**
 * A file name for the body of request `index`: its index, then the name
 * download() gives its URL (made safe the same way); the index keeps the
 * bodies of two requests for the same path apart.
 */
function fileNameOf (url, index) {
  return `${index}-${nameFromUrl(url)}`
}

function urlOf (request) {
  return typeof request === 'string' ? request : request.url
}

/** The requests, each with `saveTo` a file of its own in `dir`. */
function * withSaveTo (requests, dir) {
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i]
    const saveTo = path.join(dir, fileNameOf(urlOf(request), i))
    yield typeof request === 'string' ? { url: request, saveTo } : { ...request, saveTo }
  }
}

/**
 * Settled outcomes `{ status, value | reason, index }` of `requests`, in
 * completion order, until `signal` aborts. With `saveDir` (made already),
 * bodies are written to files there from the pool and never enter
 * JavaScript.
 */
function runRequests (client, requests, saveDir, signal) {
  if (saveDir === undefined) return client.stream(requests, { settle: true, signal })
  return client.stream(withSaveTo(requests, saveDir), { settle: true, signal })
}

module.exports = { runRequests, fileNameOf, urlOf }
