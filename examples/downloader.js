'use strict'

// A bulk downloader: every file streamed to disk from the worker pool with
// `saveTo` (the bodies never enter JavaScript), a progress line as it goes,
// and a result per URL.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { gather } = require('..') // require('fetchpool') in your project

async function downloadAll (urls, dir, { onLine = () => {} } = {}) {
  fs.mkdirSync(dir, { recursive: true })
  const requests = urls.map((url) => ({ url, saveTo: path.join(dir, path.basename(new URL(url).pathname)) }))
  const outcomes = await gather(requests, {
    settle: true,
    failOnStatus: true,
    concurrency: 8,
    onProgress: ({ done, failed, total, bytes }) => onLine(`${done}/${total} files (${failed} failed), ${(bytes / 1048576).toFixed(1)} MiB`)
  })
  return outcomes.map((o, k) => o.status === 'fulfilled'
    ? { url: urls[k], file: requests[k].saveTo, bytes: o.value.savedBytes }
    : { url: urls[k], error: o.reason.code })
}

module.exports = { downloadAll }

if (require.main === module) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetchpool-downloads-'))
  require('./site').runAgainstSite((base) => {
    const urls = Array.from({ length: 20 }, (_, i) => `${base}/files/file-${i}.bin?size=${256 * 1024}`)
    return downloadAll(urls.concat(`${base}/files-missing/none.bin`), dir, { onLine: (line) => process.stderr.write(`\r${line}`) })
  })
}
