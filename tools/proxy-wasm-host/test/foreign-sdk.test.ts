// Foreign modules: filters built with @gcoredev/proxy-wasm-sdk-as, reproducing the Rust SDK examples'
// README outcomes (proxy-wasm-rust-sdk examples/http_headers, http_body, http_auth_random, http_config).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { loadPlugin } from '../src/index';
import { compileFixture, wasiShimConfig, RUST_HEADERS } from './helpers';

let wasm: Uint8Array | null = null;
beforeAll(() => {
  const shim = wasiShimConfig();
  if (!shim) {
    const msg = '@assemblyscript/wasi-shim is not installed (npm install): the @gcoredev/proxy-wasm-sdk-as fixtures cannot be built';
    if (process.env.CI === 'true') throw new Error(msg);
    console.warn(msg);
    return;
  }
  wasm = compileFixture('gcore_examples', ['--config', shim, '--use', 'abort=abort_proc_exit', '--noAssert']);
}, 120000);

// the G-Core SDK logs via WASI fd_write (fd 1 -> info) with its own level prefix
const msgs = (p: { logs: Array<{ message: string }> }) => p.logs.map((l) => l.message.replace(/^\[[A-Z]+\]: /, ''));

describe('@gcoredev/proxy-wasm-sdk-as modules', () => {
  test('imports only what Envoy provides (WASI fd_write/proc_exit + proxy_*)', () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>)).map((i) => `${i.module}.${i.name}`);
    expect(imports.every((i) => i.startsWith('env.proxy_') || i.startsWith('wasi_snapshot_preview1.'))).toBe(true);
  });

  test('http_headers: logs request headers, /hello answers locally through its own on_response_headers', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_headers', pluginName: 'http_headers' });
    expect(p.configured).toBe(true);
    const s = p.newStream();
    s.sendRequestHeaders(RUST_HEADERS, true);
    s.complete();
    const m = msgs(p);
    expect(m).toContain('#2 -> :authority: localhost:10000');
    expect(m).toContain('#2 -> x-request-id: 3ed6e5d4-1f2c-4b5e-8d6e-0c6f0a1b2c3d');
    expect(m.filter((x) => x.startsWith('#2 <- '))).toEqual(['#2 <- :status: 200', '#2 <- hello: World', '#2 <- powered-by: proxy-wasm', '#2 <- content-length: 14', '#2 <- content-type: text/plain']);
    expect(m).toContain('#2 completed.');
    expect(s.localReply?.body).toBe('Hello, World!\n');
    expect(s.requestContinued).toBe(false);
  });

  test('http_headers: other paths reach the upstream; response headers are logged', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_headers' });
    const r = await p.exchange({ path: '/other', response: { status: 200, headers: [['content-type', 'text/html']], body: 'x' } });
    expect(r.request).not.toBeNull();
    expect(msgs(p)).toContain('#2 <- content-type: text/html');
  });

  test('a panic (AS abort) traps: 503 wasm_fail_stream for that request and every later one', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_headers' });
    const r = await p.exchange({ path: '/panic' });
    expect(r.failed).toBe(true);
    expect(r.response.status).toBe(503);
    expect(r.localReply?.details).toBe('wasm_fail_stream');
    expect(msgs(p).some((m) => m.startsWith('abort: boom'))).toBe(true);
    expect(msgs(p).some((m) => m.startsWith('Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable'))).toBe(true);
    expect((await p.exchange({ path: '/other' })).response.status).toBe(503);
    const open = await loadPlugin(wasm, { rootId: 'http_headers', failurePolicy: 'FAIL_OPEN' });
    await open.exchange({ path: '/panic' });
    expect((await open.exchange({ path: '/other', response: { body: 'up' } })).response.body).toBe('up');
  });

  test('http_body: buffers the response and redacts a body containing "secret"', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_body' });
    const body = 'Hello, this is a secret message that is 50 bytes!\n';
    const r = await p.exchange({ response: { body, chunkSize: 7 } });
    expect(r.response.body).toBe(`Original message body (${body.length} bytes) redacted.\n`);
    expect(r.response.headers.find(([k]) => k === 'content-length')).toBeUndefined();
    const plain = await p.exchange({ response: { body: 'nothing to hide' } });
    expect(plain.response.body).toBe('nothing to hide');
  });

  test('http_auth_random: an http call to httpbin decides (even byte -> resume, odd -> 403)', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_auth_random', clusters: ['httpbin'] });
    const ok = await p.exchange({ callResponse: { status: 200, body: Uint8Array.of(2) }, response: { body: 'ok' } });
    expect(ok.httpCalls[0]).toMatchObject({ cluster: 'httpbin', headers: [[':method', 'GET'], [':path', '/bytes/1'], [':authority', 'httpbin.org']], timeoutMs: 1000 });
    expect(ok.response.status).toBe(200);
    expect(ok.response.headers).toContainEqual(['powered-by', 'proxy-wasm']);
    const denied = await p.exchange({ callResponse: { status: 200, body: Uint8Array.of(3) } });
    expect(denied.response.status).toBe(403);
    expect(denied.response.body).toBe('Access forbidden.\n');
    expect(denied.request).toBeNull();
  });

  test('http_config: the plugin configuration becomes a response header; a counter counts', async () => {
    if (!wasm) return expect(wasiShimConfig()).toBeNull();
    const p = await loadPlugin(wasm, { rootId: 'http_config', config: 'my-value' });
    const r = await p.exchange({});
    expect(r.response.headers).toContainEqual(['custom-header', 'my-value']);
    expect(p.metric('config_requests_total')).toBe(1);
    expect(p.prometheus()).toContain('config_requests_total 1');
    const rejected = await loadPlugin(wasm, { rootId: 'http_config', config: '' });
    expect(rejected.configured).toBe(false);
  });
});
