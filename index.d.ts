/// <reference types="node" />
// Public types of fetchpool. Defaults are listed on each option and in the README.

import type { AsyncSurface, QueueObject } from './lib/async';

/** A request: a URL string, a URL, an object, or a WHATWG `Request` without a body. */
export type RequestInput = string | URL | RequestObject | Request;

export interface RequestObject {
  url: string | URL;
  /** Default `GET`, or `POST` when `body` or `json` is given. */
  method?: string;
  headers?: Record<string, string | number | undefined> | Iterable<[string, string]> | Headers;
  body?: string | Buffer | Uint8Array | ArrayBuffer | URLSearchParams | null;
  /** Serialised with JSON.stringify; sets `content-type: application/json` unless given. */
  json?: unknown;
  /** Total timeout of this request in ms (overrides the call's `timeout.total`). */
  timeout?: number;
  /** Cancels this request only; it fails with `ABORT_ERR`. */
  signal?: AbortSignal;
  /**
   * Stream the body to this file from Rust; `response.buffer` is then empty.
   * The file is replaced only by a whole 2xx body (see docs/downloads.md).
   */
  saveTo?: string;
  /** With `saveTo`: save the body whatever the status. Default false (2xx only). */
  saveAnyStatus?: boolean;
  /** With `saveTo` (GET): keep a broken download's bytes and continue from them with `Range`. Default false. */
  resume?: boolean;
  /** With `saveTo` (GET): send `If-None-Match` / `If-Modified-Since` for the saved copy; `304` keeps it. Default false. */
  ifChanged?: boolean;
  /** With `saveTo`: `sha256-…`, `sha384-…` or `sha512-…` (SRI); a mismatch fails with `EINTEGRITY` and saves nothing. */
  integrity?: string;
  /** Largest decoded body accepted, in bytes, in memory or by saveTo (overrides the call's); Infinity lifts it. */
  maxBodySize?: number;
}

export interface RetryOptions {
  /** Further attempts after the first. Default 0. */
  retries?: number;
  /** First backoff in ms, doubled each retry, with jitter. Default 100. */
  minDelay?: number;
  /** Cap on any one wait, `Retry-After` included, in ms. Default 10000. */
  maxDelay?: number;
  /** Default [408, 429, 500, 502, 503, 504]. */
  statuses?: number[];
  /** Default connection errors and timeouts (ECONNRESET, ECONNREFUSED, …). */
  codes?: string[];
  /** Default the idempotent methods: GET HEAD OPTIONS PUT DELETE TRACE. */
  methods?: string[];
}

export interface TimeoutOptions {
  /** From sending to the response head, ms. Default 30000. */
  headers?: number | false;
  /** Longest pause between two pieces of the body, ms. Default 30000. */
  body?: number | false;
  /** The whole request, redirects and retries included, ms. Default none. */
  total?: number | false;
}

export interface Progress {
  done: number;
  failed: number;
  inFlight: number;
  total: number;
  bytes: number;
}

/** Options of one call; each falls back to the client's. */
export interface CallOptions {
  /**
   * Requests of this call in flight at once. Default 64. `'auto'`: a limit
   * per origin that adapts to measured latency and errors (backing off on
   * 429, 503, timeouts and resets, honouring Retry-After), up to `maxConcurrency`.
   */
  concurrency?: number | 'auto';
  /** With `concurrency: 'auto'`, the most in flight to one origin. Default 256. */
  maxConcurrency?: number;
  /** A number is the total timeout in ms. */
  timeout?: number | false | TimeoutOptions;
  /** Default 'follow'. */
  redirect?: 'follow' | 'manual' | 'error';
  /** Default 20. */
  maxRedirects?: number;
  /** Largest decoded body kept in memory, in bytes. Default 64 MiB; Infinity lifts it. */
  maxBodySize?: number;
  /** Largest decoded body written by saveTo, in bytes. Default 4 GiB; Infinity lifts it. */
  maxSaveSize?: number;
  /** A body slower than `limit` bytes/s over `time` ms fails with ERR_BODY_TIMEOUT. Default { limit: 1024, time: 30000 }; false lifts it. */
  minSpeed?: false | { limit?: number; time?: number };
  /** Decode gzip, deflate, br and zstd. Default true. */
  decompress?: boolean;
  /** Non-2xx statuses fail with `ERR_HTTP_STATUS`. Default false. */
  failOnStatus?: boolean;
  /** A number is `{ retries }`. Default no retries. */
  retry?: number | RetryOptions;
  /** Cancels the whole call with `ABORT_ERR`. */
  signal?: AbortSignal;
  /** Called at most every 100 ms, and once at the end. */
  onProgress?: (progress: Progress) => void;
  /** gather/stream: per-item outcomes instead of failing fast. Default false. */
  settle?: boolean;
}

