// The proxy-wasm-rust-sdk examples http_headers, http_body, http_auth_random and http_config, re-written on OUR
// SDK (as-proxy-wasm, test/fixtures/rust_examples.ts), with the outcomes their READMEs show (host-semantics.md §4.5).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin, EnvoyLikeProxy, startEcho, startMetadataService, type Plugin, type RunningServer } from '../src/index';
import { compileSdkFixture, RUST_HEADERS } from './helpers';

let wasm: Uint8Array;
beforeAll(() => { wasm = compileSdkFixture('rust_examples'); }, 180000);

const msgs = (p: Plugin) => p.logs.map((l) => l.message);

describe('Rust SDK examples on as-proxy-wasm', () => {
  test('the module imports only what Envoy provides', () => {
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)).map((i) => `${i.module}.${i.name}`);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !i.startsWith('env.proxy_') && !i.startsWith('wasi_snapshot_preview1.'))).toEqual([]);
  });

  test('http_headers: request headers logged, /hello answered locally through its own on_http_response_headers, then on_log', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_headers', pluginName: 'http_headers' });
    expect(p.configured).toBe(true);
    const s = p.newStream();
    expect(s.sendRequestHeaders(RUST_HEADERS, true)).toBe('StopAllIterationAndWatermark');
    s.complete();
    expect(msgs(p)).toEqual([
      ...RUST_HEADERS.map(([k, v]) => `#2 -> ${k}: ${v}`),
      '#2 <- :status: 200', '#2 <- hello: World', '#2 <- powered-by: proxy-wasm', '#2 <- content-length: 14', '#2 <- content-type: text/plain',
      '#2 completed.',
    ]);
    expect(s.requestContinued).toBe(false); // the request never reaches the upstream
    expect(s.localReply?.status).toBe(200);
    const cr = s.clientResponse!;
    expect(Buffer.from(cr.body).toString()).toBe('Hello, World!\n');
    expect(cr.headers.toStringList()).toEqual([[':status', '200'], ['hello', 'World'], ['powered-by', 'proxy-wasm'], ['content-length', '14'], ['content-type', 'text/plain']]);
  });

  test('http_headers: other paths reach the upstream and its response headers are logged', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_headers' });
    const r = await p.exchange({ path: '/other', response: { status: 201, headers: [['content-type', 'text/html']], body: 'x' } });
    expect(r.request?.headers).toContainEqual([':path', '/other']);
    expect(r.response.status).toBe(201);
    const m = msgs(p);
    expect(m).toContain('#2 -> :path: /other');
    expect(m).toContain('#2 <- :status: 201');
    expect(m).toContain('#2 <- content-type: text/html');
    expect(m[m.length - 1]).toBe('#2 completed.');
  });

  test('http_body: content-length removed, body buffered until the end, a "secret" body redacted', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_body' });
    const body = 'Hello, world! This response holds a secret value.\n';
    expect(body.length).toBe(50);
    const r = await p.exchange({ response: { body, chunkSize: 7 } });
    expect(r.response.body).toBe('Original message body (50 bytes) redacted.\n');
    expect(r.response.headers.find(([k]) => k === 'content-length')).toBeUndefined();
    // the low-level view: every chunk before the last is held (StopIterationAndBuffer), nothing released early
    const s = p.newStream();
    s.sendRequestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'x']], true);
    s.sendResponseHeaders([[':status', '200'], ['content-length', '50']], false);
    expect(s.sendResponseBody(body.slice(0, 20), false)).toBe('StopIterationAndBuffer');
    expect(s.responseBody.length).toBe(0);
    expect(s.sendResponseBody(body.slice(20), true)).toBe('Continue');
    expect(Buffer.from(s.responseBody).toString()).toBe('Original message body (50 bytes) redacted.\n');
    s.complete();
    const plain = await p.exchange({ response: { body: 'nothing to hide here', chunkSize: 4 } });
    expect(plain.response.body).toBe('nothing to hide here');
  });

  test('http_auth_random: an http call to httpbin; even first byte -> granted and resumed, odd -> 403 "Access forbidden."', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_auth_random', clusters: ['httpbin'] });
    const ok = await p.exchange({ callResponse: { status: 200, body: Uint8Array.of(2) }, response: { body: 'upstream' } });
    expect(ok.httpCalls).toEqual([{ cluster: 'httpbin', headers: [[':method', 'GET'], [':path', '/bytes/1'], [':authority', 'httpbin.org']], body: '', timeoutMs: 1000 }]);
    expect(ok.request).not.toBeNull(); // resumed
    expect(ok.response.status).toBe(200);
    expect(ok.response.body).toBe('upstream');
    expect(ok.response.headers).toContainEqual(['powered-by', 'proxy-wasm']);
    expect(ok.logs.map((l) => l.message)).toContain('Access granted.');
    const denied = await p.exchange({ callResponse: { status: 200, body: Uint8Array.of(3) } });
    expect(denied.request).toBeNull();
    expect(denied.response.status).toBe(403);
    expect(denied.response.body).toBe('Access forbidden.\n');
    expect(denied.response.headers).toContainEqual(['powered-by', 'proxy-wasm']);
    expect(denied.logs.map((l) => l.message)).toContain('Access forbidden.');
    // an empty or failed answer is not "granted"
    expect((await p.exchange({ callResponse: { status: 200, body: '' } })).response.status).toBe(403);
    expect((await p.exchange({ callResponse: 'reset' })).response.status).toBe(403);
  });

  test('http_auth_random: an unknown cluster is BadArgument from the host; answered clearly instead of a panic', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_auth_random', clusters: ['other'] });
    const r = await p.exchange({});
    expect(r.response.status).toBe(500);
    expect(r.failed).toBe(false);
    expect(r.logs.map((l) => l.message)).toContain('http call to httpbin failed: status 2');
  });

  test('http_config: the plugin configuration string becomes the response header custom-header', async () => {
    const p = await loadPlugin(wasm, { rootId: 'http_config', config: 'my-value' });
    const r = await p.exchange({ response: { headers: [['x-up', '1']] } });
    expect(r.response.headers).toContainEqual(['custom-header', 'my-value']);
    expect(r.request?.headers.find(([k]) => k === 'custom-header')).toBeUndefined();
    const empty = await loadPlugin(wasm, { rootId: 'http_config' });
    expect(empty.configured).toBe(true);
    expect((await empty.exchange({})).response.headers).toContainEqual(['custom-header', '']);
  });

  test('an unknown root_id is rejected at configure time (the SDK logs why), nothing traps', async () => {
    const p = await loadPlugin(wasm, { rootId: 'hello_world' });
    expect(p.configured).toBe(false);
    expect(p.failed).toBe(false);
    expect(msgs(p).join('\n')).toContain('hello_world');
  });
});

