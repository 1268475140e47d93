'use strict'

// The names of async's functions (103, with the aliases), known without
// loading the modules that make them. A test holds the list to async 3.2.6's.
module.exports = require('./registry').NAMES
