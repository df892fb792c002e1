import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, valueToString, type HeaderList, type Plugin, type PluginOptions } from '@meshwasm/proxy-wasm-host';
import { describeFilterPackage, expectConfigRejected, filterSchema } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
let wasm: Uint8Array;
const validateSchema = filterSchema(pkgDir);

beforeAll(() => {
  wasm = new Uint8Array(readFileSync(join(pkgDir, 'dist', 'callout.wasm')));
});

const BASE = {
  cluster: 'metadata',
  authority: 'metadata',
  path: '/headers',
  mappings: [{ header: 'x-meta', source: 'bodyNonEmpty', value: '1' }],
};
const CLOSED = { ...BASE, onFailure: { mode: 'closed' } };
const OPEN = { ...BASE, onFailure: { mode: 'open' } };

async function start(config: unknown, opts: PluginOptions = {}): Promise<Plugin> {
  const p = await loadPlugin(wasm, { config: config as object, pluginName: 'callout', rootId: 'callout', clusters: ['metadata', 'upstream'], ...opts });
  expect(p.failed).toBe(false);
  return p;
}

const get = (h: Array<[string, string]> | HeaderList, n: string): string | undefined => {
  const e = h.find(([k]) => k === n);
  return e === undefined ? undefined : valueToString(e[1]);
};

function req(extra: HeaderList = [], method = 'GET', path = '/get'): HeaderList {
  return [[':authority', 'example.com'], [':path', path], [':method', method], [':scheme', 'http'], ...extra];
}

describeFilterPackage(pkgDir, { wasm: 'callout.wasm', minExchanges: 4 });

