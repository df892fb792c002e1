// The CLI (run) and the local proxy (serve) against real loopback sockets.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { compileFixture, PKG } from './helpers';
import { EnvoyLikeProxy, durationMs } from '../src/serve';
import { startEcho, startMetadataService, type RunningServer } from '../src/servers';
import { WasmBuilder, op } from '../src/testing/wasm-builder';

let kitchen: string;
const dir = mkdtempSync(join(tmpdir(), 'pwh-'));
const BIN = join(PKG, 'bin', 'proxy-wasm-host.cjs');

beforeAll(() => {
  kitchen = join(dir, 'kitchen.wasm');
  writeFileSync(kitchen, compileFixture('kitchen'));
});

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: PKG });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('proxy-wasm-host run', () => {
  test('--tcp drives one connection through a network filter (Envoy network wasm filter semantics)', () => {
    const net = join(dir, 'envoy_network.wasm');
    writeFileSync(net, compileFixture('envoy_network'));
    const t = cli(['run', net, '--tcp', '--config', 'logging', '--data', 'Fake', '--upstream-data', 'Done', '--close', 'upstream']);
    expect(t.code).toBe(0);
    expect(t.out).toContain('connection #2: on_new_connection Continue\n  > client "Fake": Continue\n  < upstream "Done": Continue\n  closed by the proxy');
    expect(t.out).toContain('upstream received: "write"');
    expect(t.out).toContain('[trace] wasm log: onUpstreamConnectionClose 2 0');
    const j = JSON.parse(cli(['run', net, '--tcp', '--config', 'close_stream', '--data', 'x', '--json']).out);
    expect(j.closed).toBe(true);
    expect(j.closeDetails).toBe('wasm_downstream_close');
    expect(j.logs.map((l: { message: string }) => l.message)).toEqual(['onNewConnection 2', 'onDownstreamConnectionClose 2 1', 'onDone 2', 'onLog 2', 'onDelete 2']);
    expect(cli(['run', net, '--tcp', '--close', 'sideways']).code).toBe(2);
  });

  test('--json prints one ExchangeResult object', () => {
    const r = cli(['run', kitchen, '-H', 'x-op: add', '--path', '/p', '--body', 'hello', '--status', '201', '--response-body', 'ok', '--config', 'c1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.configured).toBe(true);
    expect(j.request.headers).toContainEqual(['newheader', 'newheadervalue']);
    expect(j.request.body).toBe('hello');
    expect(j.response.status).toBe(201);
    expect(j.response.headers).toContainEqual(['test-status', 'OK']);
    expect(j.localReply).toBeNull();
    expect(j.logs).toContainEqual({ level: 'info', message: 'configure c1' });
    expect(j.failed).toBe(false);
  }, 30000);

  test('readable trace; local reply; http call answered with --call-response', () => {
    const t = cli(['run', kitchen, '-H', 'x-op: local']);
    expect(t.out).toContain('upstream received: nothing (the request never left the filter)');
    expect(t.out).toContain('client received: 200');
    expect(t.out).toContain('local reply: 200 details=hello__details');
    const c = JSON.parse(cli(['run', kitchen, '-H', 'x-op: call', '--call-response', '401:nope', '--json']).out);
    expect(c.httpCalls[0].cluster).toBe('cluster');
    expect(c.response.status).toBe(403);
  }, 30000);

  test('trap -> 503; --fail-open -> passes; a missing import -> clear error, exit 3', () => {
    const closed = JSON.parse(cli(['run', kitchen, '-H', 'x-op: trap-req-headers', '--json']).out);
    expect(closed.response.status).toBe(503);
    expect(closed.failed).toBe(true);
    const open = JSON.parse(cli(['run', kitchen, '-H', 'x-op: trap-req-headers', '--fail-open', '--json']).out);
    expect(open.response.status).toBe(200);
    const bad = join(dir, 'seed.wasm');
    // (module (import "env" "seed" (func (result f64))) (func (export "proxy_abi_version_0_2_1")) (memory (export "memory") 1))
    const b = new WasmBuilder(); b.import('env', 'seed', '>F'); b.func('>', [], 'proxy_abi_version_0_2_1'); b.func('i>i', op.i32(8), 'malloc');
    writeFileSync(bad, b.build());
    const r = cli(['run', bad]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('Failed to load Wasm module due to a missing import: env.seed');
  }, 30000);
});

function get(port: number, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', headers }, (res) => {
      let b = ''; res.setEncoding('utf8'); res.on('data', (c) => (b += c)); res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('proxy-wasm-host serve', () => {
  let echo: RunningServer, meta: RunningServer, proxy: EnvoyLikeProxy;
  const warnings: string[] = [];
  const logs: string[] = [];
  beforeAll(async () => {
    echo = await startEcho({ port: 0 });
    meta = await startMetadataService({ port: 0 });
    const yaml = `
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
          unsupported_thing: true
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: echo }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: kitchen
                root_id: kitchen
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "cfg" }
                vm_config: { vm_id: serve-test, runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${kitchen} } } }
          - name: envoy.filters.http.router
  - name: outbound
    address: { socket_address: { address: 127.0.0.1, port_value: 15001 } }
    traffic_direction: OUTBOUND
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: echo } } ] } ] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: kitchen-out
                root_id: kitchen
                failure_policy: FAIL_RELOAD
                reload_config: { backoff: { base_interval: 1s } }
                vm_config: { vm_id: serve-test-out, runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${kitchen} } } }
          - name: envoy.filters.http.router
  clusters:
  - name: echo
    type: STATIC
    load_assignment: { cluster_name: echo, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } } } ] } ] }
  - name: cluster
    type: STRICT_DNS
    load_assignment: { cluster_name: cluster, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: localhost, port_value: ${meta.port} } } } } ] } ] }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
`;
    const file = join(dir, 'envoy.yaml');
    writeFileSync(file, yaml);
    proxy = await EnvoyLikeProxy.fromFile(file, { portOverrides: { main: 0, outbound: 0 }, adminPort: 0, warn: (m) => warnings.push(m), log: (m) => logs.push(m) });
    await proxy.start();
  });
  afterAll(async () => { await proxy?.stop(); await echo?.close(); await meta?.close(); });

  test('an unsupported Envoy field gives a clear warning', () => {
    expect(warnings.some((w) => w.includes('unsupported_thing is not supported'))).toBe(true);
  });

  test('proxies through the wasm filter to the echo upstream', async () => {
    const port = proxy.listeners[0].port;
    const r = await get(port, '/hello', { 'x-op': 'add,metrics' });
    expect(r.status).toBe(200);
    expect(r.headers['test-status']).toBe('OK');
    const seen = JSON.parse(r.body);
    expect(seen.path).toBe('/hello');
    expect(seen.headers.newheader).toBe('newheadervalue');
    expect(seen.headers['x-request-id']).toBeTruthy();
  });

  test('http calls go to the named cluster for real and resume the request', async () => {
    const port = proxy.listeners[0].port;
    const r = await get(port, '/auth', { 'x-op': 'call' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).headers['x-auth']).toBe('ok');
  });

  test('a local reply, and a trap answering 503', async () => {
    const port = proxy.listeners[0].port;
    const l = await get(port, '/', { 'x-op': 'local' });
    expect(l.status).toBe(200);
    expect(l.body).toBe('Hello, World!\n');
    expect(l.headers['powered-by']).toBe('proxy-wasm');
  });

  test('the listener traffic_direction becomes xds.listener_direction (0 unspecified, 2 outbound)', async () => {
    logs.length = 0;
    expect((await get(proxy.listeners[0].port, '/p', { 'x-op': 'props' })).status).toBe(200);
    expect((await get(proxy.listeners[1].port, '/p', { 'x-op': 'props' })).status).toBe(200);
    expect(logs).toContain('[info] wasm log kitchen kitchen serve-test: props path=/p plugin=kitchen dir=0 custom=null');
    expect(logs).toContain('[info] wasm log kitchen-out kitchen serve-test-out: props path=/p plugin=kitchen-out dir=2 custom=null');
  });

  test('failure_policy FAIL_RELOAD: a trap answers 503, then after reload_config.backoff a fresh VM serves', async () => {
    const port = proxy.listeners[1].port;
    expect((await get(port, '/', { 'x-op': 'trap-req-headers' })).status).toBe(503);
    expect((await get(port, '/', { 'x-op': 'add' })).status).toBe(503); // within the 1 s backoff: fail closed
    await new Promise((r) => setTimeout(r, 1100));
    const r = await get(port, '/', { 'x-op': 'add' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).headers.newheader).toBe('newheadervalue');
    expect(proxy.listeners[1].filters[0].plugin.reloads).toBe(1);
  });

  test('bad failure_policy / reload durations and traffic_direction give clear errors', async () => {
    expect(durationMs('0.25s', 'x')).toBe(250);
    expect(durationMs({ seconds: 2, nanos: 5e8 }, 'x')).toBe(2500);
    expect(() => durationMs('1m', 'reload_config.backoff.base_interval')).toThrow('reload_config.backoff.base_interval: expected a positive duration like "1s"');
    const bad = (extra: string, listenerExtra = '') => {
      const f = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, `static_resources:
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }${listenerExtra}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config: { config: { name: k, root_id: kitchen, ${extra} vm_config: { code: { local: { filename: ${kitchen} } } } } }
`);
      return EnvoyLikeProxy.fromFile(f, { warn: () => {}, log: () => {} });
    };
    await expect(bad('failure_policy: FAIL_SOMETIMES,')).rejects.toThrow('failure_policy FAIL_SOMETIMES is not one of UNSPECIFIED, FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD');
    await expect(bad('')).resolves.toBeDefined();
    await expect(bad('', '\n    traffic_direction: SIDEWAYS')).rejects.toThrow('traffic_direction SIDEWAYS is not one of UNSPECIFIED, INBOUND, OUTBOUND');
  });

  test('admin /ready and /stats/prometheus accepted by promtool check metrics', async () => {
    const port = proxy.admin!.port;
    expect((await get(port, '/ready')).body).toBe('LIVE\n');
    const prom = (await get(port, '/stats/prometheus')).body;
    expect(prom).toContain('requests_total 1');
    let promtool: string | null = null;
    try { promtool = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || null; } catch { promtool = null; }
    if (!promtool) {
      if (process.env.CI === 'true') throw new Error('promtool (Debian package prometheus) is required in CI');
      console.warn('promtool not found: skipping the promtool check (install the Debian package prometheus)');
      return;
    }
    const r = spawnSync(promtool, ['check', 'metrics'], { input: prom, encoding: 'utf8' });
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  });
});
