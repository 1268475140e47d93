// Types for fetchpool's async v3 drop-in surface (lib/async).
//
// Every function that takes a final callback returns `void` with one and a
// Promise without one. Iteratees are Node-style `(item, callback)` functions or
// `async` functions (`(item) => Promise<R>`); only real `async function`s are
// awaited — a plain function returning a Promise is treated as callback style.
//
// `AsyncSurface<NReq, NRes, NFetch>` is the surface made by `createAsync(native)`:
// NFetch is the type of fetchpool's `fetch`, NReq a request and NRes a response.
// With fetch as the iteratee, or with no iteratee at all, the map/each/eachOf/
// mapValues families and `queue()` run on the native pool. The pure-JS surface
// exported by this module has no native path (`AsyncSurface<never, never, never>`).

/** An error as async passes it: `null`/`undefined` on success. */
export type ErrorArg<E = Error> = E | null | undefined;

/** The callback handed to an iteratee or task. `false` as the error cancels silently. */
export type IterateeCallback<R = unknown, E = Error> = (err?: E | null | false, result?: R, ...more: unknown[]) => void;

/** The final callback of functions that report only an error. */
export type ErrorCallback<E = Error> = (err?: ErrorArg<E>) => void;

/** The final callback of functions that report one result. */
export type ResultCallback<R, E = Error> = (err: ErrorArg<E>, result: R) => void;

/** The final callback when the result may be absent (detect, tryEach, race, waterfall). */
export type OptionalResultCallback<R, E = Error> = (err: ErrorArg<E>, result?: R) => void;

/** A collection: array, array-like (strings too), iterable (a Map gives [key, value]), async iterable, plain object of values, or null/undefined (empty). */
export type Collection<T> =
  | readonly T[]
  | ArrayLike<T>
  | Iterable<T>
  | AsyncIterable<T>
  | { readonly [key: string]: T }
  | null
  | undefined;

export type Key = number | string;

/**
 * What an iteratee or task returns: an `async` function's Promise of its
 * result, or whatever a callback-style one happens to return (an arrow such as
 * `(n, cb) => setTimeout(() => cb(null, n), 5)` returns a timer), which is
 * ignored.
 */
export type Returned<R> = Promise<R> | void | null | undefined | boolean | number | bigint | string | symbol | object;

/** `(item, callback)` or `async (item) => result`. */
export type AsyncIteratee<T, R = unknown, E = Error> =
  (item: T, callback: IterateeCallback<R, E>) => Returned<R>;

/** `(item, key, callback)` or `async (item, key) => result`. */
export type AsyncKeyIteratee<T, R = unknown, E = Error> =
  (item: T, key: Key, callback: IterateeCallback<R, E>) => Returned<R>;

/** `(memo, item, callback)` or `async (memo, item) => memo`. */
export type AsyncReducer<T, M, E = Error> =
  (memo: M, item: T, callback: IterateeCallback<M, E>) => Returned<M>;

/** A task: `(callback)` or `async () => result`. */
export type AsyncTask<R = unknown, E = Error> =
  (callback: IterateeCallback<R, E>) => Returned<R>;

/** Any Node-style or async function whose last parameter is the callback. */
export type AsyncFunction = (...args: any[]) => any;

export type Dictionary<T> = { [key: string]: T };

/** The item handed to `remove()`'s test and listed by `workersList()`. */
export interface QueueTaskItem<T> {
  data: T;
  priority?: number;
  /** The task's callback; null when push() returned a Promise for it. */
  callback: ((...args: unknown[]) => void) | null;
}

interface QueueBase<T, R, E = Error> extends Iterable<T> {
  /** How many workers may run at once; may be changed at run time. */
  concurrency: number;
  /** For cargo queues: how many tasks one worker call gets; may be changed at run time. */
  payload: number | undefined;
  /** `unsaturated` fires when fewer than `concurrency - buffer` workers run. Default concurrency / 4. */
  buffer: number;
  /** True once a task was pushed. */
  started: boolean;
  paused: boolean;
  length(): number;
  running(): number;
  idle(): boolean;
  workersList(): QueueTaskItem<T>[];
  pause(): void;
  /** Resumes processing (in a microtask). */
  resume(): void;
  /** Removes every listener and every waiting task; running tasks finish. */
  kill(): void;
  remove(test: (item: QueueTaskItem<T>) => boolean): void;
  /** Sets the one drain handler; without a handler, a Promise of the next drain. */
  drain(): Promise<void>;
  drain(handler: () => void): void;
  saturated(): Promise<void>;
  saturated(handler: () => void): void;
  unsaturated(): Promise<void>;
  unsaturated(handler: () => void): void;
  empty(): Promise<void>;
  empty(handler: () => void): void;
  /** Sets the one error handler; without a handler, a Promise rejected with the next error. */
  error(): Promise<never>;
  error(handler: (err: E, task: T) => void): void;
  process(): void;
}

