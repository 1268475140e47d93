'use strict'

// Runs the JavaScript test suite several times in a row (STRESS_RUNS, 3 by
// default) while a busy-loop process per CPU keeps every core loaded, so that
// a test leaning on timing fails here rather than on a busy CI machine.

const { spawn, spawnSync } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')
const fs = require('node:fs')

const root = path.join(__dirname, '..')
const runs = Number(process.env.STRESS_RUNS || 3)
const tests = fs.readdirSync(path.join(root, '__test__'))
  .filter((name) => name.endsWith('.test.js'))
  .map((name) => path.join('__test__', name))

const busy = Array.from({ length: os.availableParallelism() }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
const stopBusy = () => { for (const child of busy) child.kill('SIGKILL') }
process.on('exit', stopBusy)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(130))
}

let failed = 0
for (let run = 1; run <= runs; run++) {
  const started = Date.now()
  const result = spawnSync(process.execPath, ['--test', ...tests], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
  const summary = (result.stdout || '').split('\n').filter((line) => /^# (tests|pass|fail|cancelled)/.test(line) || /^not ok/.test(line))
  console.log(`run ${run}/${runs} with ${busy.length} busy cores: exit ${result.status} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  for (const line of summary) console.log(`  ${line}`)
  if (result.status !== 0) failed++
}
stopBusy()
console.log(failed === 0 ? `all ${runs} runs passed` : `${failed} of ${runs} runs failed`)
process.exitCode = failed === 0 ? 0 : 1
