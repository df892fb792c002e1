// Minimal WebAssembly binary reader: enough to check import/export signatures the way
// Envoy does (Node has no type reflection) and to cap the module's memory maximum.

export interface ImportInfo { module: string; name: string; kind: number; sig: string | null }
export interface ModuleInfo {
  imports: ImportInfo[];
  exportSigs: Map<string, string>; // function exports only
  memory: { sectionStart: number; end: number; min: number; max: number | null; flags: number } | null;
  hasStart: boolean;
}

export class WasmFormatError extends Error {}

const VALTYPE: Record<number, string> = { 0x7f: 'i', 0x7e: 'I', 0x7d: 'f', 0x7c: 'F', 0x7b: 'v', 0x70: 'r', 0x6f: 'r' };

export function parseModule(bytes: Uint8Array): ModuleInfo {
  let p = 0;
  const fail = (msg: string): never => { throw new WasmFormatError(`malformed wasm module: ${msg} (at byte ${p})`); };
  const u8 = () => (p < bytes.length ? bytes[p++] : fail('unexpected end'));
  const leb = (): number => {
    let result = 0, shift = 0, b: number;
    do { b = u8(); result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80 && shift < 35);
    if (b & 0x80) fail('LEB128 too long');
    return result;
  };
  const name = (): string => { const n = leb(); if (p + n > bytes.length) fail('name past end'); const s = Buffer.from(bytes.buffer, bytes.byteOffset + p, n).toString('utf8'); p += n; return s; };
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) fail('bad magic number');
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) fail('unsupported version');
  p = 8;
  const types: string[] = [];
  const funcTypes: number[] = []; // function index space -> type index
  const imports: ImportInfo[] = [];
  const exportSigs = new Map<string, string>();
  let memory: ModuleInfo['memory'] = null;
  let hasStart = false;
  while (p < bytes.length) {
    const sectionStart = p;
    const id = u8();
    const size = leb();
    const end = p + size;
    if (end > bytes.length) fail(`section ${id} past end`);
    switch (id) {
      case 1: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          const form = u8();
          if (form !== 0x60) { types.push('?'); p = end; break; }
          const np = leb(); let s = '';
          for (let j = 0; j < np; j++) s += VALTYPE[u8()] ?? 'x';
          s += '>';
          const nr = leb();
          for (let j = 0; j < nr; j++) s += VALTYPE[u8()] ?? 'x';
          types.push(s);
        }
        break;
      }
      case 2: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          const module = name(), nm = name(), kind = u8();
          let sig: string | null = null;
          if (kind === 0) { const t = leb(); sig = types[t] ?? '?'; funcTypes.push(t); }
          else if (kind === 1) { u8(); const f = u8(); leb(); if (f & 1) leb(); }
          else if (kind === 2) { const f = u8(); leb(); if (f & 1) leb(); }
          else if (kind === 3) { u8(); u8(); }
          else { p = end; }
          imports.push({ module, name: nm, kind, sig });
        }
        break;
      }
      case 3: { const n = leb(); for (let i = 0; i < n; i++) funcTypes.push(leb()); break; }
      case 5: {
        const n = leb();
        if (n >= 1) { const flags = u8(); const min = leb(); const max = flags & 1 ? leb() : null; memory = { sectionStart, end, min, max, flags }; }
        break;
      }
      case 7: {
        const n = leb();
        for (let i = 0; i < n; i++) {
          const nm = name(), kind = u8(), idx = leb();
          if (kind === 0) exportSigs.set(nm, types[funcTypes[idx]] ?? '?');
        }
        break;
      }
      case 8: hasStart = true; break;
      default: break;
    }
    p = end;
  }
  return { imports, exportSigs, memory, hasStart };
}

function lebBytes(v: number): number[] {
  const out: number[] = [];
  do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}

/** Returns a copy of the module whose (single, 32-bit) memory maximum is at most maxPages. */
export function capMemory(bytes: Uint8Array, info: ModuleInfo, maxPages: number): Uint8Array {
  const m = info.memory;
  if (!m || m.flags & ~1) return bytes; // shared / memory64: leave alone
  if (m.max !== null && m.max <= maxPages) return bytes;
  // rebuild the memory section: count=1, flags=1, min, max (+ any further memories, which wasm32 MVP forbids)
  const body = [1, 1, ...lebBytes(Math.min(m.min, maxPages)), ...lebBytes(maxPages)];
  const sectionStart = m.sectionStart;
  const out = new Uint8Array(bytes.length - (m.end - sectionStart) + 1 + lebBytes(body.length).length + body.length);
  out.set(bytes.subarray(0, sectionStart), 0);
  let o = sectionStart;
  out[o++] = 5;
  for (const b of lebBytes(body.length)) out[o++] = b;
  for (const b of body) out[o++] = b;
  out.set(bytes.subarray(m.end), o);
  return out;
}
