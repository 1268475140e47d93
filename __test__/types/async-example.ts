// Type-checked (not run) example of the async v3 surface in lib/async:
// `npx tsc -p __test__/types`. Each line exercises a callback or Promise overload.

import * as async from '../../lib/async';
import { createAsync, AsyncSurface, QueueObject, Collection } from '../../lib/async';

// No Node globals here (the config loads no @types): defer with a microtask.
const later = (fn: () => void): void => {
  Promise.resolve().then(fn);
};
const double = (x: number, cb: (err: Error | null, v?: number) => void): void => later(() => cb(null, x * 2));
const asyncDouble = async (x: number): Promise<number> => x * 2;

async function collections(): Promise<void> {
  const nums = [1, 2, 3];

  const a: number[] = await async.map(nums, asyncDouble);
  async.map(nums, double, (err, results) => {
    if (err) throw err;
    const n: number = results[0];
    void n;
  });
  const b: number[] = await async.mapLimit(new Set(nums), 2, double);
  const c: string[] = await async.mapSeries({ a: 'x', b: 'y' }, async (s: string) => s.toUpperCase());
  const fromMap: number[] = await async.map(new Map([['k', 1]]), async ([key, v]: [string, number]) => key.length + v);

  await async.each(nums, async (n: number) => { void n; });
  async.eachLimit(nums, 2, (n: number, cb) => cb(), (err) => { void err; });
  await async.eachSeries('abc', (ch: string, cb) => cb());
  await async.forEach(nums, async () => undefined);
  await async.eachOf({ a: 1 }, (v: number, key, cb) => { void key; cb(); });
  await async.eachOfLimit(nums, 3, async (v: number, i) => { void i; });
  await async.forEachOfSeries(nums, (v: number, i, cb) => cb());

  const mv: Record<string, string> = await async.mapValues({ a: 1, b: 2 }, async (v: number, k) => `${k}${v}`);
  await async.mapValuesLimit({ a: 1 }, 1, (v: number, k, cb) => cb(null, v));
  await async.mapValuesSeries({ a: 1 }, async (v: number) => v);

  const evens: number[] = await async.filter(nums, async (n: number) => n % 2 === 0);
  const odds: number[] = await async.rejectLimit(nums, 2, async (n: number) => n % 2 === 0);
  await async.selectSeries(nums, (n: number, cb) => cb(null, n > 1));
  const found: number | undefined = await async.detect(nums, async (n: number) => n > 1);
  async.findSeries(nums, (n: number, cb) => cb(null, true), (err, item) => { void item; });
  const anyBig: boolean = await async.some(nums, async (n: number) => n > 2);
  const allSmall: boolean = await async.everyLimit(nums, 2, async (n: number) => n < 9);
  await async.anySeries(nums, async () => true);
  await async.all(nums, async () => true);
  const flat: number[] = await async.concat(nums, async (n: number) => [n, n]);
  await async.flatMapLimit(nums, 2, async (n: number) => n);
  const groups: Record<string, number[]> = await async.groupBy(nums, async (n: number) => (n % 2 ? 'odd' : 'even'));
  await async.groupBySeries(nums, (n: number, cb) => cb(null, n));
  const sum: number = await async.reduce(nums, 0, async (memo: number, n: number) => memo + n);
  async.foldr(nums, '', (memo: string, n: number, cb) => cb(null, memo + n), (err, s) => { void s; });
  const sorted: number[] = await async.sortBy(nums, async (n: number) => -n);
  const acc: number[] = await async.transform(nums, (memo: number[], n: number, k, cb) => { memo.push(n); cb(); });
  const obj: { total: number } = await async.transform(nums, { total: 0 }, async (memo: { total: number }, n: number) => {
    memo.total += n;
  });
  const t: number[] = await async.times(3, async (i: number) => i * i);
  await async.timesLimit(3, 2, (i: number, cb) => cb(null, i));
  await async.timesSeries(2, async (i: number) => i);

  const kinds: Collection<number>[] = [nums, 'xyz' as unknown as Collection<number>, new Set(nums), null, undefined];
  void kinds;
  void [a, b, c, fromMap, mv, evens, odds, found, anyBig, allSmall, flat, groups, sum, sorted, acc, obj, t];
}

