// The local proxy's admin, Envoy-shaped: /logging changes the wasm log level at run time, /stats and /clusters in
// Envoy's text form, and a trap's backtrace names the functions of a debug build (fail closed, then fail open).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { compileSdkFixture } from './helpers';
import { EnvoyLikeProxy } from '../src/serve';
import { loadPlugin } from '../src/plugin';
import { histogramSummary } from '../src/admin';
import { Metric, MetricStore, MetricType } from '../src/metrics';
import { startEcho, type RunningServer } from '../src/servers';

function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const cs: Buffer[] = [];
      res.on('data', (c: Buffer) => cs.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(cs).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

function envoyYaml(wasm: string, echoPort: number): string {
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: upstream } } ] } ] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: lab
                root_id: lab
                vm_config: { vm_id: lab, runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${wasm} } } }
          - name: envoy.filters.http.router
  clusters:
  - name: upstream
    type: STATIC
    load_assignment: { cluster_name: upstream, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echoPort} } } } } ] } ] }
`;
}

let echo: RunningServer;
let config = '';
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'admin-'));
  writeFileSync(join(dir, 'lab.wasm'), compileSdkFixture('lab_debug', 'debug'));
  echo = await startEcho({ port: 0 });
  config = join(dir, 'envoy.yaml');
  writeFileSync(config, envoyYaml(join(dir, 'lab.wasm'), echo.port));
}, 180000);
afterAll(async () => { await echo?.close(); });

async function startProxy(failOpen = false): Promise<{ proxy: EnvoyLikeProxy; port: number; admin: number; lines: string[] }> {
  const lines: string[] = [];
  const proxy = await EnvoyLikeProxy.fromFile(config, { portOverrides: { main: 0 }, adminPort: 0, warn: () => {}, log: (l) => lines.push(l), failOpen });
  await proxy.start();
  return { proxy, port: proxy.listeners[0].port, admin: proxy.admin!.port, lines };
}

describe('admin /logging: the wasm log level at run time', () => {
  let s: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => { s = await startProxy(); });
  afterAll(async () => { await s?.proxy.stop(); });

  test('lists the wasm logger (GET and POST without parameters)', async () => {
    expect(await call(s.admin, 'GET', '/logging')).toEqual({ status: 200, body: 'active loggers:\n  wasm: info\n\n' });
    expect(await call(s.admin, 'POST', '/logging')).toEqual({ status: 200, body: 'active loggers:\n  wasm: info\n\n' });
  });

  test('debug lines are dropped at info, printed after POST /logging?wasm=debug, dropped again at ?level=warning', async () => {
    const logged = async () => { s.lines.length = 0; expect((await call(s.port, 'GET', '/')).status).toBe(200); return s.lines.filter((l) => l.includes('wasm log')); };
    expect(await logged()).toEqual(['[info] wasm log lab lab lab: request seen']);
    expect(await call(s.admin, 'POST', '/logging?wasm=debug')).toEqual({ status: 200, body: 'active loggers:\n  wasm: debug\n\n' });
    expect(await logged()).toEqual(['[debug] wasm log lab lab lab: request headers: 6', '[info] wasm log lab lab lab: request seen']);
    expect(await call(s.admin, 'POST', '/logging?level=warning')).toEqual({ status: 200, body: 'active loggers:\n  wasm: warning\n\n' });
    expect(await logged()).toEqual([]);
    expect((await call(s.admin, 'POST', '/logging?paths=wasm:info')).body).toBe('active loggers:\n  wasm: info\n\n');
    expect(await logged()).toEqual(['[info] wasm log lab lab lab: request seen']);
  });

  test('a mutation over GET is refused (405) and changes nothing; a bad level answers the usage (404)', async () => {
    await call(s.admin, 'POST', '/logging?level=info');
    expect(await call(s.admin, 'GET', '/logging?wasm=debug')).toEqual({ status: 405, body: 'Method GET not allowed, POST required.' });
    expect((await call(s.admin, 'GET', '/logging')).body).toBe('active loggers:\n  wasm: info\n\n');
    const bad = await call(s.admin, 'POST', '/logging?wasm=loud');
    expect(bad.status).toBe(404);
    expect(bad.body).toContain('usage: /logging?level=<level> (change all levels)\nlevels: trace debug info warning error critical off \n');
    expect(bad.body.endsWith('active loggers:\n  wasm: info\n\n')).toBe(true);
    expect((await call(s.admin, 'POST', '/logging?router=debug')).status).toBe(404); // no such logger here
  });
});

describe('admin /stats and /clusters in Envoy text form', () => {
  let s: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => {
    s = await startProxy();
    for (const size of ['5', '20']) expect((await call(s.port, 'GET', '/', { 'x-size': size })).status).toBe(200);
  });
  afterAll(async () => { await s?.proxy.stop(); });

  test('/stats: `name: value` lines sorted, then histograms as quantile summaries', async () => {
    const r = await call(s.admin, 'GET', '/stats');
    expect(r.status).toBe(200);
    const lines = r.body.trimEnd().split('\n');
    expect(lines).toContain('wasmcustom.lab_requests: 2');
    expect(lines).toContain('cluster.upstream.upstream_rq_total: 2');
    expect(lines).toContain('cluster.upstream.upstream_rq_active: 0');
    const values = lines.filter((l) => !l.includes('P0('));
    expect(values).toEqual([...values].sort());
    const hist = lines.find((l) => l.startsWith('wasmcustom.lab_size: '))!;
    expect(hist).toMatch(/^wasmcustom\.lab_size: P0\(nan,5\) P25\(nan,[\d.]+\) P50\(nan,[\d.]+\) P75\(nan,[\d.]+\) P90\(nan,[\d.]+\) P95\(nan,[\d.]+\) P99\(nan,[\d.]+\) P99\.5\(nan,[\d.]+\) P99\.9\(nan,[\d.]+\) P100\(nan,20\)$/);
    expect(lines.indexOf(hist)).toBe(lines.length - 1); // histograms come after counters and gauges
    expect((await call(s.admin, 'GET', '/stats?filter=lab_requests')).body).toBe('wasmcustom.lab_requests: 2\n');
    expect((await call(s.admin, 'GET', '/stats?format=prometheus')).body).toContain('# TYPE lab_requests counter\nlab_requests 2\n');
  });

  test('/clusters: cluster::host::stat lines for each configured cluster', async () => {
    const r = await call(s.admin, 'GET', '/clusters');
    expect(r.status).toBe(200);
    const h = `upstream::127.0.0.1:${echo.port}`;
    for (const line of ['upstream::observability_name::upstream', 'upstream::default_priority::max_connections::1024', 'upstream::high_priority::max_retries::3',
      'upstream::added_via_api::false', `${h}::rq_total::2`, `${h}::rq_success::2`, `${h}::rq_error::0`, `${h}::rq_active::0`, `${h}::health_flags::healthy`, `${h}::weight::1`]) {
      expect(r.body.split('\n')).toContain(line);
    }
    expect(Number(/::cx_total::(\d+)/.exec(r.body)?.[1])).toBeGreaterThanOrEqual(1);
  });
});

test('histogram summary: "No recorded values", exact P0/P100, quantiles inside their bucket', () => {
  const store = new MetricStore([10, 100]);
  const m = store.get(store.define(MetricType.Histogram, 'h'))! as Metric;
  expect(histogramSummary([{ m, buckets: store.buckets }])).toBe('No recorded values');
  for (const v of [2n, 4n, 6n, 8n]) store.record(m, v);
  expect(histogramSummary([{ m, buckets: store.buckets }])).toBe('P0(nan,2) P25(nan,3.5) P50(nan,5) P75(nan,6.5) P90(nan,7.4) P95(nan,7.7) P99(nan,7.94) P99.5(nan,7.97) P99.9(nan,7.994) P100(nan,8)');
});

describe('a trap: the backtrace names the functions of a debug build; fail closed, then --fail-open', () => {
  test('fail closed: 503 wasm_fail_stream, and the critical line carries the in-VM backtrace with names', async () => {
    const s = await startProxy();
    try {
      const r = await call(s.port, 'GET', '/', { 'x-trap': '1' });
      expect(r.status).toBe(503);
      const crit = s.lines.find((l) => l.startsWith('[critical] Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable'))!;
      expect(crit).toBeDefined();
      const trace = crit.split('\n').slice(1);
      expect(trace[0]).toBe('Proxy-Wasm plugin in-VM backtrace:');
      expect(trace[1]).toMatch(/^ {2}0: test\/fixtures\/lab_debug\/explodeOnPurpose \(wasm:\/\/wasm\/[0-9a-f]+:1:\d+\)$/);
      expect(trace[2]).toMatch(/^ {2}1: test\/fixtures\/lab_debug\/DebugFilter#onRequestHeaders /);
      expect((await call(s.port, 'GET', '/')).status).toBe(503); // the VM stays failed: every new stream fails closed
    } finally { await s.proxy.stop(); }
  });

  test('--fail-open: the trapped request and the next ones reach the upstream', async () => {
    const s = await startProxy(true);
    try {
      expect((await call(s.port, 'GET', '/', { 'x-trap': '1' })).status).toBe(200);
      expect(s.lines.some((l) => l.startsWith('[critical] Function: proxy_on_request_headers failed'))).toBe(true);
      expect((await call(s.port, 'GET', '/')).status).toBe(200);
    } finally { await s.proxy.stop(); }
  });

  test('a release build (no name section): the backtrace says how to get names', async () => {
    const p = await loadPlugin(compileSdkFixture('lab_debug', 'release'), { logLevel: 'info' });
    expect((await p.exchange({ headers: [['x-trap', '1']] })).localReply?.details).toBe('wasm_fail_stream');
    const crit = p.logs.find((l) => l.level === 'critical')!.message;
    expect(crit).toMatch(/\n {2}0: null\.<anonymous> \(wasm:\/\/wasm\/[0-9a-f]+:1:\d+\)/);
    expect(crit.endsWith('\n  (no function names: the module has no name section; a debug build, `nx run <filter>:build-debug`, has one)')).toBe(true);
  }, 180000);
});
