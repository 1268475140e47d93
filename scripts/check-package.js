'use strict'

// `npm run lint:package`, after `npm run pack`: publint and
// @arethetypeswrong/cli on the root tarball as users receive it.

const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { version } = require('../package.json')

const tarball = path.join(__dirname, '..', 'dist', `fetchpool-${version}.tgz`)
const bin = (name) => path.join(__dirname, '..', 'node_modules', '.bin', name)
const options = { stdio: 'inherit', shell: process.platform === 'win32' }

execFileSync(bin('publint'), ['run', tarball, '--strict'], options)
// node10 resolution ignores `exports`; fetchpool needs Node 20 or later.
execFileSync(bin('attw'), [tarball, '--profile', 'node16'], options)