describe('dispatch, pause and resume', () => {
  test('the request waits in on_request_headers until the answer, then goes on with x-meta: 1', async () => {
    const p = await start(CLOSED);
    const s = p.newStream();
    expect(s.sendRequestHeaders(req(), true)).toBe('StopAllIterationAndWatermark');
    expect(s.requestPaused).toBe(true);
    expect(s.upstreamRequest).toBeNull();
    const calls = p.pendingHttpCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0].cluster).toBe('metadata');
    expect(calls[0].timeoutMs).toBe(1000);
    expect(get(calls[0].headers, ':method')).toBe('GET');
    expect(get(calls[0].headers, ':path')).toBe('/headers');
    expect(get(calls[0].headers, ':authority')).toBe('metadata');
    p.respondHttpCall(calls[0].token, { headers: [[':status', '200']], body: '{"a":1}' });
    expect(s.requestPaused).toBe(false);
    expect(get(s.upstreamRequest!.headers.toStringList(), 'x-meta')).toBe('1');
    s.complete();
    expect(p.metric('outcome=.=ok;.;callout_total')).toBe(1);
    expect(p.failed).toBe(false);
  });

  test('method, templated path (percent-encoded header, {path}, {method}), forwarded headers and timeout', async () => {
    const p = await start({
      ...CLOSED,
      method: 'POST',
      path: '/users/{header.x-user}/check{path}?m={method}&lit={{x}}',
      forwardHeaders: ['authorization', 'x-request-id', 'x-absent'],
      timeoutMs: 250,
    });
    const r = await p.exchange({
      method: 'PUT', path: '/a/b',
      headers: [['x-user', 'jo hn/ü'], ['authorization', 'Bearer t0k'], ['x-request-id', 'r-1'], ['x-other', 'no']],
      callResponse: { status: 200, body: '{}' },
    });
    expect(r.httpCalls).toHaveLength(1);
    const h = r.httpCalls[0].headers;
    expect(get(h, ':method')).toBe('POST');
    expect(get(h, ':path')).toBe('/users/jo%20hn%2F%C3%BC/check/a/b?m=PUT&lit={x}');
    expect(get(h, 'authorization')).toBe('Bearer t0k');
    expect(get(h, 'x-request-id')).toBe('r-1');
    expect(get(h, 'x-absent')).toBeUndefined();
    expect(get(h, 'x-other')).toBeUndefined();
    expect(r.httpCalls[0].timeoutMs).toBe(250);
    expect(r.httpCalls[0].body).toBe('');
  });

  test('a client cannot forge the enrichment or the failure marker', async () => {
    const p = await start({ ...OPEN, mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }] });
    const r = await p.exchange({ headers: [['x-tier', 'platinum'], ['x-callout-error', 'none']], callResponse: { status: 200, body: '{"other":1}' } });
    expect(get(r.request!.headers, 'x-tier')).toBeUndefined();
    expect(get(r.request!.headers, 'x-callout-error')).toBeUndefined();
  });

  test('mappings from the JSON body (string, number, bool, array index) and from an answer header', async () => {
    const p = await start({
      ...CLOSED,
      mappings: [
        { header: 'x-tier', source: 'json', path: 'user.tier' },
        { header: 'x-id', source: 'json', path: 'user.id' },
        { header: 'x-score', source: 'json', path: 'user.score' },
        { header: 'x-admin', source: 'json', path: 'user.admin' },
        { header: 'x-role', source: 'json', path: 'user.roles.1' },
        { header: 'x-obj', source: 'json', path: 'user' },
        { header: 'x-null', source: 'json', path: 'user.none' },
        { header: 'x-missing', source: 'json', path: 'user.nothing.deeper' },
        { header: 'x-region', source: 'header', name: 'X-Region' },
        { header: 'x-meta', source: 'bodyNonEmpty', value: 'yes' },
      ],
    });
    const r = await p.exchange({
      callResponse: {
        status: 200,
        headers: [['x-region', 'eu-west-1']],
        body: '{"user":{"tier":"gold","id":42,"score":1.5,"admin":false,"roles":["a","b"],"none":null}}',
      },
    });
    const h = r.request!.headers;
    expect(get(h, 'x-tier')).toBe('gold');
    expect(get(h, 'x-id')).toBe('42');
    expect(get(h, 'x-score')).toBe('1.5');
    expect(get(h, 'x-admin')).toBe('false');
    expect(get(h, 'x-role')).toBe('b');
    expect(get(h, 'x-obj')).toBeUndefined();
    expect(get(h, 'x-null')).toBeUndefined();
    expect(get(h, 'x-missing')).toBeUndefined();
    expect(get(h, 'x-region')).toBe('eu-west-1');
    expect(get(h, 'x-meta')).toBe('yes');
  });

  test('a JSON string with a line break is not turned into a header (header injection)', async () => {
    const p = await start({ ...CLOSED, mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }] });
    const r = await p.exchange({ callResponse: { status: 200, body: '{"tier":"gold\\r\\nx-admin: 1"}' } });
    expect(r.request).not.toBeNull();
    expect(get(r.request!.headers, 'x-tier')).toBeUndefined();
    expect(get(r.request!.headers, 'x-admin')).toBeUndefined();
  });
});

describe('the path template never makes a dot segment from a header value', () => {
  const cases: Array<[string, string]> = [
    ['..', '/users/%2E%2E/profile'],
    ['.', '/users/%2E/profile'],
    ['...', '/users/%2E%2E%2E/profile'],
    ['../admin', '/users/..%2Fadmin/profile'],
    ['a..', '/users/a../profile'],
    ['.hidden', '/users/.hidden/profile'],
    ['jo.hn', '/users/jo.hn/profile'],
  ];
  test.each(cases)('x-user: %j -> %s', async (user, path) => {
    const p = await start({ ...CLOSED, path: '/users/{header.x-user}/profile' });
    const r = await p.exchange({ headers: [['x-user', user]], callResponse: { status: 200, body: '{}' } });
    expect(get(r.httpCalls[0].headers, ':path')).toBe(path);
  });

  test('two placeholders of one dot each stay escaped', async () => {
    const p = await start({ ...CLOSED, path: '/u/{header.x-a}{header.x-b}/p' });
    const r = await p.exchange({ headers: [['x-a', '.'], ['x-b', '.']], callResponse: { status: 200, body: '{}' } });
    expect(get(r.httpCalls[0].headers, ':path')).toBe('/u/%2E%2E/p');
  });
});

