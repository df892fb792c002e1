import { describe, expect, test } from '@jest/globals';
import { loadPlugin, PluginLoadError } from '../src/index';
import { WasmBuilder, noopModule, op } from '../src/testing/wasm-builder';

function base(b: WasmBuilder, abi = '0_2_1'): WasmBuilder {
  b.func('>', [], `proxy_abi_version_${abi}`);
  b.func('i>i', op.i32(1024), 'malloc');
  return b;
}

describe('loading like Envoy', () => {
  test('a no-op module loads and passes an exchange through unchanged', async () => {
    const p = await loadPlugin(noopModule());
    expect(p.configured).toBe(true);
    const r = await p.exchange({ path: '/x', headers: [['x-a', '1']], body: 'hello', response: { status: 201, body: 'world' } });
    expect(r.request).toEqual({ headers: [[':authority', 'localhost'], [':path', '/x'], [':method', 'GET'], [':scheme', 'http'], ['x-a', '1'], ['content-length', '5']], body: 'hello' });
    expect(r.response.status).toBe(201);
    expect(r.response.body).toBe('world');
    expect(r.failed).toBe(false);
  });

  test('MissingImport: env.seed fails to load with the import name (Envoy message)', async () => {
    const b = new WasmBuilder();
    b.import('env', 'seed', '>F');
    base(b);
    await expect(loadPlugin(b.build())).rejects.toThrow('Failed to load Wasm module due to a missing import: env.seed');
  });

  test('env.abort and a FastEdge-only import are missing imports too', async () => {
    for (const [m, n, sig] of [['env', 'abort', 'iiii>'], ['env', 'proxy_get_secret', 'iiii>i'], ['env', 'proxy_clear_route_cache', '>i']]) {
      const b = new WasmBuilder(); b.import(m, n, sig); base(b);
      await expect(loadPlugin(b.build())).rejects.toThrow(`missing import: ${m}.${n}`);
    }
  });

  test('proxy_get_log_level links for ABI 0.2.1 only', async () => {
    const mk = (abi: string) => { const b = new WasmBuilder(); b.import('env', 'proxy_get_log_level', 'i>i'); return base(b, abi).build(); };
    await expect(loadPlugin(mk('0_2_1'))).resolves.toBeTruthy();
    await expect(loadPlugin(mk('0_2_0'))).rejects.toThrow('missing import: env.proxy_get_log_level');
  });

  test('an import with the wrong signature is a type mismatch', async () => {
    const b = new WasmBuilder(); b.import('env', 'proxy_log', 'ii>i'); base(b);
    await expect(loadPlugin(b.build())).rejects.toThrow(/import type mismatch: env.proxy_log/);
  });

  test('a callback exported with a bad signature fails to load', async () => {
    const b = base(new WasmBuilder());
    b.func('ii>i', op.i32(0), 'proxy_on_request_headers');
    await expect(loadPlugin(b.build())).rejects.toThrow('Bad function signature for: proxy_on_request_headers');
  });

  test('missing ABI version export, missing malloc, malformed bytes', async () => {
    const noAbi = new WasmBuilder(); noAbi.func('i>i', op.i32(0), 'malloc');
    await expect(loadPlugin(noAbi.build())).rejects.toThrow('Missing or unknown Proxy-Wasm ABI version');
    const noMalloc = new WasmBuilder(); noMalloc.func('>', [], 'proxy_abi_version_0_2_1');
    await expect(loadPlugin(noMalloc.build())).rejects.toThrow('Wasm module is missing malloc function.');
    await expect(loadPlugin(Buffer.from('bad code'))).rejects.toThrow(PluginLoadError);
    await expect(loadPlugin('/nonexistent/x.wasm')).rejects.toThrow(/Failed to load Wasm code/);
  });

  test('proxy_on_memory_allocate is used when malloc is absent; Envoy prefers malloc', async () => {
    const b = new WasmBuilder();
    b.func('>', [], 'proxy_abi_version_0_2_1');
    b.func('i>i', op.i32(2048), 'proxy_on_memory_allocate');
    await expect(loadPlugin(b.build())).resolves.toBeTruthy();
  });

  test('a hostcall other than proxy_log from _initialize is a restricted callback: the VM fails', async () => {
    const b = new WasmBuilder();
    const tick = b.import('env', 'proxy_set_tick_period_milliseconds', 'i>i');
    base(b);
    b.func('>', [...op.i32(5), ...op.call(tick), ...op.drop], '_initialize');
    const p = await loadPlugin(b.build());
    expect(p.failed).toBe(true);
    expect(p.configured).toBe(false);
    expect(p.logs.map((l) => l.message).join('\n')).toMatch(/restricted_callback: proxy_set_tick_period_milliseconds/);
  });

  test('vm_start returning false rejects the configuration', async () => {
    const b = base(new WasmBuilder());
    b.func('ii>i', op.i32(0), 'proxy_on_vm_start');
    const p = await loadPlugin(b.build());
    expect(p.configured).toBe(false);
    expect(() => p.newStream()).toThrow(/not configured/);
    const r = await p.exchange({});
    expect(r.configured).toBe(false);
    expect(r.request).toBeNull();
  });

  test('memory growth past memoryLimitBytes traps and fails the VM', async () => {
    const b = base(new WasmBuilder());
    // on_request_headers grows memory by 4 pages; unreachable when growth fails
    b.func('iii>i', [...op.i32(4), ...op.memGrow, ...op.i32(-1), 0x46 /* i32.eq */, 0x04, 0x40, ...op.unreachable, 0x0b, ...op.i32(0)], 'proxy_on_request_headers');
    const p = await loadPlugin(b.build(), { memoryLimitBytes: 3 * 65536 });
    const r = await p.exchange({});
    expect(p.failed).toBe(true);
    expect(r.response.status).toBe(503);
    expect(r.localReply?.details).toBe('wasm_fail_stream');
    expect(p.memoryBytes()).toBeLessThanOrEqual(3 * 65536);
  });
});