export interface QueueObject<T, R = unknown, E = Error> extends QueueBase<T, R, E> {
  /** Without a callback: a Promise of the result (it resolves to undefined when the task fails). */
  push(task: T): Promise<R>;
  push(tasks: readonly T[]): Promise<R>[];
  push(task: T | readonly T[], callback: (err: ErrorArg<E>, result?: R) => void): void;
  /** Like push, but the Promise rejects when the task fails. */
  pushAsync(task: T): Promise<R>;
  pushAsync(tasks: readonly T[]): Promise<R>[];
  unshift(task: T): Promise<R>;
  unshift(tasks: readonly T[]): Promise<R>[];
  unshift(task: T | readonly T[], callback: (err: ErrorArg<E>, result?: R) => void): void;
  unshiftAsync(task: T): Promise<R>;
  unshiftAsync(tasks: readonly T[]): Promise<R>[];
}

export interface PriorityQueueObject<T, R = unknown, E = Error> extends QueueBase<T, R, E> {
  /** Lower priorities run first (default 0); equal priorities in push order. */
  push(task: T, priority?: number): Promise<R>;
  push(tasks: readonly T[], priority?: number): Promise<R>[];
  push(task: T | readonly T[], priority: number | undefined, callback: (err: ErrorArg<E>, result?: R) => void): void;
  pushAsync(task: T, priority?: number): Promise<R>;
  pushAsync(tasks: readonly T[], priority?: number): Promise<R>[];
}

export type QueueWorker<T, R = unknown, E = Error> =
  (task: T, callback: IterateeCallback<R, E>) => Returned<R>;

export type CargoWorker<T, R = unknown, E = Error> =
  (tasks: T[], callback: IterateeCallback<R, E>) => Returned<R>;

export interface RetryOptions<E = Error> {
  /** Attempts in all. Default 5. */
  times?: number;
  /** Milliseconds between attempts, or a function of the retry count (1, 2, ...). Default 0. */
  interval?: number | ((retryCount: number) => number);
  /** Retry only when this returns true. */
  errorFilter?: (err: E) => boolean;
  /** For retryable: the task's arity when it cannot be read from `task.length`. */
  arity?: number;
}

export interface ReflectOutcome<R, E = Error> {
  error?: E;
  value?: R;
}

type Values<Tasks> = { [K in keyof Tasks]: Tasks[K] extends AsyncTask<infer R> ? R : unknown };