describe('limits on the answer', () => {
  const TIER = { ...CLOSED, mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }] };
  /** A JSON answer of exactly `size` bytes: {"tier":"gold","pad":"xxx..."}. */
  const answerOf = (size: number) => {
    const head = '{"tier":"gold","pad":"';
    return head + 'x'.repeat(size - head.length - 2) + '"}';
  };

  test('an answer of maxAnswerBytes (64 KiB by default) is read; one byte more is a failure, counted as too_large', async () => {
    const p = await start(TIER);
    const ok = await p.exchange({ callResponse: { status: 200, body: answerOf(65536) } });
    expect(get(ok.request!.headers, 'x-tier')).toBe('gold');
    const big = await p.exchange({ callResponse: { status: 200, body: answerOf(65537) } });
    expect(big.request).toBeNull();
    expect(big.response.status).toBe(503);
    expect(p.metric('outcome=.=too_large;.;callout_total')).toBe(1);
    expect(p.metric('outcome=.=ok;.;callout_total')).toBe(1);
    expect(big.logs.filter((l) => l.level === 'warn').map((l) => l.message))
      .toEqual(['callout: "metadata" answered 65537 bytes, more than maxAnswerBytes 65536']);
  });

  test('an object of 110,000 keys (over 1 MB) is refused unread, in open mode too', async () => {
    const keys = Array.from({ length: 110_000 }, (_, i) => `"k${i}":${i}`).join(',');
    const p = await start({ ...TIER, onFailure: { mode: 'open' } });
    const r = await p.exchange({ callResponse: { status: 200, body: `{${keys},"tier":"gold"}` } });
    expect(get(r.request!.headers, 'x-callout-error')).toBe('too_large');
    expect(get(r.request!.headers, 'x-tier')).toBeUndefined();
    expect(p.metric('outcome=.=too_large;.;callout_total')).toBe(1);
  });

  test('maxAnswerBytes is configurable, and the flat style counts callout_total_too_large', async () => {
    const p = await start({ ...TIER, maxAnswerBytes: 100, metricStyle: 'flat' });
    expect((await p.exchange({ callResponse: { status: 200, body: answerOf(100) } })).request).not.toBeNull();
    expect((await p.exchange({ callResponse: { status: 200, body: answerOf(101) } })).request).toBeNull();
    expect(p.metric('callout_total_too_large')).toBe(1);
  });

  test('a mapped value longer than maxValueBytes (8192 by default) is dropped and counted; the others are kept', async () => {
    const p = await start({
      ...CLOSED,
      mappings: [
        { header: 'x-long', source: 'json', path: 'long' },
        { header: 'x-fits', source: 'json', path: 'fits' },
        { header: 'x-hlong', source: 'header', name: 'x-hlong' },
        { header: 'x-crlf', source: 'json', path: 'crlf' },
      ],
    });
    const r = await p.exchange({
      callResponse: {
        status: 200,
        headers: [['x-hlong', 'h'.repeat(8193)]],
        body: JSON.stringify({ long: 'l'.repeat(8193), fits: 'f'.repeat(8192), crlf: 'a\r\nx-admin: 1' }),
      },
    });
    const h = r.request!.headers;
    expect(get(h, 'x-long')).toBeUndefined();
    expect(get(h, 'x-hlong')).toBeUndefined();
    expect(get(h, 'x-crlf')).toBeUndefined();
    expect(get(h, 'x-fits')).toBe('f'.repeat(8192));
    expect(p.metric('callout_value_dropped_total')).toBe(3);
    expect(p.metric('outcome=.=ok;.;callout_total')).toBe(1);
  });

  test('maxValueBytes counts UTF-8 bytes, and is configurable', async () => {
    const p = await start({ ...TIER, maxValueBytes: 4 });
    expect(get((await p.exchange({ callResponse: { status: 200, body: '{"tier":"gold"}' } })).request!.headers, 'x-tier')).toBe('gold');
    expect(get((await p.exchange({ callResponse: { status: 200, body: '{"tier":"göld"}' } })).request!.headers, 'x-tier')).toBeUndefined();
    expect(p.metric('callout_value_dropped_total')).toBe(1);
  });
});

