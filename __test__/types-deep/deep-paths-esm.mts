// Type-checked (not run): fetchpool's names and deep paths from ES modules.

import waterfall from 'fetchpool/waterfall.js';
import reflect from 'fetchpool/reflect';
import fetchpool, { mapLimit, fetch, queue } from 'fetchpool';

const r: Promise<number[]> = mapLimit([1, 2], 2, async (x: number) => x + 1);
const w: Promise<unknown> = waterfall([async () => 1]);
const reflected = reflect(async () => 1);
const q = queue();
q.push('http://127.0.0.1/');
const same: typeof fetchpool.fetch = fetch;
void r;
void w;
void reflected;
void same;