export interface AsyncSurface<NReq = never, NRes = never, NFetch = never> {
  // ---- collections: map / each / eachOf / mapValues (native when given fetch) ----
  map(coll: Collection<NReq>, fetch?: NFetch): Promise<NRes[]>;
  map(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ResultCallback<NRes[], Error>): void;
  map<T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R, E>): Promise<R[]>;
  map<T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R, E>, callback: ResultCallback<R[], E>): void;
  mapLimit(coll: Collection<NReq>, limit: number, fetch?: NFetch): Promise<NRes[]>;
  mapLimit(coll: Collection<NReq>, limit: number, fetch: NFetch | undefined, callback: ResultCallback<NRes[], Error>): void;
  mapLimit<T, R, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, R, E>): Promise<R[]>;
  mapLimit<T, R, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, R, E>, callback: ResultCallback<R[], E>): void;
  mapSeries(coll: Collection<NReq>, fetch?: NFetch): Promise<NRes[]>;
  mapSeries(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ResultCallback<NRes[], Error>): void;
  mapSeries<T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R, E>): Promise<R[]>;
  mapSeries<T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R, E>, callback: ResultCallback<R[], E>): void;

  each(coll: Collection<NReq>, fetch?: NFetch): Promise<void>;
  each(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ErrorCallback): void;
  each<T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>): Promise<void>;
  each<T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;
  eachLimit(coll: Collection<NReq>, limit: number, fetch?: NFetch): Promise<void>;
  eachLimit(coll: Collection<NReq>, limit: number, fetch: NFetch | undefined, callback: ErrorCallback): void;
  eachLimit<T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>): Promise<void>;
  eachLimit<T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;
  eachSeries(coll: Collection<NReq>, fetch?: NFetch): Promise<void>;
  eachSeries(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ErrorCallback): void;
  eachSeries<T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>): Promise<void>;
  eachSeries<T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;

  eachOf(coll: Collection<NReq>, fetch?: NFetch): Promise<void>;
  eachOf(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ErrorCallback): void;
  eachOf<T, E = Error>(coll: Collection<T>, iteratee: AsyncKeyIteratee<T, unknown, E>): Promise<void>;
  eachOf<T, E = Error>(coll: Collection<T>, iteratee: AsyncKeyIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;
  eachOfLimit(coll: Collection<NReq>, limit: number, fetch?: NFetch): Promise<void>;
  eachOfLimit(coll: Collection<NReq>, limit: number, fetch: NFetch | undefined, callback: ErrorCallback): void;
  eachOfLimit<T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncKeyIteratee<T, unknown, E>): Promise<void>;
  eachOfLimit<T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncKeyIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;
  eachOfSeries(coll: Collection<NReq>, fetch?: NFetch): Promise<void>;
  eachOfSeries(coll: Collection<NReq>, fetch: NFetch | undefined, callback: ErrorCallback): void;
  eachOfSeries<T, E = Error>(coll: Collection<T>, iteratee: AsyncKeyIteratee<T, unknown, E>): Promise<void>;
  eachOfSeries<T, E = Error>(coll: Collection<T>, iteratee: AsyncKeyIteratee<T, unknown, E>, callback: ErrorCallback<E>): void;

  mapValues(obj: Collection<NReq>, fetch?: NFetch): Promise<Dictionary<NRes>>;
  mapValues(obj: Collection<NReq>, fetch: NFetch | undefined, callback: ResultCallback<Dictionary<NRes>, Error>): void;
  mapValues<T, R, E = Error>(obj: Collection<T>, iteratee: AsyncKeyIteratee<T, R, E>): Promise<Dictionary<R>>;
  mapValues<T, R, E = Error>(obj: Collection<T>, iteratee: AsyncKeyIteratee<T, R, E>, callback: ResultCallback<Dictionary<R>, E>): void;
  mapValuesLimit(obj: Collection<NReq>, limit: number, fetch?: NFetch): Promise<Dictionary<NRes>>;
  mapValuesLimit(obj: Collection<NReq>, limit: number, fetch: NFetch | undefined, callback: ResultCallback<Dictionary<NRes>, Error>): void;
  mapValuesLimit<T, R, E = Error>(obj: Collection<T>, limit: number, iteratee: AsyncKeyIteratee<T, R, E>): Promise<Dictionary<R>>;
  mapValuesLimit<T, R, E = Error>(obj: Collection<T>, limit: number, iteratee: AsyncKeyIteratee<T, R, E>, callback: ResultCallback<Dictionary<R>, E>): void;
  mapValuesSeries(obj: Collection<NReq>, fetch?: NFetch): Promise<Dictionary<NRes>>;
  mapValuesSeries(obj: Collection<NReq>, fetch: NFetch | undefined, callback: ResultCallback<Dictionary<NRes>, Error>): void;
  mapValuesSeries<T, R, E = Error>(obj: Collection<T>, iteratee: AsyncKeyIteratee<T, R, E>): Promise<Dictionary<R>>;
  mapValuesSeries<T, R, E = Error>(obj: Collection<T>, iteratee: AsyncKeyIteratee<T, R, E>, callback: ResultCallback<Dictionary<R>, E>): void;

  // ---- collections: the rest ----
  filter: FilterFn;
  filterLimit: FilterLimitFn;
  filterSeries: FilterFn;
  reject: FilterFn;
  rejectLimit: FilterLimitFn;
  rejectSeries: FilterFn;
  detect: DetectFn;
  detectLimit: DetectLimitFn;
  detectSeries: DetectFn;
  some: TestFn;
  someLimit: TestLimitFn;
  someSeries: TestFn;
  every: TestFn;
  everyLimit: TestLimitFn;
  everySeries: TestFn;
  concat: ConcatFn;
  concatLimit: ConcatLimitFn;
  concatSeries: ConcatFn;
  groupBy: GroupByFn;
  groupByLimit: GroupByLimitFn;
  groupBySeries: GroupByFn;
  reduce: ReduceFn;
  reduceRight: ReduceFn;

  sortBy<T, C, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, C, E>): Promise<T[]>;
  sortBy<T, C, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, C, E>, callback: ResultCallback<T[], E>): void;

  transform<T, A, E = Error>(coll: Collection<T>, iteratee: TransformIteratee<T, A, E>): Promise<A>;
  transform<T, A, E = Error>(coll: Collection<T>, iteratee: TransformIteratee<T, A, E>, callback: ResultCallback<A, E>): void;
  transform<T, A, E = Error>(coll: Collection<T>, accumulator: A, iteratee: TransformIteratee<T, A, E>): Promise<A>;
  transform<T, A, E = Error>(coll: Collection<T>, accumulator: A, iteratee: TransformIteratee<T, A, E>, callback: ResultCallback<A, E>): void;

  // ---- control flow ----
  parallel<R, E = Error>(tasks: readonly AsyncTask<R, E>[]): Promise<R[]>;
  parallel<R, E = Error>(tasks: readonly AsyncTask<R, E>[], callback: ResultCallback<R[], E>): void;
  parallel<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks): Promise<Values<Tasks>>;
  parallel<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks, callback: ResultCallback<Values<Tasks>, E>): void;
  parallelLimit<R, E = Error>(tasks: readonly AsyncTask<R, E>[], limit: number): Promise<R[]>;
  parallelLimit<R, E = Error>(tasks: readonly AsyncTask<R, E>[], limit: number, callback: ResultCallback<R[], E>): void;
  parallelLimit<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks, limit: number): Promise<Values<Tasks>>;
  parallelLimit<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks, limit: number, callback: ResultCallback<Values<Tasks>, E>): void;
  series<R, E = Error>(tasks: readonly AsyncTask<R, E>[]): Promise<R[]>;
  series<R, E = Error>(tasks: readonly AsyncTask<R, E>[], callback: ResultCallback<R[], E>): void;
  series<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks): Promise<Values<Tasks>>;
  series<Tasks extends Dictionary<AsyncTask>, E = Error>(tasks: Tasks, callback: ResultCallback<Values<Tasks>, E>): void;

  /** Each task gets the previous task's values, then its callback. */
  waterfall<R = unknown, E = Error>(tasks: readonly AsyncFunction[]): Promise<R>;
  waterfall<R = unknown, E = Error>(tasks: readonly AsyncFunction[], callback: OptionalResultCallback<R, E>): void;

  /** Tasks are functions or [...dependencyNames, (results, callback) => void]. */
  auto<R extends Dictionary<unknown> = Dictionary<unknown>, E = Error>(tasks: AutoTasks<R, E>, concurrency?: number | null): Promise<R>;
  auto<R extends Dictionary<unknown> = Dictionary<unknown>, E = Error>(tasks: AutoTasks<R, E>, concurrency: number | null | undefined, callback: ResultCallback<R, E>): void;
  auto<R extends Dictionary<unknown> = Dictionary<unknown>, E = Error>(tasks: AutoTasks<R, E>, callback: ResultCallback<R, E>): void;
  /** Like auto; dependencies are read from the task functions' parameter names. */
  autoInject<R extends Dictionary<unknown> = Dictionary<unknown>, E = Error>(tasks: Dictionary<AsyncFunction | unknown[]>): Promise<R>;
  autoInject<R extends Dictionary<unknown> = Dictionary<unknown>, E = Error>(tasks: Dictionary<AsyncFunction | unknown[]>, callback: ResultCallback<R, E>): void;

  /** With no worker (and the native core), each task is a request fetched natively. */
  queue(worker?: undefined, concurrency?: number): QueueObject<NReq, NRes>;
  queue<T, R = unknown, E = Error>(worker: QueueWorker<T, R, E>, concurrency?: number): QueueObject<T, R, E>;
  priorityQueue<T, R = unknown, E = Error>(worker: QueueWorker<T, R, E>, concurrency?: number): PriorityQueueObject<T, R, E>;
  cargo<T, R = unknown, E = Error>(worker: CargoWorker<T, R, E>, payload?: number): QueueObject<T, R, E>;
  cargoQueue<T, R = unknown, E = Error>(worker: CargoWorker<T, R, E>, concurrency?: number, payload?: number): QueueObject<T, R, E>;

  retry<R, E = Error>(task: AsyncTask<R, E>): Promise<R>;
  retry<R, E = Error>(task: AsyncTask<R, E>, callback: ResultCallback<R, E>): void;
  retry<R, E = Error>(opts: number | string | RetryOptions<E>, task: AsyncTask<R, E>): Promise<R>;
  retry<R, E = Error>(opts: number | string | RetryOptions<E>, task: AsyncTask<R, E>, callback: ResultCallback<R, E>): void;
  retryable<F extends AsyncFunction>(task: F): (...args: any[]) => any;
  retryable<F extends AsyncFunction>(opts: number | RetryOptions, task: F): (...args: any[]) => any;

  whilst<R = unknown, E = Error>(test: AsyncTask<boolean, E>, iteratee: AsyncTask<R, E>): Promise<R>;
  whilst<R = unknown, E = Error>(test: AsyncTask<boolean, E>, iteratee: AsyncTask<R, E>, callback: OptionalResultCallback<R, E>): void;
  doWhilst<R = unknown, E = Error>(iteratee: AsyncTask<R, E>, test: AsyncTestWithResult<R, E>): Promise<R>;
  doWhilst<R = unknown, E = Error>(iteratee: AsyncTask<R, E>, test: AsyncTestWithResult<R, E>, callback: OptionalResultCallback<R, E>): void;
  until<R = unknown, E = Error>(test: AsyncTask<boolean, E>, iteratee: AsyncTask<R, E>): Promise<R>;
  until<R = unknown, E = Error>(test: AsyncTask<boolean, E>, iteratee: AsyncTask<R, E>, callback: OptionalResultCallback<R, E>): void;
  doUntil<R = unknown, E = Error>(iteratee: AsyncTask<R, E>, test: AsyncTestWithResult<R, E>): Promise<R>;
  doUntil<R = unknown, E = Error>(iteratee: AsyncTask<R, E>, test: AsyncTestWithResult<R, E>, callback: OptionalResultCallback<R, E>): void;
  /** Calls fn(next) until it passes an error; the Promise rejects with it. */
  forever<E = Error>(fn: AsyncTask<unknown, E>): Promise<never>;
  forever<E = Error>(fn: AsyncTask<unknown, E>, errback: (err: E) => void): void;

  times<R, E = Error>(n: number, iteratee: AsyncIteratee<number, R, E>): Promise<R[]>;
  times<R, E = Error>(n: number, iteratee: AsyncIteratee<number, R, E>, callback: ResultCallback<R[], E>): void;
  timesLimit<R, E = Error>(n: number, limit: number, iteratee: AsyncIteratee<number, R, E>): Promise<R[]>;
  timesLimit<R, E = Error>(n: number, limit: number, iteratee: AsyncIteratee<number, R, E>, callback: ResultCallback<R[], E>): void;
  timesSeries<R, E = Error>(n: number, iteratee: AsyncIteratee<number, R, E>): Promise<R[]>;
  timesSeries<R, E = Error>(n: number, iteratee: AsyncIteratee<number, R, E>, callback: ResultCallback<R[], E>): void;

  race<R, E = Error>(tasks: readonly AsyncTask<R, E>[]): Promise<R>;
  race<R, E = Error>(tasks: readonly AsyncTask<R, E>[], callback: OptionalResultCallback<R, E>): void;
  tryEach<R, E = Error>(tasks: Collection<AsyncTask<R, E>>): Promise<R>;
  tryEach<R, E = Error>(tasks: Collection<AsyncTask<R, E>>, callback: OptionalResultCallback<R, E>): void;

  /** seq(f, g)(...args) is g(f(...args)); the last argument may be a callback. */
  seq(...functions: AsyncFunction[]): (...args: any[]) => any;
  /** compose(f, g)(...args) is f(g(...args)). */
  compose(...functions: AsyncFunction[]): (...args: any[]) => any;
  applyEach(fns: Collection<AsyncFunction>, ...args: unknown[]): ApplyEachRunner;
  applyEachSeries(fns: Collection<AsyncFunction>, ...args: unknown[]): ApplyEachRunner;

  // ---- utils ----
  reflect<F extends AsyncFunction>(fn: F): (...args: any[]) => void;
  reflectAll<R, E = Error>(tasks: readonly AsyncTask<R, E>[]): AsyncTask<ReflectOutcome<R, E>, never>[];
  reflectAll<Tasks extends Dictionary<AsyncTask>>(tasks: Tasks): { [K in keyof Tasks]: AsyncTask<ReflectOutcome<unknown>, never> };
  /** Calls back with an Error whose code is 'ETIMEDOUT' (and `info`) if fn is too slow. */
  timeout<F extends AsyncFunction>(fn: F, milliseconds: number, info?: unknown): (...args: any[]) => void;
  /** A callback-style function `(...args, callback)` from a sync or Promise-returning one. */
  asyncify(fn: (...args: any[]) => unknown): (...args: any[]) => void;
  wrapSync(fn: (...args: any[]) => unknown): (...args: any[]) => void;
  ensureAsync<F extends AsyncFunction>(fn: F): F;
  memoize<F extends AsyncFunction>(fn: F, hasher?: (...args: any[]) => unknown): Memoized<F>;
  unmemoize<F extends AsyncFunction>(fn: Memoized<F> | F): F;
  apply(fn: AsyncFunction, ...args: unknown[]): AsyncFunction;
  constant(...values: unknown[]): AsyncFunction;
  log(fn: AsyncFunction, ...args: unknown[]): void;
  dir(fn: AsyncFunction, ...args: unknown[]): void;
  nextTick<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void;
  setImmediate<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void;

  // ---- aliases ----
  all: TestFn;
  allLimit: TestLimitFn;
  allSeries: TestFn;
  any: TestFn;
  anyLimit: TestLimitFn;
  anySeries: TestFn;
  find: DetectFn;
  findLimit: DetectLimitFn;
  findSeries: DetectFn;
  flatMap: ConcatFn;
  flatMapLimit: ConcatLimitFn;
  flatMapSeries: ConcatFn;
  forEach: AsyncSurface<NReq, NRes, NFetch>['each'];
  forEachLimit: AsyncSurface<NReq, NRes, NFetch>['eachLimit'];
  forEachSeries: AsyncSurface<NReq, NRes, NFetch>['eachSeries'];
  forEachOf: AsyncSurface<NReq, NRes, NFetch>['eachOf'];
  forEachOfLimit: AsyncSurface<NReq, NRes, NFetch>['eachOfLimit'];
  forEachOfSeries: AsyncSurface<NReq, NRes, NFetch>['eachOfSeries'];
  inject: ReduceFn;
  foldl: ReduceFn;
  foldr: ReduceFn;
  select: FilterFn;
  selectLimit: FilterLimitFn;
  selectSeries: FilterFn;
  during: AsyncSurface<NReq, NRes, NFetch>['whilst'];
  doDuring: AsyncSurface<NReq, NRes, NFetch>['doWhilst'];
}

