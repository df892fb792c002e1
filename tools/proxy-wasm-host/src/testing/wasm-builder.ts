// A tiny WebAssembly binary emitter for test fixtures and benchmarks (no wabt needed).
// Signatures use the host's notation: "ii>i" = (i32, i32) -> i32, "I" = i64.

const VT: Record<string, number> = { i: 0x7f, I: 0x7e, f: 0x7d, F: 0x7c };

export function uleb(v: number): number[] { const o: number[] = []; do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; o.push(b); } while (v); return o; }
export function sleb(v: number): number[] {
  const o: number[] = [];
  for (;;) { const b = v & 0x7f; v >>= 7; if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) { o.push(b); return o; } o.push(b | 0x80); }
}
const str = (s: string) => { const b = [...Buffer.from(s)]; return [...uleb(b.length), ...b]; };
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

/** Common opcodes. */
export const op = {
  i32: (v: number) => [0x41, ...sleb(v | 0)],
  i64: (v: number) => [0x42, ...sleb(v)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  call: (f: number) => [0x10, ...uleb(f)],
  drop: [0x1a], unreachable: [0x00], ret: [0x0f],
  i32Store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  i32Load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  memGrow: [0x40, 0x00], memSize: [0x3f, 0x00],
  i32Add: [0x6a], i32Sub: [0x6b], i32Eqz: [0x45],
};

interface Func { sig: string; body: number[]; locals: Array<[number, string]> }

export class WasmBuilder {
  private types: string[] = [];
  private imports: Array<{ module: string; name: string; type: number }> = [];
  private funcs: Func[] = [];
  private exports: Array<{ name: string; kind: number; index: number }> = [];
  private memory: { min: number; max?: number; exportName?: string } | null = { min: 1, exportName: 'memory' };
  private data: Array<{ offset: number; bytes: Uint8Array }> = [];
  private startFunc: number | null = null;

  private type(sig: string): number { let i = this.types.indexOf(sig); if (i < 0) { this.types.push(sig); i = this.types.length - 1; } return i; }
  /** Import a function; returns its function index. Import before adding functions. */
  import(module: string, name: string, sig: string): number {
    if (this.funcs.length) throw new Error('add imports before functions');
    this.imports.push({ module, name, type: this.type(sig) });
    return this.imports.length - 1;
  }
  /** Add a function (body without the final `end`); returns its function index. */
  func(sig: string, body: number[], exportName?: string, locals: Array<[number, string]> = []): number {
    this.funcs.push({ sig, body, locals });
    this.type(sig);
    const idx = this.imports.length + this.funcs.length - 1;
    if (exportName) this.exports.push({ name: exportName, kind: 0, index: idx });
    return idx;
  }
  exportFunc(name: string, index: number): this { this.exports.push({ name, kind: 0, index }); return this; }
  setMemory(m: { min: number; max?: number; exportName?: string } | null): this { this.memory = m; return this; }
  addData(offset: number, bytes: Uint8Array | string): this { this.data.push({ offset, bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes }); return this; }
  start(index: number): this { this.startFunc = index; return this; }

  build(): Uint8Array {
    const section = (id: number, content: number[]) => (content.length ? [id, ...uleb(content.length), ...content] : []);
    const typeSec = vec(this.types.map((s) => { const [p, r] = s.split('>'); return [0x60, ...vec([...p].map((c) => [VT[c]])), ...vec([...(r ?? '')].map((c) => [VT[c]]))]; }));
    const importSec = this.imports.length ? vec(this.imports.map((i) => [...str(i.module), ...str(i.name), 0, ...uleb(i.type)])) : [];
    const funcSec = this.funcs.length ? vec(this.funcs.map((f) => uleb(this.type(f.sig)))) : [];
    const memSec = this.memory ? vec([[this.memory.max !== undefined ? 1 : 0, ...uleb(this.memory.min), ...(this.memory.max !== undefined ? uleb(this.memory.max) : [])]]) : [];
    const exps = [...this.exports];
    if (this.memory?.exportName) exps.push({ name: this.memory.exportName, kind: 2, index: 0 });
    const exportSec = exps.length ? vec(exps.map((e) => [...str(e.name), e.kind, ...uleb(e.index)])) : [];
    const startSec = this.startFunc !== null ? uleb(this.startFunc) : [];
    const codeSec = this.funcs.length ? vec(this.funcs.map((f) => {
      const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), VT[t]])), ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    })) : [];
    const dataSec = this.data.length ? vec(this.data.map((d) => [0, 0x41, ...sleb(d.offset), 0x0b, ...uleb(d.bytes.length), ...d.bytes])) : [];
    return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, typeSec), ...section(2, importSec), ...section(3, funcSec), ...section(5, memSec),
      ...section(7, exportSec), ...section(8, startSec), ...section(10, codeSec), ...section(11, dataSec)]);
  }
}

/** A proxy-wasm module whose callbacks do nothing (Continue / true): measures pure host overhead. */
export function noopModule(abi: '0_2_1' | '0_2_0' = '0_2_1'): Uint8Array {
  const b = new WasmBuilder();
  b.func('>', [], `proxy_abi_version_${abi}`);
  b.func('i>i', op.i32(1024), 'malloc');
  b.func('ii>', [], 'proxy_on_context_create');
  b.func('ii>i', op.i32(1), 'proxy_on_vm_start');
  b.func('ii>i', op.i32(1), 'proxy_on_configure');
  b.func('iii>i', op.i32(0), 'proxy_on_request_headers');
  b.func('iii>i', op.i32(0), 'proxy_on_response_headers');
  b.func('iii>i', op.i32(0), 'proxy_on_request_body');
  b.func('iii>i', op.i32(0), 'proxy_on_response_body');
  b.func('i>', [], 'proxy_on_log');
  b.func('i>i', op.i32(1), 'proxy_on_done');
  b.func('i>', [], 'proxy_on_delete');
  return b.build();
}
