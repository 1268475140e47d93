'use strict'

// A test certificate authority and leaf certificates, made with the openssl
// command line at test time: nothing secret is kept in the repository, and
// every run has fresh keys. `makeCerts()` returns PEM paths and strings for
//   ca        the authority the tests trust with `ca`
//   server    localhost, example.test and 127.0.0.1, valid now
//   expired   the same names, valid only in 2020
//   wrongHost valid now, but only for wrong.test
//   otherCa   a second authority, never trusted, and `stranger` signed by it
//   selfSigned, selfSignedOther, selfSignedWrongHost, selfSignedExpired
//             self-signed server certificates as `openssl req -x509` makes
//             them (CA:TRUE), for the same names, for wrong.test, or in 2020

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

function which (command) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, command)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here; try the next directory
    }
  }
  return null
}

/** The path of a required program, or an error that says how to get it. */
function requireProgram (command, pkg = command) {
  const found = which(command) || (fs.existsSync(`/usr/sbin/${command}`) ? `/usr/sbin/${command}` : null)
  if (found === null) {
    throw new Error(`${command} is required by this test and was not found on PATH: install it (apt-get install ${pkg})`)
  }
  return found
}

function openssl (args, cwd) {
  execFileSync(requireProgram('openssl'), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

function makeAuthority (dir, name) {
  openssl(['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30',
    '-subj', `/CN=fetchpool test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir)
}

/**
 * A leaf for `names` (DNS names and IPs) signed by `authority`. `dates` is
 * `[start, end]` in openssl's YYYYMMDDHHMMSSZ form; by default valid now.
 */
function makeLeaf (dir, name, authority, names, dates) {
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
  fs.writeFileSync(path.join(dir, `${name}.ext`), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
    ''
  ].join('\n'))
  openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${names[0]}`], dir)
  if (dates === undefined) {
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${authority}.pem`, '-CAkey', `${authority}.key`,
      '-CAcreateserial', '-days', '30', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir)
    return
  }
  signWithDates(dir, name, ['-cert', `${authority}.pem`, '-keyfile', `${authority}.key`], dates)
}

/**
 * Signs `<name>.csr` into `<name>.pem` with `<name>.ext` for the dates
 * given: only `openssl ca` takes explicit dates on OpenSSL 3.0, so a
 * throwaway CA database is made for it. `signer` names the signing
 * certificate and key (or `-selfsign` and the request's own key).
 */
function signWithDates (dir, name, signer, dates) {
  const db = path.join(dir, `${name}.db`)
  fs.mkdirSync(db, { recursive: true })
  fs.writeFileSync(path.join(db, 'index.txt'), '')
  fs.writeFileSync(path.join(db, 'serial'), '1000\n')
  fs.writeFileSync(path.join(dir, `${name}.cnf`), [
    '[ca]', 'default_ca = test', '[test]',
    `dir = ${db}`, 'database = $dir/index.txt', 'serial = $dir/serial', 'new_certs_dir = $dir',
    'default_md = sha256', 'policy = any', 'unique_subject = no', 'email_in_dn = no',
    '[any]', 'commonName = supplied', ''
  ].join('\n'))
  openssl(['ca', '-batch', '-config', `${name}.cnf`, ...signer,
    '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', dates[0], '-enddate', dates[1],
    '-extfile', `${name}.ext`, '-notext'], dir)
}

/**
 * A self-signed server certificate for `names`, marked CA:TRUE as
 * `openssl req -x509` marks it; `dates` as for `makeLeaf`.
 */
function makeSelfSigned (dir, name, names, dates) {
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')
  if (dates === undefined) {
    openssl(['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30',
      '-subj', `/CN=${names[0]}`, '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', `subjectAltName=${san}`], dir)
    return
  }
  fs.writeFileSync(path.join(dir, `${name}.ext`), ['basicConstraints=critical,CA:TRUE', `subjectAltName=${san}`, ''].join('\n'))
  openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${names[0]}`], dir)
  signWithDates(dir, name, ['-selfsign', '-keyfile', `${name}.key`], dates)
}

function makeCerts () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-certs-'))
  makeAuthority(dir, 'ca')
  makeAuthority(dir, 'otherCa')
  const names = ['localhost', 'example.test', '127.0.0.1']
  makeLeaf(dir, 'server', 'ca', names)
  makeLeaf(dir, 'expired', 'ca', names, ['20200101000000Z', '20200201000000Z'])
  makeLeaf(dir, 'wrongHost', 'ca', ['wrong.test'])
  makeLeaf(dir, 'stranger', 'otherCa', names)
  makeSelfSigned(dir, 'selfSigned', names)
  makeSelfSigned(dir, 'selfSignedOther', names)
  makeSelfSigned(dir, 'selfSignedWrongHost', ['wrong.test'])
  makeSelfSigned(dir, 'selfSignedExpired', names, ['20200101000000Z', '20200201000000Z'])
  const pair = (name) => ({
    cert: path.join(dir, `${name}.pem`),
    key: path.join(dir, `${name}.key`),
    pem: fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8')
  })
  return {
    dir,
    ca: pair('ca'),
    otherCa: pair('otherCa'),
    server: pair('server'),
    expired: pair('expired'),
    wrongHost: pair('wrongHost'),
    stranger: pair('stranger'),
    selfSigned: pair('selfSigned'),
    selfSignedOther: pair('selfSignedOther'),
    selfSignedWrongHost: pair('selfSignedWrongHost'),
    selfSignedExpired: pair('selfSignedExpired'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { makeCerts, makeLeaf, requireProgram, which }
