'use strict'

// The `proxy` client option, and the environment when it is not given.
//   proxy: 'http://user:pass@host:port'       one proxy for http and https
//   proxy: { http, https, noProxy }           each optional
//   proxy: false                               no proxy, whatever the environment says
//   proxy: undefined                           http_proxy / HTTP_PROXY, https_proxy /
//                                              HTTPS_PROXY, no_proxy / NO_PROXY
// Returns the native option names: { proxyHttp, proxyHttps, noProxy }.

const { invalidArgType, invalidArgValue } = require('./errors')

/** A scheme at the start of a proxy value; without one, `http://` is meant. */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * The URL as an error message may show it: without its credentials. User
 * info ends at the last `@` of the value: a password may hold `/`, `?`, `#`
 * or `@`, and a value that fails may not parse at all, so everything after
 * the scheme (or from the start, when there is none: `user:pass@host:port`)
 * up to the last `@` goes, even an `@` in a query or fragment.
 */
function redact (value) {
  const at = value.lastIndexOf('@')
  if (at === -1) return value
  const scheme = SCHEME.exec(value)
  return `${scheme ? scheme[0] : ''}***@${value.slice(at + 1)}`
}

/**
 * A proxy scheme with its `//` missing or cut short (`http:/host`,
 * `http:user:pass@host`): read as `host:port` it would name a host `http`,
 * or a user `http:user`. A port alone after it (`http:8080`) is `host:port`.
 */
const BROKEN_SCHEME = /^(?:https?|socks[45]?h?):(?!\/\/|\d+\/?$)/i

/** A proxy URL as the engine takes it: absolute, http:, with a host. */
function checkProxyUrl (value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
  const shown = redact(value)
  if (BROKEN_SCHEME.test(value)) throw invalidArgValue(name, shown, 'must be a proxy URL such as http://host:port')
  // `host:port` alone means http, as curl reads it.
  const text = SCHEME.test(value) ? value : `http://${value}`
  let url
  try {
    url = new URL(text)
  } catch {
    throw invalidArgValue(name, shown, 'must be a proxy URL such as http://host:port')
  }
  if (url.protocol !== 'http:') {
    throw invalidArgValue(name, shown, 'must be an http: proxy URL (https: and socks proxies are not supported)')
  }
  if (url.hostname === '') throw invalidArgValue(name, shown, 'must name the proxy host')
  // As WHATWG serializes it: no stray whitespace, user info percent-encoded.
  return url.href
}

function fromEnv (env, lower, upper) {
  const value = env[lower] !== undefined && env[lower] !== '' ? env[lower] : env[upper]
  return value === undefined || value === '' ? undefined : [value, env[lower] ? lower : upper]
}

/**
 * The http proxy from the environment. In a CGI program (REQUEST_METHOD set)
 * a request's `Proxy:` header arrives as HTTP_PROXY ("httpoxy"), so only the
 * lower-case name counts there, as in curl and Go.
 */
function httpProxyFromEnv (env) {
  if (env.REQUEST_METHOD !== undefined) {
    return env.http_proxy ? [env.http_proxy, 'http_proxy'] : undefined
  }
  return fromEnv(env, 'http_proxy', 'HTTP_PROXY')
}

function proxyOptions (value, env = process.env) {
  if (value === false || value === null) return {}
  const out = {}
  if (value === undefined) {
    const http = httpProxyFromEnv(env)
    const https = fromEnv(env, 'https_proxy', 'HTTPS_PROXY')
    const no = fromEnv(env, 'no_proxy', 'NO_PROXY')
    if (http) out.proxyHttp = checkProxyUrl(http[0], `process.env.${http[1]}`)
    if (https) out.proxyHttps = checkProxyUrl(https[0], `process.env.${https[1]}`)
    if (no && (http || https)) out.noProxy = no[0]
    return out
  }
  if (typeof value === 'string' || value instanceof URL) {
    const url = checkProxyUrl(String(value), 'options.proxy')
    return { proxyHttp: url, proxyHttps: url }
  }
  if (typeof value !== 'object') throw invalidArgType('options.proxy', 'a string, an object or false', value)
  for (const key of Object.keys(value)) {
    if (!['http', 'https', 'noProxy'].includes(key)) {
      throw invalidArgValue('options.proxy', key, `has an unknown key '${key}' (http, https, noProxy)`)
    }
  }
  if (value.http !== undefined && value.http !== null && value.http !== false) {
    out.proxyHttp = checkProxyUrl(String(value.http), 'options.proxy.http')
  }
  if (value.https !== undefined && value.https !== null && value.https !== false) {
    out.proxyHttps = checkProxyUrl(String(value.https), 'options.proxy.https')
  }
  if (value.noProxy !== undefined && value.noProxy !== null) {
    const list = Array.isArray(value.noProxy) ? value.noProxy : [value.noProxy]
    if (list.some((entry) => typeof entry !== 'string')) {
      throw invalidArgType('options.proxy.noProxy', 'a string or an array of strings', value.noProxy)
    }
    out.noProxy = list.join(',')
  }
  return out
}

module.exports = { proxyOptions, checkProxyUrl }
