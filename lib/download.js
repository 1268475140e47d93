'use strict'

// download(requests, dir, [options]): a list of URLs into a directory, each
// under a safe name of its own, with saveTo's guarantees (a file is replaced
// only by a whole, checked body) and a result per URL rather than a
// rejection at the first failure.

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { invalidArgType } = require('./errors')
const { checkKeys, CALL_OPTIONS } = require('./options')
const { nameFromUrl, nameFromDisposition, safeName, claimName } = require('./filename')
const { itemUrl } = require('./requests')

/** Options of download() itself; the rest are gather's. */
const OWN_OPTIONS = ['resume', 'ifChanged', 'saveAnyStatus', 'contentDisposition']

function checkDir (dir) {
  if (typeof dir !== 'string' || dir === '') throw invalidArgType('dir', 'a non-empty string', dir)
  return path.resolve(dir)
}

function splitOptions (options) {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw invalidArgType('options', 'of type object', options)
  const own = {}
  const call = { ...options, settle: true }
  for (const key of OWN_OPTIONS) {
    delete call[key]
    if (options[key] === undefined) continue
    if (typeof options[key] !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', options[key])
    own[key] = options[key]
  }
  // Checked here, before any file is touched, as gather would check them.
  checkKeys(call, CALL_OPTIONS, 'options', 'a call')
  return { own, call }
}

/**
 * Each item as a request with `saveTo` in `root`. An object item may name
 * its own `file`; otherwise the URL's path names it. Names are claimed in
 * input order, so a list always maps to the same files.
 */
function planItems (items, root, own, taken) {
  return items.map((item) => {
    const url = itemUrl(item)
    // A name the caller gave is kept whatever the response says.
    const named = item !== null && typeof item === 'object' && !(item instanceof URL) && item.file !== undefined
    const wanted = named ? safeName(String(item.file)) : nameFromUrl(url)
    const name = claimName(taken, wanted)
    const base = item !== null && typeof item === 'object' && !(item instanceof URL) ? { ...item } : { url: item }
    delete base.file
    const request = { ...base, saveTo: path.join(root, name) }
    for (const key of ['resume', 'ifChanged', 'saveAnyStatus']) {
      if (own[key] !== undefined && request[key] === undefined) request[key] = own[key]
    }
    // A body whose response may name it lands under a side name first, so
    // that a file under the URL's name is replaced only if it is the name
    // in the end. `resume` and `ifChanged` work on the URL's name itself.
    let staged = null
    if (!named && own.contentDisposition !== false && !request.resume && !request.ifChanged) {
      staged = path.join(root, `${name}.${crypto.randomBytes(4).toString('hex')}.fetchpool-dl`)
      request.saveTo = staged
    }
    return { url, name, named, staged, request }
  })
}

/**
 * The name a saved body keeps: the one its response gives, when that
 * differs from the URL's (a name taken by another file of this call gets a
 * suffix), else the URL's.
 */
function finalName (plan, res, taken) {
  const given = nameFromDisposition(res.headers.get('content-disposition'))
  if (given === null || given.toLowerCase() === plan.name.toLowerCase()) return plan.name
  return claimName(taken, given)
}

async function resultOf (root, plan, outcome, index, own, taken) {
  const result = { index, url: plan.url, file: path.join(root, plan.name) }
  if (outcome.status === 'rejected') {
    result.error = outcome.reason
    return result
  }
  const res = outcome.value
  if (res.saved && !plan.named && own.contentDisposition !== false) {
    const file = path.join(root, finalName(plan, res, taken))
    const from = plan.staged === null ? result.file : plan.staged
    if (from !== file) {
      try {
        await fs.promises.rename(from, file)
      } catch (err) {
        // A body waiting for its name goes; one under the URL's name (with
        // `resume` or `ifChanged`) stays there.
        if (plan.staged !== null) await fs.promises.rm(plan.staged, { force: true })
        return { index, url: plan.url, file: plan.staged === null ? from : file, error: err }
      }
      // Validators kept for `ifChanged` describe the old name's file no more.
      if (plan.staged === null) await fs.promises.rm(`${from}.fetchpool.json`, { force: true })
    }
    result.file = file
  }
  result.status = res.status
  result.saved = res.saved
  result.notModified = res.notModified
  result.bytes = res.savedBytes
  return result
}

/**
 * Checks the arguments, synchronously (bad input throws before anything is
 * sent), and returns what `downloadChecked` runs.
 */
function checkDownload (requests, dir, options) {
  const root = checkDir(dir)
  if (requests === null || typeof requests !== 'object' || typeof requests[Symbol.iterator] !== 'function') {
    throw invalidArgType('requests', 'an array or an iterable of requests', requests)
  }
  // A copy, arrays too: each hole of a sparse array becomes an `undefined`
  // item, which is its own result like any malformed item (`map` would
  // skip it and leave no plan for its index).
  requests = Array.from(requests)
  return { root, requests, ...splitOptions(options) }
}

/** Fetches the checked list; `client.gather` does the fetching. */
async function downloadChecked (client, { root, requests, own, call }) {
  await fs.promises.mkdir(root, { recursive: true })
  const taken = new Set()
  const plans = planItems(requests, root, own, taken)
  let outcomes
  try {
    outcomes = await client.gather(plans.map((p) => p.request), call)
  } catch (err) {
    // An aborted call names no file: none of those waiting for their name
    // is left behind.
    await Promise.all(plans.map((p) => p.staged && fs.promises.rm(p.staged, { force: true })))
    throw err
  }
  const results = []
  for (let i = 0; i < plans.length; i++) {
    results.push(await resultOf(root, plans[i], outcomes[i], i, own, taken))
  }
  return results
}

module.exports = { checkDownload, downloadChecked }
