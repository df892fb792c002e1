// assembly/transform.mjs (asconfig.base.json `transform`) drops the mmInfo word of static objects.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { fixtures } from './helpers';

/** Active data segments of a module: [offset, bytes]. */
function dataSegments(bin: Uint8Array): Array<[number, Uint8Array]> {
  let p = 8;
  const leb = () => { let r = 0, s = 0, b; do { b = bin[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  const out: Array<[number, Uint8Array]> = [];
  while (p < bin.length) {
    const id = bin[p++];
    const size = leb();
    const end = p + size;
    if (id === 11) {
      const n = leb();
      for (let i = 0; i < n; i++) {
        expect(bin[p++]).toBe(0); // active, memory 0
        expect(bin[p++]).toBe(0x41); // i32.const
        const off = leb();
        expect(bin[p++]).toBe(0x0b);
        const len = leb();
        out.push([off, bin.subarray(p, p + len)]);
        p += len;
      }
    }
    p = end;
  }
  return out;
}

let wasm: Record<string, Uint8Array<ArrayBuffer>>;
beforeAll(() => { wasm = fixtures('noop', 'header', 'api'); });

describe('static object headers', () => {
  it('no data segment holds only the memory-manager word of a static object', () => {
    for (const name of ['noop', 'header', 'api']) {
      const segs = dataSegments(wasm[name]);
      expect(segs.length).toBeGreaterThan(0);
      const stubs = segs.filter(([off, d]) => off % 16 === 12 && d.length <= 4);
      expect({ name, stubs: stubs.map(([off]) => off) }).toEqual({ name, stubs: [] });
    }
  });

  it('string literals keep their runtime header (rtId, rtSize) and UTF-16 text', () => {
    // "x-training" is a literal of the header fixture: its segment starts at rtId
    const needle = Buffer.from('x-training', 'utf16le').subarray(0, -1); // the data ends at the last non-zero byte
    const seg = dataSegments(wasm.header).find(([, d]) => Buffer.from(d).includes(needle));
    expect(seg).toBeDefined();
    const [off, d] = seg!;
    expect(off % 16).toBe(8); // block at 12 mod 16: without mmInfo the segment starts at rtId (+12)
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    expect(view.getUint32(0, true)).toBe(2); // rtId of String
    expect(view.getUint32(4, true)).toBeGreaterThanOrEqual(needle.length); // rtSize
  });
});
