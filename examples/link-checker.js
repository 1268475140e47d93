'use strict'

// A link checker: reads a site's pages, collects every link, and checks
// them all with `stream` (results as they come, bounded memory) at a few
// connections per host. Broken links are reported by status or error code.

const { Client } = require('..') // require('fetchpool') in your project

function linksOf (html, pageUrl) {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) => new URL(m[1], pageUrl).href)
}

async function checkLinks (base, { pages = 12 } = {}) {
  // A busy server's 429 or 503 is asked again once, after its Retry-After.
  const client = new Client({ connectionsPerHost: 4, timeout: { total: 5000 }, retry: { retries: 1, statuses: [429, 503] } })
  try {
    const pageUrls = Array.from({ length: pages }, (_, n) => `${base}/page/${n}`)
    const links = new Set()
    for await (const res of client.stream(pageUrls, { concurrency: 8 })) {
      for (const link of linksOf(await res.text(), res.url)) links.add(link)
    }
    const broken = {}
    let ok = 0
    for await (const outcome of client.stream(links, { settle: true, concurrency: 16 })) {
      const why = outcome.status === 'rejected' ? outcome.reason.code : outcome.value.ok ? null : outcome.value.status
      if (why === null) ok++
      else (broken[why] ||= []).push(outcome.reason ? outcome.reason.url : outcome.value.url)
    }
    for (const list of Object.values(broken)) list.sort()
    return { checked: links.size, ok, broken }
  } finally {
    client.close()
  }
}

module.exports = { checkLinks }

if (require.main === module) require('./site').runAgainstSite(checkLinks)
