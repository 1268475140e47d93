// Type-checked (not run) example of fetchpool's own API: `npx tsc -p __test__/types`.

import fetchpool, { fetch, gather, stream, download, DownloadResult, Client, FetchError, Response, mapLimit, map, queue, timeline } from '../../index';
import type { Timeline } from '../../index';

async function calls(): Promise<void> {
  const res: Response = await fetch('http://127.0.0.1:8080/');
  const status: number = res.status;
  const body: string = await res.text();
  const version: '1.0' | '1.1' | '2' = res.httpVersion;
  const connected: number | undefined = res.timing.connected;
  const type: string | null = res.headers.get('content-type');
  void [status, body, version, connected, type];

  const list: Response[] = await gather(['http://a/', new URL('http://b/'), { url: 'http://c/', method: 'POST', json: { a: 1 } }], { concurrency: 8 });
  const settled = await gather(['http://a/'], { settle: true });
  for (const item of settled) {
    if (item.status === 'fulfilled') void item.value.status;
    else void item.reason.message;
  }
  for await (const r of stream(['http://a/'], { concurrency: 4 })) void r.index;

  const client = new Client({ workers: 2, http2: 'auto', timeout: { connect: 1000, headers: 5000 }, retry: { retries: 2 } });
  const viaClient: Response[] = await client.gather(list.map((r) => r.url));
  void viaClient;
  client.close();

  const native: Response[] = await map(['http://a/'], fetch);
  mapLimit(['http://a/'], 4, fetch, (err, results) => {
    if (err) return;
    const first: Response = results[0];
    void first;
  });
  const q = queue();
  void q;
  void fetchpool.gather;

  try {
    await fetch('http://127.0.0.1:1/');
  } catch (err) {
    if (err instanceof FetchError) void err.code;
    if (err instanceof FetchError) void err.timing?.end;
  }
  void native;

  const posted: Response = await fetch('http://a/', { method: 'POST', headers: { 'x-a': '1' }, body: 'x', timeout: 1000 });
  fetch(new URL('http://a/'), { json: { a: 1 } }, (err, r) => { void err; void r.status; });
  // @ts-expect-error a request object carries its own fields
  await fetch({ url: 'http://a/' }, { method: 'POST' });
  // @ts-expect-error a request's field is no option of a call of many
  await gather(['http://a/'], { method: 'POST' });
  void posted;
  await fetch(new Request('http://a/', { method: 'DELETE' }));

  const saved = await fetch({ url: 'http://a/f', saveTo: '/tmp/f', resume: true, ifChanged: true, integrity: 'sha256-x' });
  const kept: boolean | undefined = saved.notModified;
  const results: DownloadResult[] = await download(['http://a/f', { url: 'http://a/g', file: 'g.txt' }], '/tmp/d', { resume: true, concurrency: 8 });
  const bytes: number | undefined = results[0].bytes;
  new Client().download(['http://a/'], '/tmp/d', (err, r) => { void err; void r[0].file; });
  void [kept, bytes];
  const outcomes = await gather(['http://127.0.0.1:8080/'], { settle: true });
  const t: Timeline = timeline(outcomes, { buckets: 50 });
  const peak: number = t.peakInFlight;
  const points: Array<{ t: number; inFlight: number }> = t.concurrency;
  const p99: number = timeline([res, new Error('x'), { timing: { start: 1, end: 2 }, error: 'ECONNRESET' }]).latency.p99;
  void peak; void points; void p99;
  const auto = new Client({ concurrency: 'auto', maxConcurrency: 64 });
  await auto.gather(['http://127.0.0.1:8080/'], { concurrency: 'auto' });
  const limits: Record<string, number> = auto.stats().limits;
  void limits;
}

void calls;
