// Types of the ES module entry (index.mjs): its default export and the
// names it exports, with every type of the CommonJS entry.

import fetchpool from './index.js';

export default fetchpool;
export { fetch, gather, stream, queue, Client, FetchError, Response, stats } from './index.js';
export type * from './index.js';