async function control(): Promise<void> {
  const arr: number[] = await async.parallel([async () => 1, async () => 2]);
  const named = await async.series({ one: async () => 1, two: async () => 'two' });
  const one: number = named.one;
  const two: string = named.two;
  await async.parallelLimit([(cb: (e: Error | null, v?: number) => void) => cb(null, 1)], 2);
  async.series([async () => 1], (err, results) => { void results; });

  const w: number | undefined = await async.waterfall<number>([
    (cb: (e: null, v: number) => void) => cb(null, 1),
    (x: number, cb: (e: null, v: number) => void) => cb(null, x + 1),
  ]);

  const r = await async.auto<{ get: string; put: number }>({
    get: async () => 'data',
    put: ['get', async (results) => (results.get ?? '').length],
  });
  const put: number = r.put;
  async.auto({ a: (cb: (e: null, v: number) => void) => cb(null, 1) }, 1, (err, res) => { void res; });
  await async.autoInject({ a: async () => 1, b: async (a: number) => a + 1 });

  const q: QueueObject<string, number> = async.queue(async (s: string) => s.length, 4);
  const len: number = await q.push('abc');
  const lens: Promise<number>[] = q.push(['a', 'bb']);
  q.push('x', (err, n) => { void n; });
  q.unshift('first');
  await q.pushAsync('y');
  q.drain(() => undefined);
  await q.drain();
  q.error((err, task) => { void err; void task; });
  q.saturated(() => undefined);
  q.concurrency = 8;
  const pending: number = q.length() + q.running();
  const idle: boolean = q.idle();
  q.pause();
  q.resume();
  q.remove(({ data }) => data === 'x');
  for (const task of q) void task;
  q.kill();

  const pq = async.priorityQueue((job: { id: number }, cb: (e: Error | null) => void) => cb(null), 2);
  pq.push({ id: 1 }, 5);
  pq.push([{ id: 2 }], 1, (err) => { void err; });
  const cargo = async.cargo((jobs: number[], cb: (e: Error | null) => void) => cb(null), 10);
  cargo.push(1);
  const cq = async.cargoQueue(async (jobs: number[]) => jobs.length, 2, 5);
  cq.payload = 3;

  const got: string = await async.retry({ times: 3, interval: (n) => n * 10 }, async () => 'ok');
  async.retry(3, (cb: (e: Error | null, v?: number) => void) => cb(null, 1), (err, v) => { void v; });
  await async.retry(async () => 1);
  const retrying = async.retryable(2, async (x: number) => x);
  void retrying;

  let i = 0;
  await async.whilst(async () => i < 3, async () => { i++; });
  await async.doWhilst(async () => ++i, async (n: number) => n < 5);
  await async.until(async () => i > 7, async () => ++i);
  await async.doUntil(async () => ++i, async (n: number) => n > 9);
  await async.during(async () => false, async () => 0);
  async.forever((next) => next(new Error('stop')), (err) => { void err; });

  const winner: number | undefined = await async.race([async () => 1, async () => 2]);
  const tried: string | undefined = await async.tryEach([async () => { throw new Error('no'); }, async () => 'yes']);
  const add1 = async (n: number) => n + 1;
  const composed = async.compose(add1, add1);
  const seqd = async.seq(add1, add1);
  await composed(1);
  seqd(1, (err: Error | null, n: number) => { void n; });
  await async.applyEach([add1, add1], 1)();
  async.applyEachSeries([add1], 1)((err, res) => { void res; });
  void [arr, one, two, w, put, len, lens, pending, idle, got, winner, tried];
}

async function utils(): Promise<void> {
  const reflected = async.reflect(async () => 1);
  const outcomes = await async.parallel(async.reflectAll([async () => 1, async () => { throw new Error('x'); }]));
  const firstError: Error | undefined = outcomes[1].error;
  const timed = async.timeout(async (x: number) => x, 100, { what: 'info' });
  const parse = async.asyncify(JSON.parse);
  parse('{}', (err: Error | null, value: unknown) => { void value; });
  const sync = async.wrapSync((a: number, b: number) => a + b);
  sync(1, 2, (err: Error | null, n: number) => { void n; });
  const safe = async.ensureAsync((x: number, cb: (e: null, v: number) => void) => cb(null, x));
  const memo = async.memoize((key: string, cb: (e: null, v: string) => void) => cb(null, key), (key: string) => key);
  const memoTable = memo.memo;
  const plain = async.unmemoize(memo);
  const task = async.apply((a: number, cb: (e: null, v: number) => void) => cb(null, a), 1);
  const always = async.constant(42);
  async.log(async.constant('hello'));
  async.dir(always);
  async.nextTick((n: number) => { void n; }, 1);
  async.setImmediate((s: string) => { void s; }, 'x');
  void [reflected, firstError, timed, safe, memoTable, plain, task];
}

// A surface with a native hook: map(urls) and map(urls, fetch) type as responses.
interface FakeResponse { status: number }
// Like fetchpool's fetch: a Promise without a callback, so a JS iteratee is never mistaken for it.
interface FakeFetch {
  (request: string): Promise<FakeResponse>;
  (request: string, callback: (err: Error | null, r?: FakeResponse) => void): void;
}
const fakeFetch = ((request: string, callback?: (err: Error | null, r?: FakeResponse) => void) => {
  if (callback) return callback(null, { status: 200 });
  return Promise.resolve({ status: 200 });
}) as FakeFetch;
const withNative: AsyncSurface<string, FakeResponse, FakeFetch> = createAsync<string, FakeResponse, FakeFetch>({
  isNativeIteratee: (fn) => fn === fakeFetch,
  mapNative: (items, limit, done) => {
    done(null, items.map(() => ({ status: 200 })));
  },
  fetch: fakeFetch,
});

async function native(): Promise<void> {
  const responses: FakeResponse[] = await withNative.map(['http://a', 'http://b']);
  withNative.mapLimit(['http://a'], 4, fakeFetch, (err, rs) => { void rs[0].status; });
  await withNative.eachSeries(['http://a']);
  const byKey: Record<string, FakeResponse> = await withNative.mapValues({ a: 'http://a' }, fakeFetch);
  const q = withNative.queue(undefined, 8);
  const first: FakeResponse = await q.push('http://a');
  // JS iteratees still work on the native surface.
  const lengths: number[] = await withNative.map(['ab'], async (s: string) => s.length);
  void [responses, byKey, first, lengths];
}

void collections;
void control;
void utils;
void native;
