// The owned memory mode (assembly/rt/owned.ts; fixture test/fixtures/owned.ts compiled with
// owned.asconfig.json: runtime "stub", no collector). A root context's creation and configuration
// allocate in its arena, freed when the host deletes it; a stream context is freed at
// proxy_on_delete; nothing else is ever freed. These tests check that memory stays flat where the
// contract says it must, and that nothing freed is still in use.
import { describe, expect, it } from '@jest/globals';
import { loadPlugin, type HeaderList, type Plugin } from '@meshwasm/proxy-wasm-host';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixtures, PKG } from './helpers';

const wasm = () => fixtures('owned').owned;
const REQ: HeaderList = [[':method', 'GET'], [':path', '/'], [':authority', 'h']];
const RESP: HeaderList = [[':status', '200']];

interface Cfg { headers: Array<{ name: string; value: string }>; fail?: boolean; check?: boolean }
/** A configuration of `n` headers with values of `valueLen` characters. */
function bigConfig(n: number, valueLen: number, extra: Partial<Cfg> = {}): Cfg {
  const headers = [];
  for (let i = 0; i < n; i++) headers.push({ name: `X-Owned-${i}`, value: String.fromCharCode(97 + (i % 26)).repeat(valueLen) });
  return { headers, ...extra };
}

type Fn = (...a: number[]) => number;
/**
 * More root contexts in the same VM, as Envoy creates one per new plugin configuration and deletes
 * the old one after its streams end. tools/proxy-wasm-host runs one root per plugin, so these
 * drive its exports through the host's own invoke (its imports serve the calls).
 */
interface HostInternals {
  vm: {
    invoke(name: string, fn: Fn, ctx: number, a?: number, b?: number, c?: number): number;
    ex: Record<string, Fn | null>;
  };
  pluginConfig: Uint8Array | null;
  nextContextId: number;
}
function newRoot(p: Plugin, config: Cfg | string): { id: number; ok: boolean } {
  const h = (p as unknown as { host: HostInternals }).host;
  const id = h.nextContextId++;
  h.vm.invoke('proxy_on_context_create', h.vm.ex.ctxCreate!, id, id, 0);
  const bytes = new TextEncoder().encode(typeof config === 'string' ? config : JSON.stringify(config));
  h.pluginConfig = bytes;
  const ok = h.vm.invoke('proxy_on_configure', h.vm.ex.configure!, id, id, bytes.length) === 1;
  h.pluginConfig = null;
  return { id, ok };
}
function deleteRoot(p: Plugin, id: number): void {
  const h = (p as unknown as { host: HostInternals }).host;
  h.vm.invoke('proxy_on_delete', h.vm.ex.onDelete!, id, id);
}

function get(l: HeaderList, name: string): string | undefined {
  const e = l.find(([k]) => k === name);
  return e === undefined ? undefined : String(e[1]);
}

/** One stream through request and response headers; returns what the client saw. */
function exchange(p: Plugin, req: HeaderList = REQ): HeaderList {
  const s = p.newStream();
  s.sendRequestHeaders(req, true);
  s.sendResponseHeaders(RESP, true);
  const client = s.responseHeaders;
  s.complete();
  return client;
}