describe('each outcome, fail closed and fail open', () => {
  const cases: Array<{ name: string; call: 'reset' | 'timeout' | { status: number; body?: string }; clusters?: string[]; outcome: string }> = [
    { name: 'an unknown cluster (dispatch fails at once)', call: { status: 200 }, clusters: ['upstream'], outcome: 'error' },
    { name: 'a timeout (Envoy answers 504)', call: 'timeout', outcome: 'timeout' },
    { name: 'a reset', call: 'reset', outcome: 'error' },
    { name: 'a 5xx answer', call: { status: 503, body: 'no healthy upstream' }, outcome: 'error' },
    { name: 'a 4xx answer', call: { status: 404, body: '{}' }, outcome: 'error' },
    { name: 'a non-JSON body', call: { status: 200, body: '<html>oops</html>' }, outcome: 'error' },
  ];
  for (const c of cases) {
    test(`${c.name}: closed -> local 503, the request never reaches the upstream; outcome ${c.outcome}`, async () => {
      const p = await start(CLOSED, c.clusters ? { clusters: c.clusters } : {});
      const r = await p.exchange({ method: 'POST', body: 'payload', chunkSize: 3, callResponse: c.call });
      expect(r.request).toBeNull();
      expect(r.localReply).not.toBeNull();
      expect(r.response.status).toBe(503);
      expect(r.response.body).toBe('metadata service unavailable\n');
      expect(r.localReply!.details).toBe('callout_failed');
      expect(r.httpCalls).toHaveLength(c.clusters ? 0 : 1);
      expect(p.metric(`outcome=.=${c.outcome};.;callout_total`)).toBe(1);
      expect(p.metric('outcome=.=ok;.;callout_total')).toBe(0);
      expect(r.logs.some((l) => l.level === 'warn' && l.message.startsWith('callout: '))).toBe(true);
      expect(r.failed).toBe(false);
    });
    test(`${c.name}: open -> the request goes on, body intact, marked x-callout-error: ${c.outcome}`, async () => {
      const p = await start(OPEN, c.clusters ? { clusters: c.clusters } : {});
      const r = await p.exchange({ method: 'POST', body: 'payload', chunkSize: 3, callResponse: c.call, response: { status: 201 } });
      expect(r.localReply).toBeNull();
      expect(r.request).not.toBeNull();
      expect(r.request!.body).toBe('payload');
      expect(get(r.request!.headers, 'x-callout-error')).toBe(c.outcome);
      expect(get(r.request!.headers, 'x-meta')).toBeUndefined();
      expect(r.response.status).toBe(201);
      expect(p.metric(`outcome=.=${c.outcome};.;callout_total`)).toBe(1);
    });
  }

  test('the closed reply uses the configured status and body', async () => {
    const p = await start({ ...BASE, onFailure: { mode: 'closed', status: 502, body: 'enrichment failed' } });
    const r = await p.exchange({ callResponse: 'reset' });
    expect(r.response.status).toBe(502);
    expect(r.response.body).toBe('enrichment failed');
  });

  test('open mode with a custom marker header', async () => {
    const p = await start({ ...BASE, onFailure: { mode: 'open', header: 'X-Enrich-Failed' } });
    const r = await p.exchange({ callResponse: 'timeout' });
    expect(get(r.request!.headers, 'x-enrich-failed')).toBe('timeout');
  });

  test('expectJson: false accepts a non-JSON body', async () => {
    const p = await start({ ...CLOSED, expectJson: false });
    const r = await p.exchange({ callResponse: { status: 200, body: 'plain text' } });
    expect(get(r.request!.headers, 'x-meta')).toBe('1');
  });

  test('a request body is held while the callout runs, then reaches the upstream whole', async () => {
    const p = await start(CLOSED);
    const s = p.newStream();
    s.sendRequestHeaders(req([['content-length', '11']], 'POST'), false);
    s.sendRequestBody('hello ', false);
    s.sendRequestBody('world', true);
    expect(s.upstreamRequest).toBeNull();
    const [call] = p.pendingHttpCalls();
    p.respondHttpCall(call.token, { headers: [[':status', '200']], body: '{}' });
    expect(s.upstreamRequest).not.toBeNull();
    expect(Buffer.from(s.upstreamRequest!.body).toString()).toBe('hello world');
    expect(get(s.upstreamRequest!.headers.toStringList(), 'x-meta')).toBe('1');
    s.complete();
    expect(p.failed).toBe(false);
  });
});

