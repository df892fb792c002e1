import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPlugin, type HeaderList, type HistogramValue, type Plugin, type PluginOptions, type PropertyValue } from '@meshwasm/proxy-wasm-host';
import { describeFilterPackage, expectConfigRejected, filterSchema } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
let wasm: Uint8Array;
const validateSchema = filterSchema(pkgDir);
const MS = 1_000_000n;

beforeAll(() => {
  wasm = new Uint8Array(readFileSync(join(pkgDir, 'dist', 'http-timing.wasm')));
});

async function start(config: unknown, opts: PluginOptions = {}): Promise<Plugin> {
  const p = await loadPlugin(wasm, { config: config as object, pluginName: 'http-timing', rootId: 'http-timing', ...opts });
  expect(p.configured).toBe(true);
  return p;
}

function req(path = '/get', authority = 'httpbin.labs:8000', method = 'GET'): HeaderList {
  return [[':authority', authority], [':path', path], [':method', method], [':scheme', 'http']];
}

/** One stream: request headers at t, response at t + ms, log later; returns the plugin. */
function run(p: Plugin, status: number, properties: Record<string, PropertyValue> = {}, path = '/get'): void {
  const s = p.newStream({ properties });
  s.sendRequestHeaders(req(path), true);
  s.sendResponseHeaders([[':status', String(status)]], true);
  s.complete();
}

const hist = (p: Plugin, n: string) => p.metric(n) as HistogramValue | undefined;
const INBOUND = { 'xds.listener_direction': 1 };
const OUTBOUND = { 'xds.listener_direction': 2 };

describeFilterPackage(pkgDir, { wasm: 'http-timing.wasm', minExchanges: 2 });

describe('duration', () => {
  test('runs from the request headers to the end of the response (monotonic clock), not to on_log', async () => {
    let now = 5_000_000_000n;
    const p = await start({}, { now: () => now });
    const s = p.newStream({ properties: INBOUND });
    s.sendRequestHeaders(req(), true);
    now += 42n * MS;
    s.sendResponseHeaders([[':status', '200']], false);
    now += 8n * MS;
    s.sendResponseBody('done', true);
    now += 500n * MS; // access-log flush later: not part of the duration
    s.complete();
    expect(hist(p, 'wasm_http_inbound_duration_ms')).toMatchObject({ count: 1, sum: 50 });
  });

  test('response trailers end the response', async () => {
    let now = 1_000_000_000n;
    const p = await start({}, { now: () => now });
    const s = p.newStream({ properties: OUTBOUND });
    s.sendRequestHeaders(req(), true);
    s.sendResponseHeaders([[':status', '200']], false);
    s.sendResponseBody('x', false);
    now += 7n * MS;
    s.sendResponseTrailers([['grpc-status', '0']]);
    now += 100n * MS;
    s.complete();
    expect(hist(p, 'wasm_http_outbound_duration_ms')).toMatchObject({ count: 1, sum: 7 });
  });

  test('sub-millisecond requests round to the nearest millisecond', async () => {
    let now = 1_000_000_000n;
    const p = await start({}, { now: () => now });
    for (const us of [400n, 600n]) {
      const s = p.newStream({ properties: INBOUND });
      s.sendRequestHeaders(req(), true);
      now += us * 1000n;
      s.sendResponseHeaders([[':status', '200']], true);
      s.complete();
    }
    expect(hist(p, 'wasm_http_inbound_duration_ms')).toMatchObject({ count: 2, sum: 1 });
  });
});

