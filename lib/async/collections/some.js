'use strict'

const { createTester } = require('./tester')

const t = createTester(Boolean, (found) => found)

module.exports = { some: t.plain, someLimit: t.limit, someSeries: t.series }
