'use strict'

// An API aggregator: several JSON endpoints at once, each with its own
// timeout, and one answer built from whatever came back. `settle: true`
// keeps a slow or failing endpoint from sinking the others.

const { gather } = require('..') // require('fetchpool') in your project

async function aggregate (base) {
  const endpoints = {
    users: { url: `${base}/api/users`, timeout: 1000 },
    orders: { url: `${base}/api/orders`, timeout: 1000 },
    stock: { url: `${base}/api/stock`, timeout: 1000 },
    recommendations: { url: `${base}/api/slow`, timeout: 200 }, // too slow: left out
    audit: { url: `${base}/api/broken`, timeout: 1000 } // answers 500: left out
  }
  const names = Object.keys(endpoints)
  const outcomes = await gather(Object.values(endpoints), { settle: true, failOnStatus: true })
  const data = {}
  const missing = {}
  for (const [k, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') data[names[k]] = await outcome.value.json()
    else missing[names[k]] = outcome.reason.code
  }
  return { data, missing }
}

module.exports = { aggregate }

if (require.main === module) require('./site').runAgainstSite(aggregate)