describe('direction and response class', () => {
  test('xds.listener_direction, the pre-1.33 listener_direction, and unknown directions', async () => {
    const p = await start({ metricStyle: 'flat' });
    run(p, 200, INBOUND);
    run(p, 200, OUTBOUND);
    run(p, 200, { listener_direction: 2 });
    run(p, 200, {});
    run(p, 200, { 'xds.listener_direction': 0 });
    run(p, 200, { 'xds.listener_direction': 7 });
    expect(p.metric('wasm_http_inbound_responses_total_2xx')).toBe(1);
    expect(p.metric('wasm_http_outbound_responses_total_2xx')).toBe(2);
    expect(p.metric('wasm_http_unknown_responses_total_2xx')).toBe(3);
    expect(hist(p, 'wasm_http_unknown_duration_ms')!.count).toBe(3);
  });

  test('the gateway override ignores the listener direction', async () => {
    const p = await start({ metricStyle: 'flat', direction: 'inbound' });
    run(p, 200, OUTBOUND);
    run(p, 200, {});
    expect(p.metric('wasm_http_inbound_responses_total_2xx')).toBe(2);
    expect(p.metric('wasm_http_outbound_responses_total_2xx')).toBe(0);
  });

  test('every class is counted, 1xx and "no response" (0) included', async () => {
    const p = await start({ metricStyle: 'flat' });
    for (const st of [101, 200, 204, 301, 404, 429, 500, 503]) run(p, st, INBOUND);
    const s = p.newStream({ properties: INBOUND });
    s.sendRequestHeaders(req(), true);
    s.complete(); // reset before any response: status 0
    const got = Object.fromEntries(['1xx', '2xx', '3xx', '4xx', '5xx', 'other'].map((c) => [c, p.metric(`wasm_http_inbound_responses_total_${c}`)]));
    expect(got).toEqual({ '1xx': 1, '2xx': 2, '3xx': 1, '4xx': 2, '5xx': 2, other: 1 });
  });

  test("another filter's local reply (only on_log runs) is counted", async () => {
    const p = await start({ metricStyle: 'flat' });
    const s = p.newStream({ properties: INBOUND });
    s.localReplyFromEarlierFilter(403, 'RBAC: access denied');
    s.complete();
    expect(p.failed).toBe(false);
    expect(p.metric('wasm_http_inbound_responses_total_4xx')).toBe(1);
  });
});

describe('metrics', () => {
  test('labelled family: Prometheus sees direction and response_class with the README stats_tags', async () => {
    const statsTags = [
      { tagName: 'direction', regex: '(direction=\\.=(.*?);\\.;)' },
      { tagName: 'response_class', regex: '(response_class=\\.=(.*?);\\.;)' },
    ];
    const p = await start({ metricStyle: 'labels' }, { statsTags });
    run(p, 200, INBOUND);
    run(p, 503, OUTBOUND);
    const text = p.prometheus();
    expect(text).toContain('# TYPE wasm_http_responses_total counter');
    expect(text).toContain('wasm_http_responses_total{direction="inbound",response_class="2xx"} 1');
    expect(text).toContain('wasm_http_responses_total{direction="outbound",response_class="5xx"} 1');
    expect(text).toContain('wasm_http_responses_total{direction="unknown",response_class="other"} 0');
    expect(text).toContain('# TYPE wasm_http_inbound_duration_ms histogram');
    expect(text).toMatch(/^wasm_http_inbound_duration_ms_count 1$/m);
    expect(text).not.toMatch(/=\.=/); // every embedded tag was extracted
  });

  test('all 21 metrics are defined once at configure time; none appear per request', async () => {
    const p = await start({ prefix: 'edge', metricStyle: 'labels' });
    const names = Object.keys(p.metrics());
    expect(names).toHaveLength(3 + 18);
    expect(names).toContain('edge_inbound_duration_ms');
    expect(names).toContain('direction=.=outbound;.;response_class=.=1xx;.;edge_responses_total');
    for (let i = 0; i < 50; i++) run(p, 200 + i, i % 2 ? INBOUND : OUTBOUND, `/users/${i}`);
    expect(Object.keys(p.metrics())).toEqual(names);
  });

  test('memory stays flat over many requests (stream contexts are reclaimed)', async () => {
    const p = await start({ log: { sampleEvery: 1000 } }, { logLevel: 'warn' });
    const many = (n: number) => { for (let i = 0; i < n; i++) run(p, 200, INBOUND, `/items/${i}?q=${i}`); };
    many(2000);
    const warm = p.memoryBytes();
    many(20000);
    expect(p.memoryBytes()).toBe(warm);
    expect(p.metric('wasm_http_inbound_responses_total_2xx')).toBe(22000);
  });
});

