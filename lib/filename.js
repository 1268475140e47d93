'use strict'

// File names for downloads, from a URL's path or a Content-Disposition
// header, made safe to join to a directory: one plain name, never a path,
// never a device, never one of fetchpool's own side files.

/** Longest name in UTF-8 bytes: room under the usual 255 for a suffix and fetchpool's side files. */
const MAX_BYTES = 180
/** Windows device names, which stay devices whatever their extension. */
const DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\.|$)/i
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const WINDOWS_RESERVED = /[<>:"|?*]/g

/** Cuts `name` to MAX_BYTES of UTF-8, keeping its extension where it can. */
function truncate (name) {
  if (Buffer.byteLength(name) <= MAX_BYTES) return name
  const dot = name.lastIndexOf('.')
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
  const chars = Array.from(name.slice(0, name.length - ext.length))
  while (chars.length > 0 && Buffer.byteLength(chars.join('') + ext) > MAX_BYTES) chars.pop()
  return chars.join('') + ext
}

/**
 * A name that stays inside the directory it is joined to, or `fallback`.
 * Only the last segment of a path counts, as browsers do with such names.
 */
function safeName (raw, fallback = 'download') {
  if (typeof raw !== 'string') return fallback
  let name = raw.toWellFormed().normalize('NFC').replace(CONTROLS, '')
  name = name.split(/[/\\]/).pop()
  name = name.replace(WINDOWS_RESERVED, '_')
  // Leading dots hide a file (and make `..`); trailing dots and spaces
  // vanish on Windows.
  name = name.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '')
  if (DEVICE.test(name)) name = `_${name}`
  // fetchpool's side files (`x.fetchpool-partial`, …) are not to be named.
  name = name.replace(/\.fetchpool/gi, '_fetchpool')
  name = truncate(name).replace(/[\s.]+$/, '')
  return name === '' ? fallback : name
}

/** The last segment of the URL's path, percent-decoded; `index.html` for a directory. */
function nameFromUrl (url) {
  let pathname
  try {
    pathname = new URL(url).pathname
  } catch {
    return 'download'
  }
  let segment = pathname.slice(pathname.lastIndexOf('/') + 1)
  try {
    segment = decodeURIComponent(segment)
  } catch {
    // Not valid percent-encoding: the segment as it is.
  }
  return safeName(segment, 'index.html')
}

// A parameter: its name, then a quoted string's content or a bare value. A
// quote opened and never closed runs to the end of the header, as browsers
// read it (a lone `\` at the very end escapes nothing and is dropped).
const PARAM = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)(?:"|\\?$)|([^;]*))/g

/** RFC 8187's `charset'lang'value`, for UTF-8 and ISO-8859-1. */
function extValue (value) {
  const m = /^([A-Za-z0-9!#$%&+^_`{}~-]*)'[^']*'(.*)$/.exec(value)
  if (m === null) return null
  const charset = m[1].toLowerCase()
  try {
    if (charset === 'utf-8') return decodeURIComponent(m[2])
    if (charset === 'iso-8859-1') return m[2].replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)))
  } catch {
    // Malformed percent-encoding.
  }
  return null
}

/**
 * The file name a Content-Disposition header gives (RFC 6266): `filename*`
 * before `filename`; null when there is none.
 */
function nameFromDisposition (value) {
  if (typeof value !== 'string' || value.length > 8192) return null
  const params = new Map()
  for (const m of value.matchAll(PARAM)) {
    const key = m[1].toLowerCase()
    if (params.has(key)) continue
    params.set(key, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim())
  }
  const ext = params.has('filename*') ? extValue(params.get('filename*')) : null
  const name = ext !== null ? ext : params.get('filename')
  if (name === undefined) return null
  const safe = safeName(name, '')
  return safe === '' ? null : safe
}

/**
 * Claims `name` in `taken` (names compared without case, as on macOS and
 * Windows), or `stem-1.ext`, `stem-2.ext`, … when it is taken.
 */
function claimName (taken, name) {
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  let candidate = name
  for (let n = 1; taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`
  taken.add(candidate.toLowerCase())
  return candidate
}

module.exports = { safeName, nameFromUrl, nameFromDisposition, claimName }