export type TransformIteratee<T, A, E = Error> =
  (acc: A, item: T, key: Key, callback: IterateeCallback<unknown, E>) => Returned<unknown>;

/** Gets the values the body passed, then its callback. */
export type AsyncTestWithResult<R, E = Error> =
  (result: R, callback: IterateeCallback<boolean, E>) => Returned<boolean>;

/** A task, or its dependency names followed by `(results, callback)`. */
export type AutoTasks<R extends Dictionary<unknown>, E = Error> = {
  [K in keyof R]:
    | AsyncTask<R[K], E>
    | ReadonlyArray<(keyof R & string) | ((results: Partial<R>, callback: IterateeCallback<R[K], E>) => Returned<R[K]>)>;
};

export interface ApplyEachRunner {
  (): Promise<unknown[]>;
  (callback: ResultCallback<unknown[]>): void;
}

/**
 * A memoized function is callback style, as async's is: an `async function`
 * `(...args) => Promise<R>` becomes `(...args, callback) => void`.
 */
export type CallbackForm<F extends AsyncFunction> =
  F extends (...args: infer A) => Promise<infer R> ? (...args: [...A, ResultCallback<R>]) => void : F;

export type Memoized<F extends AsyncFunction> = CallbackForm<F> & {
  memo: Dictionary<unknown[]>;
  unmemoized: F;
};