describe('sampled JSON access log', () => {
  test('one line per sampleEvery requests, path truncated and without query, values escaped', async () => {
    let now = 1_000_000_000n;
    const p = await start({ log: { sampleEvery: 2, maxPathLength: 8 } }, { now: () => now, logLevel: 'info' });
    for (let i = 0; i < 4; i++) {
      const s = p.newStream({ properties: OUTBOUND });
      s.sendRequestHeaders(req(`/abcdefghijkl?token=secret${i}`, 'we"ird\\host', 'POST'), true);
      now += 1234567n;
      s.sendResponseHeaders([[':status', '201']], true);
      s.complete();
    }
    const lines = p.logs.filter((l) => l.level === 'info').map((l) => l.message);
    expect(lines).toHaveLength(2);
    const rec = JSON.parse(lines[0]);
    expect(rec).toEqual({ direction: 'outbound', method: 'POST', path: '/abcdefg...', authority: 'we"ird\\host', status: 201, duration_ms: 1.234 });
    expect(lines.join('\n')).not.toContain('secret');
  });

  /** The logged record of one request with `path` and `authority` (sampleEvery 1). */
  async function logged(config: object, path: string, authority = 'httpbin.labs:8000'): Promise<{ path: string; authority: string }> {
    const p = await start({ log: { sampleEvery: 1, ...config } }, { logLevel: 'info' });
    const s = p.newStream({ properties: INBOUND });
    s.sendRequestHeaders(req(path, authority), true);
    s.sendResponseHeaders([[':status', '200']], true);
    s.complete();
    const lines = p.logs.filter((l) => l.level === 'info').map((l) => l.message);
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]);
  }

  test.each([
    ['/cart;jsessionid=0123ABCD', '/cart'],
    ['/a;jsessionid=S1/b;v=2/c?token=t', '/a/b/c'],
    ['/shop;JSESSIONID=x;other=y', '/shop'],
    ['/;x/', '//'],
    ['/plain/path', '/plain/path'],
    ['/a%3Bb', '/a%3Bb'],
  ])('without includeQuery, path parameters are dropped: %s -> %s', async (path, want) => {
    expect((await logged({}, path)).path).toBe(want);
  });

  test.each([
    ['http://user:password@api.example/orders;jsessionid=1?q=2', 'http://api.example/orders'],
    ['https://alice@api.example:8443/', 'https://api.example:8443/'],
    ['http://a:b@c@api.example/p', 'http://api.example/p'],
    ['http://api.example/redirect?to=http://x:y@z/', 'http://api.example/redirect'],
  ])('the userinfo of an absolute-form path is dropped: %s -> %s', async (path, want) => {
    const rec = await logged({}, path);
    expect(rec.path).toBe(want);
    expect(JSON.stringify(rec)).not.toMatch(/password|user:|alice@|a:b@/);
  });

  test('the userinfo of :authority is dropped, with or without includeQuery', async () => {
    expect((await logged({}, '/x', 'user:password@api.example')).authority).toBe('api.example');
    const kept = await logged({ includeQuery: true }, 'http://user:password@api.example/a;p=1?q=2', 'user:password@api.example');
    expect(kept).toMatchObject({ path: 'http://api.example/a;p=1?q=2', authority: 'api.example' });
  });

  test('includeQuery keeps the query; no log section means no log line', async () => {
    const p = await start({ log: { sampleEvery: 1, includeQuery: true } }, { logLevel: 'info' });
    run(p, 200, INBOUND, '/a?b=c');
    expect(JSON.parse(p.logs.filter((l) => l.level === 'info')[0].message).path).toBe('/a?b=c');
    const q = await start({}, { logLevel: 'info' });
    run(q, 200, INBOUND);
    expect(q.logs.filter((l) => l.level === 'info')).toHaveLength(0);
  });
});