describe('cache', () => {
  const CACHED = { ...CLOSED, mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }], cache: { keyHeader: 'x-user', ttlMs: 1000 } };

  test('repeated keys are answered from the cache until the TTL ends; other keys and keyless requests call out', async () => {
    let now = 1_000_000_000n;
    const p = await start(CACHED, { now: () => now });
    let answer = '{"tier":"gold"}';
    const call = () => ({ status: 200, body: answer });
    const r1 = await p.exchange({ headers: [['x-user', 'alice']], callResponse: call });
    expect(r1.httpCalls).toHaveLength(1);
    answer = '{"tier":"silver"}';
    const r2 = await p.exchange({ headers: [['x-user', 'alice']], callResponse: call });
    expect(r2.httpCalls).toHaveLength(0);
    expect(get(r2.request!.headers, 'x-tier')).toBe('gold');
    const r3 = await p.exchange({ headers: [['x-user', 'bob']], callResponse: call });
    expect(r3.httpCalls).toHaveLength(1);
    expect(get(r3.request!.headers, 'x-tier')).toBe('silver');
    const r4 = await p.exchange({ callResponse: call });
    expect(r4.httpCalls).toHaveLength(1);
    now += 1_000_000_001n; // past the TTL
    const r5 = await p.exchange({ headers: [['x-user', 'alice']], callResponse: call });
    expect(r5.httpCalls).toHaveLength(1);
    expect(get(r5.request!.headers, 'x-tier')).toBe('silver');
    expect(p.metric('outcome=.=cache_hit;.;callout_total')).toBe(1);
    expect(p.metric('outcome=.=ok;.;callout_total')).toBe(4);
  });

  test('failures are never cached', async () => {
    const p = await start(CACHED);
    const r1 = await p.exchange({ headers: [['x-user', 'alice']], callResponse: 'reset' });
    expect(r1.response.status).toBe(503);
    const r2 = await p.exchange({ headers: [['x-user', 'alice']], callResponse: { status: 200, body: '{"tier":"gold"}' } });
    expect(r2.httpCalls).toHaveLength(1);
    expect(get(r2.request!.headers, 'x-tier')).toBe('gold');
  });

  test('the cache holds at most maxEntries keys (oldest evicted first)', async () => {
    const p = await start({ ...CACHED, cache: { keyHeader: 'x-user', ttlMs: 60000, maxEntries: 2 } });
    const call = { status: 200, body: '{"tier":"t"}' };
    for (const u of ['a', 'b', 'c']) await p.exchange({ headers: [['x-user', u]], callResponse: call });
    expect((await p.exchange({ headers: [['x-user', 'c']], callResponse: call })).httpCalls).toHaveLength(0);
    expect((await p.exchange({ headers: [['x-user', 'b']], callResponse: call })).httpCalls).toHaveLength(0);
    expect((await p.exchange({ headers: [['x-user', 'a']], callResponse: call })).httpCalls).toHaveLength(1);
  });
});

