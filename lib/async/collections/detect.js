'use strict'

const { createTester } = require('./tester')

// The first item (in completion order) whose test is truthy, else undefined.
const t = createTester((answer) => answer, (found, item) => item)

module.exports = { detect: t.plain, detectLimit: t.limit, detectSeries: t.series }