export interface FilterFn {
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>): Promise<T[]>;
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>, callback: ResultCallback<T[], E>): void;
}
export interface FilterLimitFn {
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>): Promise<T[]>;
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>, callback: ResultCallback<T[], E>): void;
}
export interface DetectFn {
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>): Promise<T | undefined>;
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>, callback: OptionalResultCallback<T, E>): void;
}
export interface DetectLimitFn {
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>): Promise<T | undefined>;
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>, callback: OptionalResultCallback<T, E>): void;
}
export interface TestFn {
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>): Promise<boolean>;
  <T, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, unknown, E>, callback: ResultCallback<boolean, E>): void;
}
export interface TestLimitFn {
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>): Promise<boolean>;
  <T, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, unknown, E>, callback: ResultCallback<boolean, E>): void;
}
export interface ConcatFn {
  <T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R | R[], E>): Promise<R[]>;
  <T, R, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, R | R[], E>, callback: ResultCallback<R[], E>): void;
}
export interface ConcatLimitFn {
  <T, R, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, R | R[], E>): Promise<R[]>;
  <T, R, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, R | R[], E>, callback: ResultCallback<R[], E>): void;
}
export interface GroupByFn {
  <T, K extends Key, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, K, E>): Promise<Record<K, T[]>>;
  <T, K extends Key, E = Error>(coll: Collection<T>, iteratee: AsyncIteratee<T, K, E>, callback: ResultCallback<Record<K, T[]>, E>): void;
}
export interface GroupByLimitFn {
  <T, K extends Key, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, K, E>): Promise<Record<K, T[]>>;
  <T, K extends Key, E = Error>(coll: Collection<T>, limit: number, iteratee: AsyncIteratee<T, K, E>, callback: ResultCallback<Record<K, T[]>, E>): void;
}
export interface ReduceFn {
  <T, M, E = Error>(coll: Collection<T>, memo: M, iteratee: AsyncReducer<T, M, E>): Promise<M>;
  <T, M, E = Error>(coll: Collection<T>, memo: M, iteratee: AsyncReducer<T, M, E>, callback: ResultCallback<M, E>): void;
}