describe('concurrency limit and streams that end early', () => {
  test('beyond maxConcurrent the failure mode applies at once (overflow); a slot frees when an answer arrives', async () => {
    const p = await start({ ...OPEN, maxConcurrent: 1 });
    const a = p.newStream();
    a.sendRequestHeaders(req(), true);
    expect(a.requestPaused).toBe(true);
    const b = p.newStream();
    expect(b.sendRequestHeaders(req(), true)).toBe('Continue');
    expect(get(b.upstreamRequest!.headers.toStringList(), 'x-callout-error')).toBe('overflow');
    expect(p.pendingHttpCalls()).toHaveLength(1);
    p.respondHttpCall(p.pendingHttpCalls()[0].token, { headers: [[':status', '200']], body: '{}' });
    expect(get(a.upstreamRequest!.headers.toStringList(), 'x-meta')).toBe('1');
    const c = p.newStream();
    expect(c.sendRequestHeaders(req(), true)).toBe('StopAllIterationAndWatermark');
    expect(p.metric('outcome=.=overflow;.;callout_total')).toBe(1);
    for (const s of [a, b]) s.complete();
  });

  test('a stream that ends while waiting frees its slot, and its late answer is dropped without harm', async () => {
    const p = await start({ ...CLOSED, maxConcurrent: 1 });
    const a = p.newStream();
    a.sendRequestHeaders(req(), true);
    const [late] = p.pendingHttpCalls();
    a.complete(); // client went away
    const b = p.newStream();
    expect(b.sendRequestHeaders(req(), true)).toBe('StopAllIterationAndWatermark');
    p.respondHttpCall(late.token, { headers: [[':status', '200']], body: '{}' });
    expect(p.failed).toBe(false);
    expect(b.requestPaused).toBe(true);
    const [mine] = p.pendingHttpCalls();
    p.respondHttpCall(mine.token, { headers: [[':status', '200']], body: '{}' });
    expect(b.requestPaused).toBe(false);
    b.complete();
  });
});

describe('metrics', () => {
  test('labelled family with stats_tags in Prometheus, and the flat style', async () => {
    const p = await start(OPEN, { statsTags: [{ tagName: 'outcome', regex: '(outcome=\\.=(.*?);\\.;)' }] });
    await p.exchange({ callResponse: { status: 200, body: '{}' } });
    await p.exchange({ callResponse: 'timeout' });
    const text = p.prometheus();
    expect(text).toContain('# TYPE callout_total counter');
    expect(text).toContain('callout_total{outcome="ok"} 1');
    expect(text).toContain('callout_total{outcome="timeout"} 1');
    expect(text).toContain('callout_total{outcome="error"} 0');
    expect(text).toContain('callout_total{outcome="cache_hit"} 0');
    expect(text).toContain('callout_total{outcome="overflow"} 0');

    const f = await start({ ...OPEN, metricStyle: 'flat' });
    await f.exchange({ callResponse: 'reset' });
    expect(f.metric('callout_total_error')).toBe(1);
    expect(f.metric('callout_total_ok')).toBe(0);
  });
});

