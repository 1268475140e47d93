'use strict'

// The install tests put the packed tarball into an empty project with
// `npm install --offline`. npm resolves each of fetchpool's own dependencies
// from its full registry document, which `npm ci` (it installs from the
// lockfile) does not keep in npm's cache. This puts those documents and
// tarballs, at the lockfile's versions, in the cache first: from the
// registry only when they are not there yet (`--prefer-offline`), so the
// install itself stays offline.

const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

const run = promisify(execFile)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const ROOT = path.join(__dirname, '..', '..')

/** `name@version` of each package fetchpool needs at run time, from package-lock.json. */
function runtimeDependencies () {
  const lock = require(path.join(ROOT, 'package-lock.json'))
  const marker = 'node_modules/'
  return Object.entries(lock.packages)
    .filter(([key, meta]) => key.startsWith(marker) && !meta.dev && !meta.devOptional && !meta.optional)
    .map(([key, meta]) => `${key.slice(key.lastIndexOf(marker) + marker.length)}@${meta.version}`)
}

async function cacheRuntimeDependencies () {
  const specs = runtimeDependencies()
  if (specs.length === 0) return
  await run(npm, ['cache', 'add', ...specs, '--prefer-offline', '--loglevel=error'], { cwd: ROOT })
}

module.exports = { cacheRuntimeDependencies, runtimeDependencies }