export interface ClientOptions extends Omit<CallOptions, 'timeout' | 'signal' | 'onProgress' | 'settle'> {
  /** Worker threads of the pool. Default: one per CPU but one (left for the JavaScript thread), at least 1. */
  workers?: number;
  timeout?: number | false | (TimeoutOptions & {
    /** TCP connect, DNS included, ms. Default 10000. Client-level only. */
    connect?: number | false;
  });
  /** Default 'auto' (HTTP/2 by ALPN over TLS). `true` is 'auto', `false` is 'off'. */
  http2?: 'auto' | 'prior-knowledge' | 'off' | boolean;
  /** Extra trusted CA certificates, PEM. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify server certificates. Default true. */
  rejectUnauthorized?: boolean;
  /** false: refuse connections to loopback, private, link-local and unique-local addresses (ERR_PRIVATE_NETWORK). Default true. */
  allowPrivateNetworks?: boolean;
  /** 'host:port' → 'address:port' (or 'address'), like curl's --resolve. */
  resolve?: Record<string, string>;
  /** A proxy URL, `{ http, https, noProxy }`, or false to ignore HTTP(S)_PROXY. Default: the environment. */
  proxy?: string | false | { http?: string; https?: string; noProxy?: string | string[] };
  /** Sent with every request unless the request sets them. */
  headers?: Record<string, string | number | undefined> | Iterable<[string, string]>;
  /** Default `fetchpool/<version>`. */
  userAgent?: string;
  /** Idle connections kept per host. Default 256, or the widest call's concurrency if higher. */
  poolMaxIdlePerHost?: number;
  /** Idle connections kept across all hosts (HTTP/1.1; see docs/large-runs.md for HTTP/2). Default 1024, or the widest call's concurrency if higher. */
  poolMaxIdle?: number;
  /** How long an idle connection is kept, ms. Default 30000. */
  poolIdleTimeout?: number;
  /** Connections per host at once. Default unlimited. */
  connectionsPerHost?: number;
  /** Requests started per second over the client. Default unlimited. */
  rateLimit?: number;
  /** Requests started per second to any one host. Default unlimited. */
  rateLimitPerHost?: number;
}

/** Read-only response headers with the lookup half of WHATWG Headers. */
export interface ResponseHeaders extends Iterable<[string, string]> {
  get(name: string): string | null;
  has(name: string): boolean;
  getSetCookie(): string[];
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  forEach(fn: (value: string, name: string, headers: ResponseHeaders) => void, thisArg?: unknown): void;
  toJSON(): Record<string, string>;
}

/** Milliseconds on the `performance.now()` clock. */
export interface Timing {
  queued: number;
  start: number;
  /** Absent when the request reused a connection. */
  connected?: number;
  firstByte: number;
  end: number;
}

export declare class Response {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  /** The final URL, after redirects. */
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: ResponseHeaders;
  /** The whole decoded body (empty when it went to `saveTo`). */
  readonly buffer: Buffer;
  /** With `saveTo`: the length of the file this response saved, 0 when it saved nothing. */
  readonly savedBytes: number | undefined;
  /** With `saveTo`: whether the file now holds this response's body. */
  readonly saved: boolean | undefined;
  /** With `saveTo` and `ifChanged`: a `304` kept the saved copy. */
  readonly notModified: boolean | undefined;
  readonly bodyUsed: false;
  /** Position of the request in its call. */
  index: number;
  readonly attempts: number;
  readonly httpVersion: '1.0' | '1.1' | '2';
  readonly timing: Timing;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  /** On Node 20, a body of 16 KiB or more: the memory `buffer` views, not a copy. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** On Node 20, a body of 16 KiB or more: a view of the memory `buffer` views, not a copy. */
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  toJSON(): object;
}

export type ErrorCode =
  | 'ECONNREFUSED' | 'ECONNRESET' | 'ENOTFOUND' | 'EHOSTUNREACH' | 'ENETUNREACH' | 'EPIPE' | 'ETIMEDOUT'
  | 'ERR_CONNECT_TIMEOUT' | 'ERR_HEADERS_TIMEOUT' | 'ERR_BODY_TIMEOUT' | 'ERR_TOTAL_TIMEOUT'
  | 'ERR_TLS_CERT' | 'ERR_TLS' | 'ERR_HTTP_PROTOCOL' | 'ERR_TOO_MANY_REDIRECTS' | 'ERR_BODY_TOO_LARGE'
  | 'ERR_DECOMPRESS' | 'ERR_PROXY' | 'ERR_PRIVATE_NETWORK' | 'ERR_HTTP_STATUS' | 'ABORT_ERR' | 'ERR_FETCHPOOL_INTERNAL'
  | (string & {});