describe('bad configuration is refused at on_configure with one clear log line, nothing traps', () => {
  const bad: Array<[string, unknown, string]> = [
    ['not JSON', '{"cluster": ', 'config'],
    ['not an object', '[1]', 'config: expected object'],
    ['missing cluster', { ...BASE, cluster: undefined }, 'config: missing required key "cluster"'],
    ['empty cluster', { ...BASE, cluster: '' }, 'config.cluster'],
    ['authority with a space', { ...BASE, authority: 'a b' }, 'config.authority'],
    ['unknown method', { ...BASE, method: 'FETCH' }, 'config.method'],
    ['path without a leading slash', { ...BASE, path: 'headers' }, 'config.path'],
    ['unknown placeholder', { ...BASE, path: '/u/{query}' }, 'config.path: unknown placeholder {query}'],
    ['unclosed placeholder', { ...BASE, path: '/u/{header.x' }, 'config.path: unclosed'],
    ['timeout 0 (would wait forever)', { ...BASE, timeoutMs: 0 }, 'config.timeoutMs'],
    ['timeout not an integer', { ...BASE, timeoutMs: 1.5 }, 'config.timeoutMs'],
    ['no mappings', { ...BASE, mappings: [] }, 'config.mappings'],
    ['mapping to a pseudo-header', { ...BASE, mappings: [{ header: ':path', source: 'bodyNonEmpty', value: '1' }] }, 'config.mappings[0].header'],
    ['mapping with an unknown source', { ...BASE, mappings: [{ header: 'x-a', source: 'query' }] }, 'config.mappings[0].source'],
    ['json mapping with an empty segment', { ...BASE, mappings: [{ header: 'x-a', source: 'json', path: 'a..b' }] }, 'config.mappings[0].path'],
    ['value with CR LF', { ...BASE, mappings: [{ header: 'x-a', source: 'bodyNonEmpty', value: '1\r\nx: y' }] }, 'config.mappings[0].value'],
    ['unknown key in a mapping', { ...BASE, mappings: [{ header: 'x-a', source: 'bodyNonEmpty', value: '1', name: 'n' }] }, 'config.mappings[0]: unknown key "name"'],
    ['bad failure mode', { ...BASE, onFailure: { mode: 'maybe' } }, 'config.onFailure.mode'],
    ['failure status out of range', { ...BASE, onFailure: { status: 99 } }, 'config.onFailure.status'],
    ['cache without ttl', { ...BASE, cache: { keyHeader: 'x-user' } }, 'config.cache: missing required key "ttlMs"'],
    ['maxConcurrent 0', { ...BASE, maxConcurrent: 0 }, 'config.maxConcurrent'],
    ['unknown top-level key', { ...BASE, clustr: 'x' }, 'config: unknown key "clustr"'],
    ['bad metric style', { ...BASE, metricStyle: 'fancy' }, 'config.metricStyle'],
    ['maxAnswerBytes 0', { ...BASE, maxAnswerBytes: 0 }, 'config.maxAnswerBytes: expected integer in [1, 16777216], got 0'],
    ['maxAnswerBytes above 16 MiB', { ...BASE, maxAnswerBytes: 16777217 }, 'config.maxAnswerBytes'],
    ['maxValueBytes 0', { ...BASE, maxValueBytes: 0 }, 'config.maxValueBytes: expected integer in [1, 65536], got 0'],
    ['maxValueBytes above 64 KiB', { ...BASE, maxValueBytes: 65537 }, 'config.maxValueBytes'],
    ['a forwarded header listed twice (found by the fuzzer)', { ...BASE, forwardHeaders: ['x-a', 'x-b', 'x-a'] }, 'config.forwardHeaders[2]: "x-a" is listed twice'],
  ];
  for (const [name, config, message] of bad) {
    test(name, async () => {
      const cfg = typeof config === 'string' ? config : JSON.stringify(config);
      const p = await loadPlugin(wasm, { config: cfg, rootId: 'callout', clusters: ['metadata'] });
      expectConfigRejected(p, message);
      if (typeof config !== 'string') expect(validateSchema(config)).toBe(false);
    });
  }

  test.each([['empty', ''], ['blank', ' \n\t '], ['{}', '{}']])('an %s configuration (Istio: no pluginConfig) is refused, naming the missing field', async (_, config) => {
    const p = await loadPlugin(wasm, { config, rootId: 'callout', clusters: ['metadata'] });
    expectConfigRejected(p, 'config: missing required key "cluster"');
  });

  test('a full configuration is accepted by the filter and the schema alike', async () => {
    const full = {
      cluster: 'outbound|8000||httpbin.labs.svc.cluster.local', authority: 'httpbin:8000', method: 'POST',
      path: '/u/{header.x-user}{path}', forwardHeaders: ['authorization'], timeoutMs: 200,
      mappings: [{ header: 'x-a', source: 'header', name: 'x-b' }, { header: 'x-c', source: 'json', path: 'a.0' }, { header: 'x-m', source: 'bodyNonEmpty', value: '1' }],
      expectJson: true, onFailure: { mode: 'open', status: 502, body: 'x', header: 'x-f' },
      cache: { keyHeader: 'x-user', ttlMs: 5000, maxEntries: 10, maxKeyLength: 64 }, maxConcurrent: 5, metricStyle: 'flat',
      maxAnswerBytes: 1024, maxValueBytes: 256,
    };
    expect(validateSchema(full)).toBe(true);
    const p = await start(full);
    expect(p.configured).toBe(true);
  });
});
