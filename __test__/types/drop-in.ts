// Type-checked (not run): code written for async v3, and for fetchpool's own
// results, that must compile against fetchpool's types; and wrong code that
// must not (`@ts-expect-error` fails the check if the line compiles).

import { fetch, gather, download, memoize, mapLimit, each, eachOf, mapValues, parallel, queue, retry, Client } from '../../index';

async function callbackIteratees(): Promise<void> {
  const files: string[] = ['a.txt', 'bb.txt'];
  // A callback-style iteratee over strings is typed by async's overloads,
  // not by fetch's, though a string could be a URL.
  mapLimit(files, 2, (file, cb) => { cb(null, file.length); }, (err, lengths) => { console.log(err, lengths); });
  each(files, (file, cb) => { console.log(file.toUpperCase()); cb(); });
  eachOf(files, (file, i, cb) => { console.log(i, file.length); cb(); });
  mapValues({ a: 'x' }, (v, k, cb) => { cb(null, v + String(k)); });
  const upper: string[] = await mapLimit(files, 2, async (f) => f.toUpperCase());
  // An arrow that returns what it calls (a timer here) is a callback-style task.
  mapLimit([1, 2], 2, (n: number, cb) => setTimeout(() => cb(null, n * 2), 5), (err, r) => console.log(err, r));
  parallel([(cb: (e: null, v: number) => void) => setTimeout(() => cb(null, 1), 5)], (err, r) => console.log(err, r));
  queue((n: number, cb) => setTimeout(() => cb(null), 5), 2).push(5);
  retry(3, (cb: (e: null, v: number) => void) => setTimeout(() => cb(null, 7), 5), (err, r) => console.log(err, r));
  // Results of async functions are still inferred.
  const doubled: number[] = await mapLimit([1, 2], 2, async (n) => n * 2);
  // @ts-expect-error a number[] is not a string[]
  const wrong: string[] = await mapLimit([1, 2], 2, async (n) => n * 2);
  console.log(upper, doubled, wrong);
  // fetch itself still runs natively, typed as responses.
  const client = new Client();
  const pages: import('../../index').Response[] = await mapLimit(['http://127.0.0.1/'], 4, client.fetch);
  console.log(pages);
}

function memoized(): void {
  const double = memoize(async (x: number) => x * 2);
  // async's memoize always gives a callback-style function.
  double(4, (err, r) => console.log(err, r));
  // @ts-expect-error it returns no Promise
  const p: Promise<number> = double(4);
  console.log(p);
}

async function errorCodes(): Promise<void> {
  const outcomes = await gather(['http://127.0.0.1/', 'not a url'], { settle: true });
  for (const o of outcomes) {
    if (o.status === 'rejected') console.log(o.reason.code, o.reason.url, o.reason.index);
  }
  for (const r of await download(['http://127.0.0.1/x'], '/tmp/x')) {
    if (r.error) console.log(r.error.code);
  }
  // @ts-expect-error onProgress is for gather, stream and download
  await fetch('http://127.0.0.1/', { onProgress: () => {} });
}

export { callbackIteratees, memoized, errorCodes };
