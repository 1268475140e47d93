'use strict'

// The numbers shared with the addon: the fields of a completion row, the
// codes of a response's HTTP version and of a submit's start. They are
// defined in src/binding/layout.rs, whose test reads this file and fails when
// the two differ: keep one `NAME: value,` per line, in the same order.

module.exports = Object.freeze({
  ROW: 16,
  BATCH: 0,
  INDEX: 1,
  STATUS: 2,
  VERSION: 3,
  ATTEMPTS: 4,
  REDIRECTED: 5,
  HEADERS_START: 6,
  HEADERS_END: 7,
  BODY_END: 8,
  SAVED_BYTES: 9,
  QUEUED: 10,
  START: 11,
  CONNECTED: 12,
  FIRST_BYTE: 13,
  END: 14,
  EXTRA: 15,
  VERSION_1_1: 0,
  VERSION_1_0: 1,
  VERSION_2: 2,
  VERSION_3: 3,
  VERSION_0_9: 4,
  SAVED_NONE: -1,
  SAVED_SKIPPED: -2,
  SAVED_NOT_MODIFIED: -3,
  START_NOW: 0,
  START_HOLD: 1,
  START_OPEN: 2
})