export declare class FetchError extends Error {
  readonly code: ErrorCode;
  readonly url: string | undefined;
  readonly index: number | undefined;
  readonly attempts: number;
  /** With `ERR_HTTP_STATUS`. */
  readonly status?: number;
  /** When the request was queued, started and gave up (absent moments left out). */
  readonly timing?: Partial<Timing>;
}

/** Input errors are TypeError/RangeError with Node's codes. */
export type InputErrorCode =
  | 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_URL' | 'ERR_INVALID_URL_SCHEME'
  | 'ERR_INVALID_HTTP_TOKEN' | 'ERR_INVALID_CHAR' | 'ERR_OUT_OF_RANGE';

/** An input error: a TypeError or RangeError with its code, and in a batch the request's `url` and `index`. */
export type InputError = (TypeError | RangeError) & {
  readonly code: InputErrorCode;
  readonly url?: string;
  readonly index?: number;
};

/** What a call fails with: a request's error, or bad input. */
export type CallError = FetchError | InputError;

export type Settled<T> =
  | { status: 'fulfilled'; value: T }
  | { status: 'rejected'; reason: CallError };

export type StreamSettled<T> =
  | { status: 'fulfilled'; value: T; index: number }
  | { status: 'rejected'; reason: CallError; index: number };

export type Callback<T> = (err: CallError | null, result: T) => void;

export interface Stats {
  queued: number;
  inFlight: number;
  done: number;
  failed: number;
  bytes: number;
  /** `origin → limit` of the running calls with `concurrency: 'auto'`. */
  limits: Record<string, number>;
  /** Calls run as one batch: gather, the native map family, a fetch with options. */
  batches: number;
}

/**
 * `fetch(url, init)`: a request's fields beside the call's options, as
 * WHATWG's fetch takes them. Only with a URL: a request object carries its
 * own, and other calls refuse them in their options (`ERR_INVALID_ARG_VALUE`).
 */
export type FetchInit = FetchOptions & Omit<RequestObject, 'url' | 'timeout' | 'signal' | 'maxBodySize'>;

/** A single fetch's options: a call's, but `onProgress` (gather, stream and download only). */
export type FetchOptions = Omit<CallOptions, 'onProgress'>;

export interface FetchFunction {
  (request: string | URL, init?: FetchInit): Promise<Response>;
  (request: RequestInput, options?: FetchOptions): Promise<Response>;
  (request: RequestInput, callback: Callback<Response>): void;
  (request: string | URL, init: FetchInit | undefined, callback: Callback<Response>): void;
  (request: RequestInput, options: FetchOptions | undefined, callback: Callback<Response>): void;
}

export interface GatherFunction {
  (requests: Iterable<RequestInput>, options: CallOptions & { settle: true }): Promise<Settled<Response>[]>;
  (requests: Iterable<RequestInput>, options?: CallOptions): Promise<Response[]>;
  (requests: Iterable<RequestInput>, callback: Callback<Response[]>): void;
  (requests: Iterable<RequestInput>, options: CallOptions & { settle: true }, callback: Callback<Settled<Response>[]>): void;
  (requests: Iterable<RequestInput>, options: CallOptions | undefined, callback: Callback<Response[]>): void;
}

export interface StreamFunction {
  (requests: Iterable<RequestInput> | AsyncIterable<RequestInput>, options: CallOptions & { settle: true }): AsyncIterableIterator<StreamSettled<Response>>;
  (requests: Iterable<RequestInput> | AsyncIterable<RequestInput>, options?: CallOptions): AsyncIterableIterator<Response>;
}

export interface DownloadRequest extends Omit<RequestObject, 'saveTo'> {
  /** The file's name in the directory (made safe); default from the response or the URL. */
  file?: string;
}

export interface DownloadOptions extends CallOptions {
  /** For every request (a request's own value wins). Default false. */
  resume?: boolean;
  ifChanged?: boolean;
  saveAnyStatus?: boolean;
  /** Rename a saved file to the name its `Content-Disposition` gives. Default true. */
  contentDisposition?: boolean;
}

