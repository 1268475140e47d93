'use strict'

// The addon, through the generated loader (binding.js): it takes a .node
// beside it (a build from source) or the platform package for this system
// (fetchpool-<platform>, an optional dependency). When neither loads, the
// user needs to know which systems have prebuilt binaries and what a build
// from source takes, rather than the loader's list of every path it tried.

const pkg = require('../package.json')

const BUILD_FROM_SOURCE =
  'To build from source, install a Rust toolchain (https://rustup.rs) and run ' +
  '`npm install` in a checkout of fetchpool, or `npx napi build --platform --release ' +
  '--js binding.js --dts binding.d.ts` there.'

function noBinaryError (cause) {
  const packages = Object.keys(pkg.optionalDependencies || {})
  const here = `${process.platform}-${process.arch}`
  const err = new Error(
    `fetchpool has no native binary that loads on ${here} (Node ${process.versions.node}). ` +
    `Prebuilt binaries exist for: ${pkg.napi.targets.join(', ')}, installed as the ` +
    `optional dependencies ${packages.join(', ')} (check that optional dependencies ` +
    `were not omitted). ${BUILD_FROM_SOURCE}`,
    { cause }
  )
  err.code = 'ERR_NO_NATIVE_BINARY'
  err.targets = pkg.napi.targets.slice()
  err.packages = packages
  return err
}

function load () {
  try {
    return require('../binding')
  } catch (cause) {
    throw noBinaryError(cause)
  }
}

module.exports = load()