describe('bad configuration is refused at on_configure with one clear log line, nothing traps', () => {
  const bad: Array<[string, unknown, string]> = [
    ['not JSON', '{"prefix"', 'config'],
    ['not an object', '"flat"', 'config: expected object'],
    ['prefix with a dot', { prefix: 'wasm.http' }, 'config.prefix'],
    ['prefix starting with a digit', { prefix: '1x' }, 'config.prefix'],
    ['unknown metric style', { metricStyle: 'tags' }, 'config.metricStyle'],
    ['unknown direction', { direction: 'gateway' }, 'config.direction'],
    ['sampleEvery 0', { log: { sampleEvery: 0 } }, 'config.log.sampleEvery'],
    ['maxPathLength not a number', { log: { maxPathLength: '10' } }, 'config.log.maxPathLength'],
    ['unknown key', { prefx: 'a' }, 'config: unknown key "prefx"'],
    ['unknown log key', { log: { every: 3 } }, 'config.log: unknown key "every"'],
  ];
  for (const [name, config, message] of bad) {
    test(name, async () => {
      const cfg = typeof config === 'string' ? config : JSON.stringify(config);
      const p = await loadPlugin(wasm, { config: cfg, rootId: 'http-timing' });
      expectConfigRejected(p, message);
      if (typeof config !== 'string') expect(validateSchema(config)).toBe(false);
    });
  }

  test('an empty configuration and a full one are accepted by the filter and the schema', async () => {
    const full = { prefix: 'mesh_http', metricStyle: 'labels', direction: 'outbound', log: { sampleEvery: 10, maxPathLength: 64, includeQuery: false } };
    for (const c of [{}, full]) {
      expect(validateSchema(c)).toBe(true);
      await start(c);
    }
    const empty = await loadPlugin(wasm, { rootId: 'http-timing' });
    expect(empty.configured).toBe(true);
  });

  test.each([['empty', ''], ['blank', ' \n\t ']])('an %s configuration (Istio: no pluginConfig) means every default', async (_, config) => {
    const p = await loadPlugin(wasm, { config, rootId: 'http-timing', logLevel: 'info' });
    expect(p.configured).toBe(true);
    expect(p.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    run(p, 200, INBOUND);
    // the default naming is the course's
    expect(p.metric('wasm_http_inbound_responses_total_2xx')).toBe(1);
    expect(p.metrics()).not.toHaveProperty(['direction=.=inbound;.;response_class=.=2xx;.;wasm_http_responses_total']);
    expect(hist(p, 'wasm_http_inbound_duration_ms')).toMatchObject({ count: 1 });
    expect(p.logs.filter((l) => l.level === 'info')).toEqual([]); // no log section: no log line
  });
});

describe('one metric naming (course Lab 6)', () => {
  const read = (f: string) => readFileSync(join(__dirname, '..', f), 'utf8');
  test('envoy.yaml, examples/lab.json, wasmplugin.yaml and the namespace-wide manifest use the course\'s names, the default', async () => {
    const envoy = parseYaml(read('envoy.yaml')) as { static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Array<{ typed_config: { config?: { configuration?: { value: string } } } }> } }> }> }> } };
    const wasmFilter = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config!;
    const styles = {
      'envoy.yaml': (JSON.parse(wasmFilter.configuration!.value) as { metricStyle?: string }).metricStyle,
      'examples/lab.json': (JSON.parse(read('examples/lab.json')) as { metricStyle?: string }).metricStyle,
      'wasmplugin.yaml': (parseYaml(read('wasmplugin.yaml')) as { spec: { pluginConfig: { metricStyle?: string } } }).spec.pluginConfig.metricStyle,
      'deploy/istio/http-timing.yaml': (parseYaml(read('../../deploy/istio/http-timing.yaml')) as { spec: { pluginConfig: { metricStyle?: string } } }).spec.pluginConfig.metricStyle,
      'schema.json default': (JSON.parse(read('schema.json')) as { properties: { metricStyle: { default: string } } }).properties.metricStyle.default,
    };
    expect(styles).toEqual({
      'envoy.yaml': 'flat', 'examples/lab.json': 'flat', 'wasmplugin.yaml': 'flat', 'deploy/istio/http-timing.yaml': 'flat', 'schema.json default': 'flat',
    });
    // and the filter's own default gives those names
    const p = await start({});
    run(p, 200, INBOUND);
    expect(p.metric('wasm_http_inbound_responses_total_2xx')).toBe(1);
  });

  test('the labelled option is documented with its stats_tags', () => {
    const readme = read('README.md');
    expect(readme).toContain('"metricStyle": "labels"');
    expect(readme).toContain("regex: '(direction=\\.=(.*?);\\.;)'");
    expect(readme).toContain("regex: '(response_class=\\.=(.*?);\\.;)'");
    expect(readme).toContain('extraStatTags: ["direction", "response_class"]');
  });
});