export interface DownloadResult {
  index: number;
  url: string;
  /** Where the body is (or would have been) saved. */
  file: string;
  /** Absent when the request failed. */
  status?: number;
  saved?: boolean;
  notModified?: boolean;
  /** The saved file's length. */
  bytes?: number;
  /** Why this URL failed; the others are unaffected (a file system error when its file could not be named). */
  error?: CallError | NodeJS.ErrnoException;
}

export interface DownloadFunction {
  (requests: Iterable<string | URL | DownloadRequest>, dir: string, options?: DownloadOptions): Promise<DownloadResult[]>;
  (requests: Iterable<string | URL | DownloadRequest>, dir: string, callback: Callback<DownloadResult[]>): void;
  (requests: Iterable<string | URL | DownloadRequest>, dir: string, options: DownloadOptions | undefined, callback: Callback<DownloadResult[]>): void;
}

export declare class Client {
  constructor(options?: ClientOptions);
  /** Worker threads of this client's pool. */
  readonly workers: number;
  /** Bound to the client: pass it as an iteratee (`map(urls, client.fetch)`). */
  readonly fetch: FetchFunction & NativeFetch;
  gather: GatherFunction;
  stream: StreamFunction;
  download: DownloadFunction;
  stats(): Stats;
  /** Cancels what is in flight (ABORT_ERR) and stops the pool. */
  close(): void;
}

declare const native: unique symbol;

/**
 * What marks fetchpool's own `fetch` (and a client's) where the async
 * functions take it to run natively. It has no call signature of its own, so
 * that a callback-style iteratee is typed by async's overloads, not fetch's.
 */
export interface NativeFetch {
  readonly [native]: true;
}

export declare const fetch: FetchFunction & NativeFetch;
export declare const gather: GatherFunction;
export declare const stream: StreamFunction;
/** Fetches a list into a directory, one safely named file per URL (see docs/downloads.md). */
export declare const download: DownloadFunction;
/** Counters of the default client. */
export declare function stats(): Stats;

/** What `timeline` reads: Responses, settled outcomes, errors, or records with `timing`. */
export type TimedResult =
  | Response | Settled<Response> | StreamSettled<Response> | Error
  | { timing?: Partial<Timing>; error?: unknown; bytes?: number };

export interface TimelineOptions {
  /** Width of a throughput bucket, ms. Default: makespan / `buckets`, rounded to 1, 2 or 5 × 10^k. */
  bucket?: number;
  /** Default 100. */
  buckets?: number;
}

export interface Latency { min: number; mean: number; p50: number; p90: number; p95: number; p99: number; max: number }

export interface Timeline {
  /** Results read, failed ones included (as `stats().done`). */
  done: number;
  failed: number;
  /** Results with no usable timing (input errors): counted, not drawn. */
  untimed: number;
  bytes: number;
  /** First `queued` and last `end`, on the performance.now() clock, ms. */
  start: number;
  end: number;
  makespan: number;
  /** Timed results per second over the makespan. */
  rate: number;
  meanInFlight: number;
  peakInFlight: number;
  /** f(t) as steps: `inFlight` holds from `t` (ms after `start`) to the next point. */
  concurrency: Array<{ t: number; inFlight: number }>;
  /** Width of a throughput bucket, ms. */
  bucket: number;
  throughput: Array<{ t: number; done: number; rate: number }>;
  /** Of end − start, ms. */
  latency: Latency;
}

/** The batch's concurrency curve f(t), makespan, throughput and latency percentiles. */
export declare function timeline(results: Iterable<TimedResult>, options?: TimelineOptions): Timeline;
/** The client behind the module-level functions. */
export declare const defaultClient: Client;

type Surface = AsyncSurface<RequestInput, Response, NativeFetch>;

