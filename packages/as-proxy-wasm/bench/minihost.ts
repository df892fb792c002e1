// A minimal proxy-wasm host (V8 via Node's WebAssembly) for quick SDK
// measurements: just enough of ABI 0.2.1 to run header-style filters.
// Headers live in a small array of [name, value] string pairs, like the
// "minimal V8 host" used for the Rust reference figures.
import { readFileSync } from 'node:fs';

type Pair = [string, string];
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface MiniPlugin {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  logs: string[];
  exchange(req: Pair[], resp: Pair[]): { req: Pair[]; resp: Pair[] };
  memoryBytes(): number;
}

export function loadMini(path: string, config = '', rootId = ''): MiniPlugin {
  const mod = new WebAssembly.Module(readFileSync(path));
  let ex: Record<string, any> = {};
  let mem!: WebAssembly.Memory;
  const logs: string[] = [];
  const maps: Pair[][] = [[], [], [], [], [], [], [], []];
  let configBuf = enc.encode(config);
  const u8 = () => new Uint8Array(mem.buffer);
  const dv = () => new DataView(mem.buffer);
  // ASCII fast path (header names/values): Node's latin1 slice, one native call like Envoy's
  // string_view copies (a character-by-character JS string cost ~0.4 µs per header call and varied
  // with V8's inlining from process to process); TextDecoder otherwise.
  let memBuf: ArrayBuffer | null = null;
  let memNode = Buffer.alloc(0) as Buffer & { latin1Slice(s: number, e: number): string };
  const str = (p: number, n: number) => {
    if (mem.buffer !== memBuf) { memBuf = mem.buffer; memNode = Buffer.from(memBuf) as typeof memNode; }
    for (let i = p, e = p + n; i < e; i++) if (memNode[i] >= 0x80) return dec.decode(memNode.subarray(p, p + n));
    return memNode.latin1Slice(p, p + n);
  };
  const out = (bytes: Uint8Array, pp: number, sp: number) => {
    if (bytes.length === 0) { dv().setUint32(pp, 0, true); dv().setUint32(sp, 0, true); return 0; }
    const p = (ex.malloc as Function)(bytes.length) >>> 0;
    u8().set(bytes, p);
    const d = dv(); d.setUint32(pp, p, true); d.setUint32(sp, bytes.length, true);
    return 0;
  };
  const env: Record<string, Function> = {
    proxy_log: (l: number, p: number, n: number) => { logs.push(`${l}:${str(p, n)}`); return 0; },
    proxy_get_log_level: (p: number) => { dv().setInt32(p, 2, true); return 0; },
    proxy_get_property: (p: number, n: number, rp: number, rs: number) => {
      const path = str(p, n);
      if (path === 'plugin_root_id') return out(enc.encode(rootId), rp, rs);
      return 1;
    },
    proxy_get_buffer_bytes: (t: number, start: number, max: number, rp: number, rs: number) => {
      if (t !== 7) return out(new Uint8Array(0), rp, rs);
      start >>>= 0; max >>>= 0;
      return out(configBuf.subarray(Math.min(start, configBuf.length), Math.min(configBuf.length, start + max)), rp, rs);
    },
    proxy_get_buffer_status: (t: number, rs: number, rf: number) => { dv().setUint32(rs, t === 7 ? configBuf.length : 0, true); dv().setUint32(rf, 0, true); return 0; },
    proxy_get_header_map_value: (t: number, kp: number, kn: number, rp: number, rs: number) => {
      const k = str(kp, kn); const e = maps[t].find((x) => x[0] === k);
      if (!e) return 1;
      return out(enc.encode(e[1]), rp, rs);
    },
    proxy_replace_header_map_value: (t: number, kp: number, kn: number, vp: number, vn: number) => {
      const k = str(kp, kn).toLowerCase(); const v = str(vp, vn); const m = maps[t];
      const i = m.findIndex((x) => x[0] === k);
      if (i < 0) m.push([k, v]); else { m[i] = [k, v]; for (let j = m.length - 1; j > i; j--) if (m[j][0] === k) m.splice(j, 1); }
      return 0;
    },
    proxy_add_header_map_value: (t: number, kp: number, kn: number, vp: number, vn: number) => { maps[t].push([str(kp, kn).toLowerCase(), str(vp, vn)]); return 0; },
    proxy_remove_header_map_value: (t: number, kp: number, kn: number) => { const k = str(kp, kn); maps[t] = maps[t].filter((x) => x[0] !== k); return 0; },
    proxy_get_header_map_pairs: (t: number, rp: number, rs: number) => {
      const m = maps[t]; const parts = m.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
      const size = 4 + parts.length * 8 + parts.reduce((a, [k, v]) => a + k.length + v.length + 2, 0);
      const b = new Uint8Array(size); const d = new DataView(b.buffer); d.setUint32(0, parts.length, true);
      let o = 4 + parts.length * 8;
      parts.forEach(([k, v], i) => { d.setUint32(4 + i * 8, k.length, true); d.setUint32(8 + i * 8, v.length, true); b.set(k, o); o += k.length + 1; b.set(v, o); o += v.length + 1; });
      return out(b, rp, rs);
    },
    proxy_get_header_map_size: (t: number, rp: number) => { dv().setUint32(rp, maps[t].length, true); return 0; },
    proxy_set_effective_context: () => 0,
  };
  const stub = () => 12; // Unimplemented
  const imports: WebAssembly.Imports = { env: {}, wasi_snapshot_preview1: {} };
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.kind !== 'function') continue;
    const target = imports[imp.module] as Record<string, Function>;
    target[imp.name] = imp.module === 'env' ? (env[imp.name] ?? stub) : () => 52;
  }
  const inst = new WebAssembly.Instance(mod, imports);
  ex = inst.exports as Record<string, any>;
  mem = ex.memory as WebAssembly.Memory;
  if (ex._initialize) ex._initialize();
  else if (ex._start) ex._start();
  ex.proxy_on_context_create(1, 0);
  // Envoy: a module without proxy_on_vm_start starts (absent = true)
  if (ex.proxy_on_vm_start && !ex.proxy_on_vm_start(1, 0)) throw new Error('vm_start false: ' + logs.join('\n'));
  if (!ex.proxy_on_configure(1, configBuf.length)) throw new Error('configure false: ' + logs.join('\n'));
  configBuf = new Uint8Array(0);
  let next = 2;
  const f = ex as Record<string, Function>;
  // Like Envoy, a callback the module does not export is simply not called.
  const cb = (name: string): Function => f[name] ?? (() => 0);
  const onCreate = cb('proxy_on_context_create'), onRequestHeaders = cb('proxy_on_request_headers');
  const onResponseHeaders = cb('proxy_on_response_headers'), onLog = cb('proxy_on_log');
  const onDone = cb('proxy_on_done'), onDelete = cb('proxy_on_delete');
  return {
    exports: ex, memory: mem, logs,
    exchange(req: Pair[], resp: Pair[]) {
      const id = next++;
      maps[0] = req; maps[2] = resp;
      onCreate(id, 1);
      onRequestHeaders(id, req.length, 1);
      onResponseHeaders(id, resp.length, 1);
      onLog(id);
      onDone(id);
      onDelete(id);
      return { req: maps[0], resp: maps[2] };
    },
    memoryBytes: () => mem.buffer.byteLength,
  };
}