describe('owned memory mode', () => {
  it('exports the core without proxy_on_vm_start / proxy_on_done (Envoy: absent = true), and the host starts it', async () => {
    const names = WebAssembly.Module.exports(new WebAssembly.Module(wasm())).map((e) => e.name);
    expect(names).toContain('proxy_on_configure');
    expect(names).not.toContain('proxy_on_vm_start');
    expect(names).not.toContain('proxy_on_done');
    const p = await loadPlugin(wasm(), { config: bigConfig(1, 4) });
    expect(p.configured).toBe(true);
    p.close(); // root deleted without proxy_on_done
    expect(p.failed).toBe(false);
  });

  it('keeps memory flat over 200,000 streams, with root state and stream fields intact', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(8, 40) });
    expect(p.configured).toBe(true);
    for (let i = 0; i < 2000; i++) exchange(p);
    const warm = p.memoryBytes();
    for (let i = 1; i <= 200_000; i++) {
      const client = exchange(p);
      if (i % 20_000 === 0) {
        // 3 request headers -> configured header 3; serial (root state) = 2000 + i
        expect(get(client, 'x-owned-3')).toBe('d'.repeat(40));
        expect(get(client, 'x-serial')).toBe(String((2000 + i) % 10));
      }
    }
    expect(p.failed).toBe(false);
    expect(p.memoryBytes()).toBe(warm);
  });

  it('keeps each stream\'s fields while other streams are created and deleted in between', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(8, 4) });
    const open = [];
    for (let round = 0; round < 50; round++) {
      // 6 concurrent streams with 3..8 request headers; the odd ones are completed first
      const streams = [];
      for (let k = 0; k < 6; k++) {
        const s = p.newStream();
        const req: HeaderList = [...REQ];
        for (let j = 0; j < k; j++) req.push([`x-${j}`, 'v']);
        s.sendRequestHeaders(req, true);
        streams.push({ s, n: req.length });
      }
      for (const { s } of streams.filter((_, k) => k % 2 === 1)) { s.sendResponseHeaders(RESP, true); s.complete(); }
      for (let k = 0; k < 20; k++) exchange(p); // freed contexts reused by new ones
      for (const { s, n } of streams.filter((_, k) => k % 2 === 0)) {
        s.sendResponseHeaders(RESP, true);
        expect(get(s.responseHeaders, `x-owned-${n % 8}`)).toBe(String.fromCharCode(97 + (n % 8)).repeat(4));
        open.push(s);
      }
    }
    for (const s of open) s.complete();
    expect(p.failed).toBe(false);
  });

  it('frees stream contexts deleted without Continue (paused, never answered, never created)', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(2, 4) });
    const round = () => {
      const a = p.newStream(); // one request header: the filter pauses it
      expect(a.sendRequestHeaders([[':path', '/stop']], false)).not.toBe('Continue');
      a.complete();
      const b = p.newStream(); // request only, the client goes away
      b.sendRequestHeaders(REQ, false);
      b.complete();
      const c = p.newStream(); // context created only for the access log
      c.complete();
    };
    for (let i = 0; i < 2000; i++) round();
    const warm = p.memoryBytes();
    for (let i = 0; i < 50_000; i++) round();
    expect(p.failed).toBe(false);
    expect(p.memoryBytes()).toBe(warm);
    expect(get(exchange(p), 'x-owned-1')).toBe('bbbb');
  });

  it('frees a root context\'s arena when the host deletes it: 2,000 reconfigurations stay flat', async () => {
    const cfg = bigConfig(40, 80); // ~4.6 KB of JSON
    expect(JSON.stringify(cfg).length).toBeGreaterThan(4000);
    const p = await loadPlugin(wasm(), { config: bigConfig(1, 4) });
    let old = newRoot(p, cfg);
    for (let i = 0; i < 20; i++) { const next = newRoot(p, cfg); deleteRoot(p, old.id); old = next; }
    const warm = p.memoryBytes();
    for (let i = 0; i < 2000; i++) {
      const next = newRoot(p, cfg);
      expect(next.ok).toBe(true);
      deleteRoot(p, old.id);
      old = next;
    }
    expect(p.failed).toBe(false);
    expect(p.memoryBytes()).toBe(warm);
    // the plugin's own root (created first, never deleted) still serves streams from its state
    expect(get(exchange(p), 'x-owned-0')).toBe('aaaa');
    deleteRoot(p, old.id);
  });

  it('deleting one root frees only its own arena: a live root\'s state survives its neighbours\' deletion and reuse', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(1, 4) });
    const sumOf = (cfg: Cfg) =>
      cfg.headers.reduce((t, h) => t + [...Buffer.from(h.name.toLowerCase() + h.value)].reduce((x, y) => x + y, 0), 0);
    const a = bigConfig(30, 60);
    const b = bigConfig(20, 50, { check: true });
    for (let round = 0; round < 20; round++) {
      const ra = newRoot(p, a);
      const rb = newRoot(p, b); // B's objects come after A's
      deleteRoot(p, ra.id); // A's blocks go back to the heap...
      const rc = newRoot(p, bigConfig(30, 60)); // ...and C reuses them
      deleteRoot(p, rb.id);
      deleteRoot(p, rc.id);
      expect(p.logs.at(-1)?.message).toBe(`${rb.id} state 20 ${sumOf(b)}`);
    }
    expect(p.failed).toBe(false);
  });

  it('frees the arena of a failed configuration (rejected after allocating, or invalid JSON)', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(3, 4) });
    const failing = bigConfig(40, 80, { fail: true });
    const bad = JSON.stringify(bigConfig(40, 80)).replace(/}$/, ',}'); // a syntax error at the very end
    for (let i = 0; i < 50; i++) {
      deleteRoot(p, newRoot(p, failing).id);
      deleteRoot(p, newRoot(p, bad).id);
    }
    const warm = p.memoryBytes();
    for (let i = 0; i < 2000; i++) {
      const a = newRoot(p, failing);
      expect(a.ok).toBe(false);
      deleteRoot(p, a.id);
      const b = newRoot(p, bad);
      expect(b.ok).toBe(false);
      deleteRoot(p, b.id);
    }
    expect(p.failed).toBe(false);
    expect(p.memoryBytes()).toBe(warm);
    // the rejection logs nothing, the invalid JSON logs its error each time
    expect(p.logs.filter((l) => l.level === 'error').length).toBe(2050);
    expect(get(exchange(p), 'x-owned-0')).toBe('aaaa');
  });

  it('refuses to compile a network filter (tcp-exports) in this mode', () => {
    const asc = join(PKG, '..', '..', 'node_modules', 'assemblyscript', 'bin', 'asc.js');
    const r = spawnSync(process.execPath, [asc, 'test/fixtures/tcp.ts', '--config', 'test/fixtures/owned.asconfig.json', '--target', 'release', '--outFile', '/dev/null'], { cwd: PKG, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('tcp-exports needs a collector (runtime \\"minimal\\"): the owned memory mode is for HTTP filters');
  });

  it('grows memory when roots are created and never deleted (the test above can fail)', async () => {
    const p = await loadPlugin(wasm(), { config: bigConfig(1, 4) });
    const before = p.memoryBytes();
    for (let i = 0; i < 300; i++) newRoot(p, bigConfig(40, 80));
    expect(p.memoryBytes()).toBeGreaterThan(before + 1024 * 1024);
  });
});