export declare const map: Surface['map'];
export declare const mapLimit: Surface['mapLimit'];
export declare const mapSeries: Surface['mapSeries'];
export declare const each: Surface['each'];
export declare const eachLimit: Surface['eachLimit'];
export declare const eachSeries: Surface['eachSeries'];
export declare const forEach: Surface['forEach'];
export declare const forEachLimit: Surface['forEachLimit'];
export declare const forEachSeries: Surface['forEachSeries'];
export declare const eachOf: Surface['eachOf'];
export declare const eachOfLimit: Surface['eachOfLimit'];
export declare const eachOfSeries: Surface['eachOfSeries'];
export declare const forEachOf: Surface['forEachOf'];
export declare const forEachOfLimit: Surface['forEachOfLimit'];
export declare const forEachOfSeries: Surface['forEachOfSeries'];
export declare const mapValues: Surface['mapValues'];
export declare const mapValuesLimit: Surface['mapValuesLimit'];
export declare const mapValuesSeries: Surface['mapValuesSeries'];
export declare const filter: Surface['filter'];
export declare const filterLimit: Surface['filterLimit'];
export declare const filterSeries: Surface['filterSeries'];
export declare const select: Surface['select'];
export declare const selectLimit: Surface['selectLimit'];
export declare const selectSeries: Surface['selectSeries'];
export declare const reject: Surface['reject'];
export declare const rejectLimit: Surface['rejectLimit'];
export declare const rejectSeries: Surface['rejectSeries'];
export declare const detect: Surface['detect'];
export declare const detectLimit: Surface['detectLimit'];
export declare const detectSeries: Surface['detectSeries'];
export declare const find: Surface['find'];
export declare const findLimit: Surface['findLimit'];
export declare const findSeries: Surface['findSeries'];
export declare const some: Surface['some'];
export declare const someLimit: Surface['someLimit'];
export declare const someSeries: Surface['someSeries'];
export declare const any: Surface['any'];
export declare const anyLimit: Surface['anyLimit'];
export declare const anySeries: Surface['anySeries'];
export declare const every: Surface['every'];
export declare const everyLimit: Surface['everyLimit'];
export declare const everySeries: Surface['everySeries'];
export declare const all: Surface['all'];
export declare const allLimit: Surface['allLimit'];
export declare const allSeries: Surface['allSeries'];
export declare const concat: Surface['concat'];
export declare const concatLimit: Surface['concatLimit'];
export declare const concatSeries: Surface['concatSeries'];
export declare const flatMap: Surface['flatMap'];
export declare const flatMapLimit: Surface['flatMapLimit'];
export declare const flatMapSeries: Surface['flatMapSeries'];
export declare const groupBy: Surface['groupBy'];
export declare const groupByLimit: Surface['groupByLimit'];
export declare const groupBySeries: Surface['groupBySeries'];
export declare const reduce: Surface['reduce'];
export declare const inject: Surface['inject'];
export declare const foldl: Surface['foldl'];
export declare const reduceRight: Surface['reduceRight'];
export declare const foldr: Surface['foldr'];
export declare const sortBy: Surface['sortBy'];
export declare const transform: Surface['transform'];
export declare const parallel: Surface['parallel'];
export declare const parallelLimit: Surface['parallelLimit'];
export declare const series: Surface['series'];
export declare const waterfall: Surface['waterfall'];
export declare const auto: Surface['auto'];
export declare const autoInject: Surface['autoInject'];
/** With no worker, a native fetch queue: `queue()` or `queue(undefined, concurrency)`. */
export declare const queue: Surface['queue'];
export declare const priorityQueue: Surface['priorityQueue'];
export declare const cargo: Surface['cargo'];
export declare const cargoQueue: Surface['cargoQueue'];
export declare const retry: Surface['retry'];
export declare const retryable: Surface['retryable'];
export declare const whilst: Surface['whilst'];
export declare const during: Surface['during'];
export declare const doWhilst: Surface['doWhilst'];
export declare const doDuring: Surface['doDuring'];
export declare const until: Surface['until'];
export declare const doUntil: Surface['doUntil'];
export declare const forever: Surface['forever'];
export declare const times: Surface['times'];
export declare const timesLimit: Surface['timesLimit'];
export declare const timesSeries: Surface['timesSeries'];
export declare const race: Surface['race'];
export declare const tryEach: Surface['tryEach'];
export declare const compose: Surface['compose'];
export declare const seq: Surface['seq'];
export declare const applyEach: Surface['applyEach'];
export declare const applyEachSeries: Surface['applyEachSeries'];
export declare const reflect: Surface['reflect'];
export declare const reflectAll: Surface['reflectAll'];
export declare const timeout: Surface['timeout'];
export declare const asyncify: Surface['asyncify'];
export declare const wrapSync: Surface['wrapSync'];
export declare const ensureAsync: Surface['ensureAsync'];
export declare const memoize: Surface['memoize'];
export declare const unmemoize: Surface['unmemoize'];
export declare const apply: Surface['apply'];
export declare const constant: Surface['constant'];
export declare const log: Surface['log'];
export declare const dir: Surface['dir'];
export declare const nextTick: Surface['nextTick'];
export declare const setImmediate: Surface['setImmediate'];

export type { QueueObject };

declare const fetchpool: typeof import('./index');
export default fetchpool;
