// Type-checked (not run): fetchpool's deep paths from CommonJS, resolved through
// package.json "exports" (`npx tsc -p __test__/types-deep`).

import mapLimit = require('fetchpool/mapLimit');
import waterfall = require('fetchpool/waterfall.js');
import eachLimit = require('fetchpool/eachLimit');
import fetchpool = require('fetchpool');

const doubled: Promise<number[]> = mapLimit([1, 2, 3], 2, async (x: number) => x * 2);
mapLimit(['http://127.0.0.1/'], 8, fetchpool.fetch, (err, responses) => {
  if (err) throw err;
  const status: number = responses[0].status;
  void status;
});
waterfall([(cb: (err: Error | null, v: number) => void) => cb(null, 1)], (err) => {
  if (err) throw err;
});
const each: Promise<void> = eachLimit([1], 1, async (_x: number) => undefined);
void doubled;
void each;
