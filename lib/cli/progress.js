'use strict'

// The progress bar, drawn by cli-progress on standard error while the run
// lasts and cleared at its end, so that only the summary stays.

const { performance } = require('node:perf_hooks')

const FORMAT = ' {bar} {percentage}% | {value}/{total} | {rate} req/s | {failed} failed | ETA {eta_formatted}'

const NO_BAR = { tick () {}, stop () {} }

/** A bar for `total` requests on `stream`, or one that draws nothing when `enabled` is false. */
function startProgress (total, stream, enabled) {
  if (!enabled || total === 0) return NO_BAR
  const { SingleBar, Presets } = require('cli-progress')
  const bar = new SingleBar({
    stream,
    format: FORMAT,
    clearOnComplete: true,
    hideCursor: true,
    noTTYOutput: !stream.isTTY,
    notTTYSchedule: 500,
    fps: 10,
    etaBuffer: 1000
  }, Presets.shades_classic)
  const began = performance.now()
  // An interrupted run stops the bar (and gives the cursor back) as any
  // other end does: the command handles SIGINT (lib/cli/main.js).
  bar.start(total, 0, { rate: '0', failed: 0 })
  return {
    tick (done, failed) {
      const seconds = (performance.now() - began) / 1000
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0, failed })
    },
    stop () {
      bar.stop()
    }
  }
}

module.exports = { startProgress }
