'use strict'

// The JavaScript side is layered: lib/client.js composes the other modules
// of lib/ and none of them imports it, and no chain of requires comes back
// to where it started. These read the requires of every file under lib/.

const test = require('node:test')
const assert = require('node:assert')
const fs = require('node:fs')
const path = require('node:path')

const LIB = path.join(__dirname, '..', 'lib')

function filesUnder (dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) return filesUnder(full)
    return e.name.endsWith('.js') ? [full] : []
  })
}

/** The files under lib/ that `file` requires by a relative path. */
function localRequires (file) {
  // Comments may name modules too (`require('./lib/async')` in prose): skip them.
  const source = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const out = []
  for (const m of source.matchAll(/require\(\s*'(\.{1,2}\/[^']*)'\s*\)/g)) {
    const target = require.resolve(path.resolve(path.dirname(file), m[1]))
    if (target.startsWith(LIB + path.sep)) out.push(target)
  }
  return out
}

const graph = new Map(filesUnder(LIB).map((f) => [f, localRequires(f)]))
const rel = (f) => path.relative(LIB, f)

test('no module under lib/ imports lib/client.js', () => {
  const client = path.join(LIB, 'client.js')
  // The requires are read at all: the client's include the batch.
  assert.ok(graph.get(client).includes(path.join(LIB, 'batch.js')))
  const importers = [...graph].filter(([, deps]) => deps.includes(client)).map(([f]) => rel(f))
  assert.deepStrictEqual(importers, [])
})

test('the requires under lib/ form no cycle', () => {
  const state = new Map() // file → 'open' while on the path, 'done' after
  const cycles = []
  const visit = (file, trail) => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' → '))
      return
    }
    state.set(file, 'open')
    for (const dep of graph.get(file) || []) visit(dep, [...trail, file])
    state.set(file, 'done')
  }
  for (const file of graph.keys()) visit(file, [])
  assert.deepStrictEqual(cycles, [])
})
