// redact in a minimal V8 host (the kind the Rust reference figure was taken in): only what one
// exchange needs — request headers, one request body delivered whole at end of stream, its
// replacement, response headers — so the figure is the filter's own cost.
//   npx tsx bench/minibody.ts [--runs 5]
import { readFileSync } from 'node:fs';

/** CPU time of this process in ns (user + system): robust when other jobs share the machine. */
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
import { join } from 'node:path';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const enc = new TextEncoder();

export function jsonBody(size: number): Uint8Array {
  let s = '[';
  for (let i = 0; s.length < size; i++) s += `{"id":${i},"note":"order ${i} for customer ${i * 7}","text":"SECRET=s3cr3t-${i} and more words","mail":"u${i}@example.com"},`;
  return enc.encode(s.slice(0, size - 1) + ']');
}

export function load(config: unknown, wasmPath = join(__dirname, '..', 'dist', 'redact.wasm')) {
  const mod = new WebAssembly.Module(readFileSync(wasmPath));
  let ex: Record<string, Function> = {};
  let mem!: WebAssembly.Memory;
  const cfg = enc.encode(JSON.stringify(config));
  let body: Uint8Array = new Uint8Array(0);
  let out: Uint8Array | null = null;
  const headers: Record<number, Array<[string, string]>> = { 0: [], 2: [] };
  const dv = () => new DataView(mem.buffer);
  const str = (p: number, n: number) => Buffer.from(mem.buffer, p, n).toString('latin1');
  const give = (b: Uint8Array, rp: number, rs: number) => {
    if (!b.length) { dv().setUint32(rp, 0, true); dv().setUint32(rs, 0, true); return 0; }
    const p = ex.malloc(b.length) >>> 0;
    new Uint8Array(mem.buffer, p, b.length).set(b);
    dv().setUint32(rp, p, true); dv().setUint32(rs, b.length, true);
    return 0;
  };
  const env: Record<string, Function> = {
    proxy_log: () => 0,
    proxy_get_log_level: (p: number) => { dv().setInt32(p, 3, true); return 0; },
    proxy_get_property: () => 1,
    proxy_get_buffer_status: (t: number, rs: number) => { dv().setUint32(rs, t === 7 ? cfg.length : body.length, true); return 0; },
    proxy_get_buffer_bytes: (t: number, s: number, m: number, rp: number, rs: number) => give(t === 7 ? cfg : body, rp, rs),
    proxy_set_buffer_bytes: (t: number, s: number, l: number, p: number, n: number) => { out = new Uint8Array(mem.buffer, p, n).slice(); return 0; },
    proxy_get_header_map_value: (t: number, kp: number, kn: number, rp: number, rs: number) => {
      const k = str(kp, kn); const e = headers[t]?.find((x) => x[0] === k);
      return e ? give(enc.encode(e[1]), rp, rs) : 1;
    },
    proxy_replace_header_map_value: () => 0,
    proxy_remove_header_map_value: () => 0,
    proxy_define_metric: (t: number, p: number, n: number, r: number) => { dv().setUint32(r, 4, true); return 0; },
    proxy_increment_metric: () => 0,
  };
  const imports: WebAssembly.Imports = { env: {}, wasi_snapshot_preview1: {} };
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.kind !== 'function') continue;
    (imports[imp.module] as Record<string, Function>)[imp.name] = imp.module === 'env' ? (env[imp.name] ?? (() => 12)) : () => 52;
  }
  ex = new WebAssembly.Instance(mod, imports).exports as Record<string, Function>;
  mem = ex.memory as unknown as WebAssembly.Memory;
  ex._initialize?.();
  ex.proxy_on_context_create(1, 0);
  ex.proxy_on_vm_start?.(1, 0); // absent = true, as in Envoy
  if (!ex.proxy_on_configure(1, cfg.length)) throw new Error('configure failed');
  let id = 2;
  const steps = (i: number, n: number): Array<[string, number[]]> => [
    ['proxy_on_context_create', [i, 1]], ['proxy_on_request_headers', [i, 2, 0]], ['proxy_on_request_body', [i, n, 1]],
    ['proxy_on_response_headers', [i, 1, 1]], ['proxy_on_log', [i]], ['proxy_on_done', [i]], ['proxy_on_delete', [i]],
  ];
  return {
    exchange(b: Uint8Array): Uint8Array | null {
      body = b; out = null;
      headers[0] = [[':method', 'POST'], ['content-type', 'application/json']];
      headers[2] = [[':status', '204']];
      for (const [name, args] of steps(id, b.length)) ex[name]?.(...args); // missing callbacks are skipped, as in Envoy
      id++;
      return out;
    },
    memory: () => mem.buffer.byteLength,
  };
}

function main(): void {
const configs: Record<string, unknown> = {
  'lab (SECRET= marker)': { rules: [{ marker: 'SECRET=' }] },
  'all rule kinds': { rules: [{ marker: 'SECRET=' }, { jsonField: 'password' }, { detector: 'email' }, { detector: 'credit_card' }, { detector: 'bearer_token' }, { detector: 'jwt' }, { detector: 'cloud_key' }] },
  // a pattern rule: a US SSN (the body's many digits keep the automaton busy) or the body's secrets
  'pattern (SSN|s3cr3t-N)': { rules: [{ pattern: '\\d{3}-\\d{2}-\\d{4}|s3cr3t-\\d+' }] },
};
for (const [label, config] of Object.entries(configs)) {
  for (const size of [64 * 1024, 1024 * 1024]) {
    const p = load(config);
    const b = jsonBody(size);
    const r = p.exchange(b);
    if (!r || Buffer.from(r).includes('s3cr3t')) throw new Error('not redacted');
    const n = Math.max(20, Math.round((128 * 1024 * 1024) / size));
    for (let i = 0; i < n / 4; i++) p.exchange(b);
    const samples: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      const t0 = cpuNs();
      for (let i = 0; i < n; i++) p.exchange(b);
      samples.push((cpuNs() - t0) / n);
    }
    samples.sort((x, y) => x - y);
    const ns = samples[samples.length >> 1];
    console.log(`${label.padEnd(22)} ${String(size / 1024).padStart(5)} KiB  ${(ns / 1000).toFixed(1).padStart(8)} µs/exchange  ${((size / ns) * 1e3).toFixed(0).padStart(5)} MB/s  memory ${p.memory()} B`);
  }
}
}

// Used by the root benchmark (bench/measure.ts) as a library; run directly for the quick table.
if (require.main === module) main();
