'use strict'

// A polite crawler: async's queue with fetchpool's `fetch` as its worker,
// on a client that starts at most a few requests a second per host and
// waits as long as a 429 or 503 asks (Retry-After). Each page's links go
// back on the queue, once; the crawl ends when the queue drains.

const { Client, queue } = require('..') // require('fetchpool') in your project

async function crawl (start, { maxPages = 50, perSecond = 20 } = {}) {
  const client = new Client({
    rateLimitPerHost: perSecond,
    retry: { retries: 2, statuses: [429, 503], maxDelay: 5000 }
  })
  const origin = new URL(start).origin
  const seen = new Set([start])
  const pages = []
  const failed = {}
  const q = queue(client.fetch, 4)
  // The callback pushes a page's links before it returns, so the queue never
  // looks drained while links are still to come.
  const visit = (url) => q.push(url, (err, res) => {
    if (err) return void (failed[url] = err.code)
    pages.push({ url, status: res.status, attempts: res.attempts })
    if (!res.ok) return
    for (const m of res.buffer.toString().matchAll(/href="([^"]+)"/g)) {
      const link = new URL(m[1], url).href
      if (link.startsWith(origin) && !seen.has(link) && seen.size < maxPages) {
        seen.add(link)
        visit(link)
      }
    }
  })
  visit(start)
  await q.drain()
  client.close()
  return { pages: pages.sort((a, b) => a.url.localeCompare(b.url)), failed }
}

module.exports = { crawl }

if (require.main === module) require('./site').runAgainstSite((base) => crawl(`${base}/`))
