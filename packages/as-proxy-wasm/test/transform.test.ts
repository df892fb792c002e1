// assembly/transform.mjs (asconfig.base.json `transform`): static objects without their mmInfo
// word, and all static data packed into one segment that the module unpacks at _initialize.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtures, PKG } from './helpers';

/** The header fixture compiled with packing off (AS_PROXY_WASM_NO_PACK=1): its static objects stay segments. */
function unpackedHeader(): Uint8Array<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), 'transform-test-'));
  const out = join(dir, 'header.wasm');
  const root = join(PKG, '..', '..');
  execFileSync(process.execPath, [
    join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), join(PKG, 'test', 'fixtures', 'header.ts'),
    '--config', join(root, 'asconfig.base.json'), '--target', 'release', '--outFile', out,
  ], { cwd: PKG, env: { ...process.env, AS_PROXY_WASM_NO_PACK: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const bin = new Uint8Array(readFileSync(out));
  rmSync(dir, { recursive: true, force: true });
  return bin;
}

/** Calls packRuns of the transform (an ES module: run in a child process). */
function packRuns(img: Uint8Array): Uint8Array {
  const url = 'file://' + join(PKG, 'assembly', 'transform.mjs');
  const js = `import { packRuns } from ${JSON.stringify(url)};
    const img = Buffer.from(process.argv[1], 'base64');
    process.stdout.write(Buffer.from(packRuns(img)).toString('base64'));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', js, Buffer.from(img).toString('base64')]);
  return new Uint8Array(Buffer.from(out.toString(), 'base64'));
}

/** Decodes runs (the format documented in transform.mjs), independently of its code. */
function unpackRuns(runs: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let p = 0; p < runs.length;) {
    const c = runs[p++];
    if (c < 0x40) for (let k = 0; k <= c; k++) out.push(runs[p++]);
    else if (c < 0x80) for (let k = 0; k <= (c & 63); k++) out.push(0);
    else if (c < 0xc0) for (let k = 0; k <= (c & 63); k++) out.push(runs[p++], 0);
    else {
      const d = runs[p] + 256 * runs[p + 1];
      p += 2;
      expect(d).toBeGreaterThan(c & 63); // a repeat never overlaps the bytes it writes
      const from = out.length - d;
      for (let k = 0; k <= (c & 63); k++) out.push(out[from + k]);
    }
  }
  return Uint8Array.from(out);
}

/** The active data segments of a module: [offset, bytes]. */
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

/** Instantiates a module with every import stubbed (functions answer 0). */
function instantiate(bin: Uint8Array<ArrayBuffer>): { exports: Record<string, any>; mem: () => Uint8Array } {
  const mod = new WebAssembly.Module(bin);
  const imports: Record<string, Record<string, unknown>> = {};
  for (const i of WebAssembly.Module.imports(mod)) {
    imports[i.module] ??= {};
    imports[i.module][i.name] = () => 0;
  }
  const inst = new WebAssembly.Instance(mod, imports as WebAssembly.Imports);
  const memory = inst.exports.memory as WebAssembly.Memory;
  return { exports: inst.exports, mem: () => new Uint8Array(memory.buffer) };
}

/** The unpacked static image of a packed module (its one data segment, decoded). */
function image(bin: Uint8Array): { bytes: Uint8Array } {
  const segs = dataSegments(bin);
  expect(segs).toHaveLength(1);
  return { bytes: unpackRuns(segs[0][1]) };
}

let wasm: Record<string, Uint8Array<ArrayBuffer>>;
/** Modules whose static data stays in segments: the no-op fixture (too little data to pack) and the header fixture unpacked. */
let plain: Record<string, Uint8Array<ArrayBuffer>>;
beforeAll(() => {
  wasm = fixtures('noop', 'api');
  plain = { noop: wasm.noop, header: unpackedHeader() };
}, 120_000); // a compile of its own

describe('packed static data', () => {
  it('runs round-trip: zero runs, 16-bit text runs, literal runs of every length and repeats', () => {
    const parts: number[] = [];
    parts.push(...new Array(200).fill(0)); // a zero run longer than one control byte
    for (let i = 0; i < 150; i++) parts.push(0x41 + (i % 26), 0); // UTF-16 text longer than 64 units
    for (let i = 0; i < 300; i++) parts.push(0x80 + (i % 120)); // literal bytes longer than 64
    parts.push(2, 0, 0, 0, 28, 0, 0, 0, 0x68, 0, 0x69, 0, 0, 1, 0, 3); // a header, text, odd bytes
    parts.push(7); // a last byte
    const phrase = Buffer.from('expected a header name, ');
    for (let i = 0; i < 4; i++) parts.push(...phrase, 0x30 + i); // a repeated phrase (UTF-8)
    parts.push(...Buffer.from('header value', 'utf16le'), 0, 0, ...Buffer.from('header name', 'utf16le')); // and UTF-16
    const img = Uint8Array.from(parts);
    const runs = packRuns(img);
    expect(runs.length).toBeLessThan(img.length);
    expect(Buffer.from(unpackRuns(runs))).toEqual(Buffer.from(img));
    // a phrase said four times costs about once plus three repeats of 3 bytes
    const four = Uint8Array.from([...phrase, ...phrase, ...phrase, ...phrase]);
    const packed = packRuns(four);
    expect(packed.length).toBeLessThanOrEqual(1 + phrase.length + 3 * 3);
    expect(Buffer.from(unpackRuns(packed))).toEqual(Buffer.from(four));
    const single = Uint8Array.from([5]);
    expect(Buffer.from(unpackRuns(packRuns(single)))).toEqual(Buffer.from(single));
  });

  it('a module with much data has one data segment; _initialize unpacks it in place, once', () => {
    for (const name of ['api']) {
      const bin = wasm[name];
      const { bytes } = image(bin);
      const { exports, mem } = instantiate(bin);
      // before _initialize the data is not in memory; after it, the whole image is (found by its
      // first 8 characters of UTF-16 text, which the packed form stores one byte each)
      const dense = (i: number) => [0, 1, 2, 3, 4, 5, 6, 7].every((k) => bytes[i + 2 * k] >= 0x20 && bytes[i + 2 * k + 1] === 0);
      const lit = bytes.findIndex((_, i) => i + 16 <= bytes.length && dense(i));
      expect(lit).toBeGreaterThanOrEqual(0);
      const probe = Buffer.from(bytes.subarray(lit, lit + 16));
      expect(Buffer.from(mem()).indexOf(probe)).toBe(-1);
      exports._initialize();
      const at = Buffer.from(mem()).indexOf(probe);
      expect(at).toBeGreaterThan(0);
      const base = at - lit;
      const m = mem();
      const wrong: number[] = [];
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0 && m[base + i] !== bytes[i]) wrong.push(base + i);
      expect({ name, wrong }).toEqual({ name, wrong: [] });
      // a second _initialize does not unpack again (the heap may have reused the packed copy)
      m[at + 8] ^= 0xff;
      exports._initialize();
      expect(mem()[at + 8]).toBe(probe[8] ^ 0xff);
    }
  });

  it('packed string literals keep their runtime header (rtId, rtSize) and UTF-16 text, without mmInfo', () => {
    // "x-note" is a literal of the api fixture
    const { bytes } = image(wasm.api);
    const needle = Buffer.from('x-note', 'utf16le');
    const i = Buffer.from(bytes).indexOf(needle);
    expect(i).toBeGreaterThanOrEqual(20);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(i - 8, true)).toBe(2); // rtId of String
    expect(view.getUint32(i - 4, true)).toBeGreaterThanOrEqual(needle.length); // rtSize
    expect(view.getUint32(i - 20, true)).toBe(0); // mmInfo dropped
  });

  it('a module that packing would not make smaller keeps its segments (no decoder)', () => {
    for (const name of ['noop']) {
      expect(dataSegments(wasm[name]).length).toBeGreaterThan(1);
      const mod = new WebAssembly.Module(wasm[name]);
      expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toContain('_initialize');
    }
  });
});

describe('static object headers (unpacked modules)', () => {
  it('no data segment holds only the memory-manager word of a static object', () => {
    for (const name of ['noop', 'header']) {
      const segs = dataSegments(plain[name]);
      const stubs = segs.filter(([off, d]) => off % 16 === 12 && d.length <= 4);
      expect({ name, stubs: stubs.map(([off]) => off) }).toEqual({ name, stubs: [] });
    }
  });

  it('string literals keep their runtime header (rtId, rtSize) and UTF-16 text', () => {
    // "x-training" is a literal of the header fixture: its segment starts at rtId
    const needle = Buffer.from('x-training', 'utf16le').subarray(0, -1); // the data ends at the last non-zero byte
    const seg = dataSegments(plain.header).find(([, d]) => Buffer.from(d).includes(needle));
    expect(seg).toBeDefined();
    const [off, d] = seg!;
    expect(off % 16).toBe(8); // block at 12 mod 16: without mmInfo the segment starts at rtId (+12)
    const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
    expect(view.getUint32(0, true)).toBe(2); // rtId of String
    expect(view.getUint32(4, true)).toBeGreaterThanOrEqual(needle.length); // rtSize
  });
});

describe('hooks the host would never call', () => {
  it('fail the build of a filter that overrides a hook without exporting its callback, naming the export to add', () => {
    const root = join(PKG, '..', '..');
    const dir = mkdtempSync(join(tmpdir(), 'transform-test-'));
    let code = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [
        join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), join(PKG, 'test', 'broken', 'missing-export.ts'),
        '--config', join(root, 'asconfig.base.json'), '--target', 'release', '--outFile', join(dir, 'broken.wasm'),
      ], { cwd: PKG, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(code).not.toBe(0);
    expect(stderr).toContain('as-proxy-wasm: BrokenRoot.onTick is never called: the module does not export proxy_on_tick. '
      + 'Add it to the filter\'s exports: export { proxy_on_tick } from "as-proxy-wasm/assembly/exports";');
    expect(stderr).toContain('BrokenStream.onRequestBody is never called: the module does not export proxy_on_request_body.');
    // an exported hook is not reported
    expect(stderr).not.toContain('onRequestHeaders');
  }, 120000);
});