describe('Rust SDK examples on as-proxy-wasm through serve (real sockets, Envoy log lines)', () => {
  let echo: RunningServer, meta: RunningServer, proxy: EnvoyLikeProxy;
  const logs: string[] = [];
  const filter = (name: string, extra = '') => `
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: ${name}
                root_id: ${name}
                ${extra}
                vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, 'rust_examples.wasm')} } } }`;
  const dir = mkdtempSync(join(tmpdir(), 'pwh-rust-'));
  beforeAll(async () => {
    writeFileSync(join(dir, 'rust_examples.wasm'), wasm);
    echo = await startEcho({ port: 0 });
    meta = await startMetadataService({ port: 0 });
    const yaml = `static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: rust
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: echo } } ] } ] }
          http_filters:${filter('http_headers')}${filter('http_auth_random')}${filter('http_config', 'configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: my-value }')}
          - name: envoy.filters.http.router
  clusters:
  - name: echo
    load_assignment: { cluster_name: echo, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } } } ] } ] }
  - name: httpbin
    load_assignment: { cluster_name: httpbin, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${meta.port} } } } } ] } ] }
`;
    writeFileSync(join(dir, 'envoy.yaml'), yaml);
    proxy = await EnvoyLikeProxy.fromFile(join(dir, 'envoy.yaml'), { log: (m) => logs.push(m), warn: () => {} });
    await proxy.start();
  }, 60000);
  afterAll(async () => { await proxy?.stop(); await echo?.close(); await meta?.close(); });

  const get = (path: string) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((res, rej) => {
    const r = request({ host: '127.0.0.1', port: proxy.listeners[0].port, path }, (x) => {
      let b = ''; x.setEncoding('utf8'); x.on('data', (c) => (b += c)); x.on('end', () => res({ status: x.statusCode ?? 0, headers: x.headers, body: b }));
    });
    r.on('error', rej); r.end();
  });

  test('/hello: http_headers answers locally; the later filters never run their request callbacks', async () => {
    logs.length = 0;
    const r = await get('/hello');
    expect(r.status).toBe(200);
    expect(r.body).toBe('Hello, World!\n');
    expect(r.headers).toMatchObject({ hello: 'World', 'powered-by': 'proxy-wasm', 'content-type': 'text/plain' });
    expect(logs).toContain('[info] wasm log http_headers http_headers: #2 <- content-length: 14');
    expect(logs).toContain('[info] wasm log http_headers http_headers: #2 completed.');
    expect(logs.some((l) => l.includes('Access granted.'))).toBe(false);
  });

  test('other paths: http_auth_random calls httpbin (the metadata service) for real and is granted; http_config adds custom-header', async () => {
    logs.length = 0;
    const r = await get('/anything');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).path).toBe('/anything');
    expect(r.headers['custom-header']).toBe('my-value');
    expect(r.headers['powered-by']).toBe('proxy-wasm');
    expect(logs).toContain('[info] wasm log http_auth_random http_auth_random: Access granted.');
    // encode runs the chain in reverse: http_headers (first filter) logs what http_config and http_auth_random added
    expect(logs.some((l) => l.startsWith('[info] wasm log http_headers http_headers: #') && l.endsWith(' <- custom-header: my-value'))).toBe(true);
    expect(logs.some((l) => l.startsWith('[info] wasm log http_headers http_headers: #') && l.endsWith(' <- powered-by: proxy-wasm'))).toBe(true);
  });
});