/**
 * Builds the surface. `native` is fetchpool's core; without it the surface is
 * pure JavaScript and behaves as async 3.2.6.
 */
export interface NativeHook<NReq, NRes, NFetch> {
  /** True when fn is fetchpool's own fetch. */
  isNativeIteratee(fn: unknown): boolean;
  /** async's map contract on the native pool; never calls done synchronously. */
  mapNative(items: NReq[], limit: number, done: (err: Error | null, results: NRes[]) => void, iteratee?: NFetch): void;
  fetch(request: NReq, callback: (err: Error | null, response?: NRes) => void): unknown;
}

export function createAsync(): AsyncSurface;
export function createAsync<NReq, NRes, NFetch>(native: NativeHook<NReq, NRes, NFetch>): AsyncSurface<NReq, NRes, NFetch>;

/** Alias name -> the function it points at. */
export const ALIASES: Readonly<Record<string, string>>;

// The module itself is the pure-JS surface.
export declare const map: AsyncSurface['map'];
export declare const mapLimit: AsyncSurface['mapLimit'];
export declare const mapSeries: AsyncSurface['mapSeries'];
export declare const each: AsyncSurface['each'];
export declare const eachLimit: AsyncSurface['eachLimit'];
export declare const eachSeries: AsyncSurface['eachSeries'];
export declare const eachOf: AsyncSurface['eachOf'];
export declare const eachOfLimit: AsyncSurface['eachOfLimit'];
export declare const eachOfSeries: AsyncSurface['eachOfSeries'];
export declare const mapValues: AsyncSurface['mapValues'];
export declare const mapValuesLimit: AsyncSurface['mapValuesLimit'];
export declare const mapValuesSeries: AsyncSurface['mapValuesSeries'];
export declare const filter: AsyncSurface['filter'];
export declare const filterLimit: AsyncSurface['filterLimit'];
export declare const filterSeries: AsyncSurface['filterSeries'];
export declare const reject: AsyncSurface['reject'];
export declare const rejectLimit: AsyncSurface['rejectLimit'];
export declare const rejectSeries: AsyncSurface['rejectSeries'];
export declare const detect: AsyncSurface['detect'];
export declare const detectLimit: AsyncSurface['detectLimit'];
export declare const detectSeries: AsyncSurface['detectSeries'];
export declare const some: AsyncSurface['some'];
export declare const someLimit: AsyncSurface['someLimit'];
export declare const someSeries: AsyncSurface['someSeries'];
export declare const every: AsyncSurface['every'];
export declare const everyLimit: AsyncSurface['everyLimit'];
export declare const everySeries: AsyncSurface['everySeries'];
export declare const concat: AsyncSurface['concat'];
export declare const concatLimit: AsyncSurface['concatLimit'];
export declare const concatSeries: AsyncSurface['concatSeries'];
export declare const groupBy: AsyncSurface['groupBy'];
export declare const groupByLimit: AsyncSurface['groupByLimit'];
export declare const groupBySeries: AsyncSurface['groupBySeries'];
export declare const reduce: AsyncSurface['reduce'];
export declare const reduceRight: AsyncSurface['reduceRight'];
export declare const sortBy: AsyncSurface['sortBy'];
export declare const transform: AsyncSurface['transform'];
export declare const parallel: AsyncSurface['parallel'];
export declare const parallelLimit: AsyncSurface['parallelLimit'];
export declare const series: AsyncSurface['series'];
export declare const waterfall: AsyncSurface['waterfall'];
export declare const auto: AsyncSurface['auto'];
export declare const autoInject: AsyncSurface['autoInject'];
export declare const queue: AsyncSurface['queue'];
export declare const priorityQueue: AsyncSurface['priorityQueue'];
export declare const cargo: AsyncSurface['cargo'];
export declare const cargoQueue: AsyncSurface['cargoQueue'];
export declare const retry: AsyncSurface['retry'];
export declare const retryable: AsyncSurface['retryable'];
export declare const whilst: AsyncSurface['whilst'];
export declare const doWhilst: AsyncSurface['doWhilst'];
export declare const until: AsyncSurface['until'];
export declare const doUntil: AsyncSurface['doUntil'];
export declare const forever: AsyncSurface['forever'];
export declare const times: AsyncSurface['times'];
export declare const timesLimit: AsyncSurface['timesLimit'];
export declare const timesSeries: AsyncSurface['timesSeries'];
export declare const race: AsyncSurface['race'];
export declare const tryEach: AsyncSurface['tryEach'];
export declare const compose: AsyncSurface['compose'];
export declare const seq: AsyncSurface['seq'];
export declare const applyEach: AsyncSurface['applyEach'];
export declare const applyEachSeries: AsyncSurface['applyEachSeries'];
export declare const reflect: AsyncSurface['reflect'];
export declare const reflectAll: AsyncSurface['reflectAll'];
export declare const timeout: AsyncSurface['timeout'];
export declare const asyncify: AsyncSurface['asyncify'];
export declare const ensureAsync: AsyncSurface['ensureAsync'];
export declare const memoize: AsyncSurface['memoize'];
export declare const unmemoize: AsyncSurface['unmemoize'];
export declare const apply: AsyncSurface['apply'];
export declare const constant: AsyncSurface['constant'];
export declare const log: AsyncSurface['log'];
export declare const dir: AsyncSurface['dir'];
export declare const nextTick: AsyncSurface['nextTick'];
export declare const setImmediate: AsyncSurface['setImmediate'];
export declare const all: AsyncSurface['all'];
export declare const allLimit: AsyncSurface['allLimit'];
export declare const allSeries: AsyncSurface['allSeries'];
export declare const any: AsyncSurface['any'];
export declare const anyLimit: AsyncSurface['anyLimit'];
export declare const anySeries: AsyncSurface['anySeries'];
export declare const find: AsyncSurface['find'];
export declare const findLimit: AsyncSurface['findLimit'];
export declare const findSeries: AsyncSurface['findSeries'];
export declare const flatMap: AsyncSurface['flatMap'];
export declare const flatMapLimit: AsyncSurface['flatMapLimit'];
export declare const flatMapSeries: AsyncSurface['flatMapSeries'];
export declare const forEach: AsyncSurface['forEach'];
export declare const forEachLimit: AsyncSurface['forEachLimit'];
export declare const forEachSeries: AsyncSurface['forEachSeries'];
export declare const forEachOf: AsyncSurface['forEachOf'];
export declare const forEachOfLimit: AsyncSurface['forEachOfLimit'];
export declare const forEachOfSeries: AsyncSurface['forEachOfSeries'];
export declare const inject: AsyncSurface['inject'];
export declare const foldl: AsyncSurface['foldl'];
export declare const foldr: AsyncSurface['foldr'];
export declare const select: AsyncSurface['select'];
export declare const selectLimit: AsyncSurface['selectLimit'];
export declare const selectSeries: AsyncSurface['selectSeries'];
export declare const wrapSync: AsyncSurface['wrapSync'];
export declare const during: AsyncSurface['during'];
export declare const doDuring: AsyncSurface['doDuring'];
