import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { fixtures, importsOf, ENVOY_WASI } from './helpers';

let wasm: Record<string, Uint8Array<ArrayBuffer>>;
beforeAll(() => { wasm = fixtures('noop', 'header'); });

const errors = (p: { logs: Array<{ level: string; message: string }> }) => p.logs.filter((l) => l.level === 'error' || l.level === 'critical').map((l) => l.message);

describe('build output', () => {
  it('imports only what Envoy provides (no env.abort / env.seed / env.trace)', () => {
    for (const [name, bytes] of Object.entries(wasm)) {
      const imports = importsOf(bytes);
      expect(imports.length).toBeGreaterThan(0);
      for (const i of imports) {
        const [mod, fn] = i.split('.');
        const ok = (mod === 'env' && fn.startsWith('proxy_')) || (mod === 'wasi_snapshot_preview1' && ENVOY_WASI.has(fn));
        if (!ok) throw new Error(`${name} imports ${i}`);
      }
    }
  });

  it('exports the ABI marker, the allocator, _initialize and the callbacks', () => {
    const exp = WebAssembly.Module.exports(new WebAssembly.Module(wasm.noop)).map((e) => e.name);
    for (const n of ['proxy_abi_version_0_2_1', 'malloc', '_initialize', 'memory', 'proxy_on_context_create', 'proxy_on_request_headers', 'proxy_on_http_call_response', 'proxy_on_delete']) {
      expect(exp).toContain(n);
    }
  });
});

describe('contexts and headers through the host', () => {
  it('no-op filter passes an exchange unchanged', async () => {
    const p = await loadPlugin(wasm.noop);
    const r = await p.exchange({ path: '/x', headers: [['x-a', '1']], response: { status: 200, headers: [['x-b', '2']], body: 'ok' } });
    expect(r.failed).toBe(false);
    expect(r.request!.headers).toContainEqual(['x-a', '1']);
    expect(r.response.status).toBe(200);
    expect(r.response.body).toBe('ok');
    expect(errors(p)).toEqual([]);
  });

  it('header filter sets the configured header both ways, from pre-encoded Bytes', async () => {
    const p = await loadPlugin(wasm.header, { config: { name: 'X-Training', value: 'envoy-wasm' } });
    const r = await p.exchange({ headers: [['x-training', 'old'], ['x-training', 'older']] });
    expect(r.request!.headers.filter(([k]) => k === 'x-training')).toEqual([['x-training', 'envoy-wasm']]);
    expect(r.response.headers).toContainEqual(['x-training', 'envoy-wasm']);
  });

  it('memory stays at one page over many exchanges', async () => {
    const p = await loadPlugin(wasm.header, { config: {} });
    for (let i = 0; i < 300; i++) await p.exchange({});
    const after = p.memoryBytes();
    for (let i = 0; i < 2000; i++) await p.exchange({});
    expect(p.memoryBytes()).toBe(after);
    expect(after).toBeLessThanOrEqual(128 * 1024);
  });
});

describe('configuration errors fail on_configure with a precise log line', () => {
  const cases: Array<[string, string]> = [
    ['{"name": 1}', 'config.name: expected string, got number'],
    ['{"name": "a", "vale": "x"}', 'config: unknown key "vale"'],
    ['{"name": "a",}', 'config: invalid JSON at line 1, column 14: expected \'"\' to start an object key'],
    ['{"name": "a"', 'config: invalid JSON at line 1, column 13: expected \',\' or \'}\' in object'],
    ['[1]', 'config: expected object, got array'],
    ['{"name": "a", "name": "b"}', 'config: duplicate key "name"'],
  ];
  it.each(cases)('%s', async (config, message) => {
    const p = await loadPlugin(wasm.header, { config });
    expect(p.configured).toBe(false);
    expect(p.failed).toBe(false);
    expect(errors(p)).toContain(message);
  });
});

describe('root_id registration', () => {
  it('the "" registration is the default for any root_id (Istio pluginName)', async () => {
    const p = await loadPlugin(wasm.header, { rootId: 'my-plugin', config: {} });
    expect(p.configured).toBe(true);
  });
});
