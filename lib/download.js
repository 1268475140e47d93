'use strict'

// download(requests, dir, [options]): a list of URLs into a directory, each
// under a safe name of its own, with saveTo's guarantees (a file is replaced
// only by a whole, checked body) and a result per URL rather than a
// rejection at the first failure.

const fs = require('node:fs')
const path = require('node:path')
const { invalidArgType } = require('./errors')
const { checkKeys, CALL_OPTIONS } = require('./options')
const { nameFromUrl, nameFromDisposition, safeName, claimName } = require('./filename')

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

function urlOfItem (item) {
  if (typeof item === 'string') return item
  if (item instanceof URL) return item.href
  if (item !== null && typeof item === 'object') return item.url instanceof URL ? item.url.href : item.url
  return undefined
}

/**
 * Each item as a request with `saveTo` in `root`. An object item may name
 * its own `file`; otherwise the URL's path names it. Names are claimed in
 * input order, so a list always maps to the same files.
 */
function planItems (items, root, own, taken) {
  return items.map((item) => {
    const url = urlOfItem(item)
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
    return { url, name, named, request }
  })
}

/**
 * Renames a saved file to the name its response gives, when that differs;
 * a name taken by another file of this call gets a suffix.
 */
async function applyDisposition (root, plan, res, taken) {
  const given = nameFromDisposition(res.headers.get('content-disposition'))
  if (given === null || given.toLowerCase() === plan.name.toLowerCase()) return plan.name
  const name = claimName(taken, given)
  await fs.promises.rename(path.join(root, plan.name), path.join(root, name))
  // Validators kept for `ifChanged` describe the old name's file no more.
  await fs.promises.rm(path.join(root, `${plan.name}.fetchpool.json`), { force: true })
  return name
}

async function resultOf (root, plan, outcome, index, own, taken) {
  const result = { index, url: plan.url, file: path.join(root, plan.name) }
  if (outcome.status === 'rejected') {
    result.error = outcome.reason
    return result
  }
  const res = outcome.value
  result.status = res.status
  result.saved = res.saved
  result.notModified = res.notModified
  result.bytes = res.savedBytes
  if (res.saved && !plan.named && own.contentDisposition !== false) {
    try {
      result.file = path.join(root, await applyDisposition(root, plan, res, taken))
    } catch (err) {
      result.error = err
    }
  }
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
  const outcomes = await client.gather(plans.map((p) => p.request), call)
  const results = []
  for (let i = 0; i < plans.length; i++) {
    results.push(await resultOf(root, plans[i], outcomes[i], i, own, taken))
  }
  return results
}

module.exports = { checkDownload, downloadChecked }
