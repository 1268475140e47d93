'use strict'

const { createTester } = require('./tester')

const t = createTester((answer) => !answer, (found) => !found)

module.exports = { every: t.plain, everyLimit: t.limit, everySeries: t.series }
