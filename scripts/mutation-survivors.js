'use strict'

// Prints what Stryker's JSON report (reports/mutation/mutation.json, or the
// file given) says per file: the mutation score, then each mutant that
// survived or was not covered, as `file:line  mutator  original -> mutant`,
// the form docs/mutation.md lists them in.
//
//   node scripts/mutation-survivors.js [report.json] [--scores]

const fs = require('node:fs')
const path = require('node:path')

const DETECTED = new Set(['Killed', 'Timeout'])
const UNDETECTED = new Set(['Survived', 'NoCoverage'])

/** The source text a mutant replaced, on one line and cut to a readable length. */
function original (source, { start, end }) {
  const lines = source.split('\n')
  let text
  if (start.line === end.line) {
    text = lines[start.line - 1].slice(start.column - 1, end.column - 1)
  } else {
    text = [lines[start.line - 1].slice(start.column - 1), ...lines.slice(start.line, end.line - 1), lines[end.line - 1].slice(0, end.column - 1)].join(' ')
  }
  return oneLine(text)
}

function oneLine (text) {
  const flat = String(text).replace(/\s+/g, ' ').trim()
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat
}

function score (mutants) {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length
  const total = detected + undetected
  return { detected, undetected, score: total === 0 ? 100 : (100 * detected) / total }
}

function main (args) {
  const file = args.find((arg) => !arg.startsWith('--')) || path.join(__dirname, '..', 'reports', 'mutation', 'mutation.json')
  const report = JSON.parse(fs.readFileSync(file, 'utf8'))
  const names = Object.keys(report.files).sort()
  console.log('| file | mutants | killed + timeout | survived + no coverage | ignored | score |')
  console.log('|---|---|---|---|---|---|')
  for (const name of names) {
    const { mutants } = report.files[name]
    const s = score(mutants)
    const ignored = mutants.filter((m) => m.status === 'Ignored').length
    console.log(`| ${name} | ${mutants.length} | ${s.detected} | ${s.undetected} | ${ignored} | ${s.score.toFixed(1)}% |`)
  }
  if (args.includes('--scores')) return
  for (const name of names) {
    const { source, mutants } = report.files[name]
    const left = mutants.filter((m) => UNDETECTED.has(m.status))
      .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    if (left.length === 0) continue
    console.log(`\n### ${name}\n`)
    for (const m of left) {
      const status = m.status === 'NoCoverage' ? ' (no coverage)' : ''
      console.log(`- ${name}:${m.location.start.line} ${m.mutatorName}${status}: \`${original(source, m.location)}\` -> \`${oneLine(m.replacement)}\``)
    }
  }
}

main(process.argv.slice(2))
