// asc transform (asconfig.base.json `transform`): makes the static data of a module smaller, and
// fails the build of a filter that overrides a hook whose proxy_on_* callback it does not export
// (./hook-exports.mjs).
//
// 1. Drops the memory-manager word of every static managed object (string literals, static
//    arrays) from the data segments. AssemblyScript writes each static object with the 20-byte
//    runtime header
//      mmInfo | gcInfo (0) | gcInfo2 (0) | rtId | rtSize | payload
//    where mmInfo is only read by a memory manager freeing the block. Static objects are never
//    freed: the "minimal" runtime (TCMS) skips them when sweeping (`ptr < __heap_base`), reads
//    only rtId/rtSize when renewing them, and the SDK heap (alloc.ts) never sees them. With
//    mmInfo zero, Binaryen's memory packing trims the object's segment to start at rtId instead
//    of emitting a separate one-byte segment for mmInfo: about 7 bytes less per static object.
//    The objects are recognised before optimisation (afterCompile), where each static object is
//    still its own segment with the exact signature above; their mmInfo words are zeroed in the
//    final binary (after Binaryen's passes, which keep static data at its address).
//
// 2. Packs all static data into one segment that the module unpacks itself (packData): string
//    literals are UTF-16, so half of their bytes are zeros, and every data segment costs about 6
//    bytes of header. The packed form is a list of runs (one control byte each):
//      0x00..0x3F  n = c + 1 bytes copied as they are
//      0x40..0x7F  n = (c & 63) + 1 zero bytes (the memory is still zero: skipped)
//      0x80..0xBF  n = (c & 63) + 1 bytes, each written as a 16-bit unit (Latin-1 UTF-16 text,
//                  and the small numbers of object headers)
//      0xC0..0xFF  n = (c & 63) + 1 bytes repeated from d bytes back in the unpacked data
//                  (d: the next two bytes, little-endian, d >= n): words and phrases that occur
//                  more than once (the texts of messages, keys and literals)
//    It is placed right after the static data, and a small function (about 130 bytes) appended to
//    the module decodes it into place: the first thing `_initialize` (the WASI reactor start that
//    Envoy calls before any other export) does, once (right after the start function's own
//    run-once guard; a module without one gets a guard global). Until then nothing
//    runs; afterwards the heap reuses the space of the packed copy. Modules this does not fit
//    (an imported memory, no `_initialize`, not enough initial memory) or does not make smaller
//    (little data) are left as they are.

const TOTAL_OVERHEAD = 20;

import { filterClasses, missingHookExports } from './hook-exports.mjs';

function leb(buf, p) {
  let r = 0, s = 0, b;
  do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80);
  return [r, p];
}
function encLeb(v) {
  const out = [];
  do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; out.push(b); } while (v);
  return out;
}

/** True when `d` (a pre-optimisation segment) is exactly one static managed object. */
export function isStaticObject(d) {
  if (d.length < TOTAL_OVERHEAD) return false;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const mmInfo = v.getUint32(0, true), gc1 = v.getUint32(4, true), gc2 = v.getUint32(8, true);
  const rtSize = v.getUint32(16, true);
  if (gc1 !== 0 || gc2 !== 0 || mmInfo === 0) return false;
  // the segment is the whole block: 4-byte mmInfo (= block size - 4) + 16-byte object header +
  // payload, padded to a multiple of 16
  if (d.length !== mmInfo + 4 || d.length % 16 !== 0) return false;
  return TOTAL_OVERHEAD + rtSize <= d.length && d.length - (TOTAL_OVERHEAD + rtSize) < 16;
}

/**
 * Zeroes the 4-byte words at `addrs` in the active data segments of `bin` and drops the zero
 * bytes this leaves at either end of a segment (a segment left empty is removed).
 */
export function zeroWords(bin, addrs) {
  if (addrs.size === 0) return bin;
  const out = [];
  let p = 8;
  out.push(bin.subarray(0, 8));
  let changed = false;
  while (p < bin.length) {
    const id = bin[p];
    let [size, q] = leb(bin, p + 1);
    const end = q + size;
    if (id !== 11 && id !== 12) { out.push(bin.subarray(p, end)); p = end; continue; }
    if (id === 12) { out.push({ datacount: true }); p = end; continue; }
    let [n, r] = leb(bin, q);
    const segs = [];
    for (let i = 0; i < n; i++) {
      const flag = bin[r];
      if (flag !== 0 || bin[r + 1] !== 0x41) return bin; // only `i32.const` active segments are handled
      let [off, r2] = leb(bin, r + 2);
      // the offset is a signed LEB; static data is far below 2^31
      if (bin[r2] !== 0x0b) return bin;
      let [len, r3] = leb(bin, r2 + 1);
      let data = Uint8Array.from(bin.subarray(r3, r3 + len));
      for (let a = off - (off % 4); a < off + len; a += 4) {
        if (!addrs.has(a)) continue;
        for (let k = Math.max(a, off); k < Math.min(a + 4, off + len); k++) data[k - off] = 0;
        changed = true;
      }
      let s = 0, e = data.length;
      while (s < e && data[s] === 0) s++;
      while (e > s && data[e - 1] === 0) e--;
      if (e > s) segs.push({ off: off + s, data: data.subarray(s, e) });
      r = r3 + len;
    }
    const body = [...encLeb(segs.length)];
    for (const sg of segs) {
      // signed LEB of a non-negative i32: add a 0 byte when bit 6 of the last group is set
      const o = encLeb(sg.off);
      if (o[o.length - 1] & 0x40) { o[o.length - 1] |= 0x80; o.push(0); }
      body.push(0, 0x41, ...o, 0x0b, ...encLeb(sg.data.length), ...sg.data);
    }
    out.push(Uint8Array.from([11, ...encLeb(body.length), ...body]));
    out.push({ count: segs.length });
    p = end;
  }
  if (!changed) return bin;
  const count = out.find((x) => x && x.count !== undefined)?.count ?? 0;
  const parts = [];
  for (const x of out) {
    if (x instanceof Uint8Array) parts.push(x);
    else if (x.datacount) {
      const c = encLeb(count);
      parts.push(Uint8Array.from([12, ...encLeb(c.length), ...c]));
    }
  }
  const total = parts.reduce((a, b) => a + b.length, 0);
  const res = new Uint8Array(total);
  let o = 0;
  for (const x of parts) { res.set(x, o); o += x.length; }
  return res;
}

function sleb(v) {
  const out = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
function vec(items) { return [...encLeb(items.length), ...items.flat()]; }
function section(id, body) { return Uint8Array.from([id, ...encLeb(body.length), ...body]); }

/** Parses the sections of a module: [{ id, start, end, body }] (body without the size prefix). */
function sections(bin) {
  const out = [];
  let p = 8;
  while (p < bin.length) {
    const id = bin[p];
    const [size, q] = leb(bin, p + 1);
    out.push({ id, start: p, end: q + size, body: bin.subarray(q, q + size) });
    p = q + size;
  }
  return out;
}

/** The static data image of a module's active segments: { base, bytes } (null if not plain). */
export function dataImage(bin) {
  const data = sections(bin).find((s) => s.id === 11);
  if (!data) return null;
  const b = data.body;
  let [n, r] = leb(b, 0);
  const segs = [];
  for (let i = 0; i < n; i++) {
    if (b[r] !== 0 || b[r + 1] !== 0x41) return null;
    const [off, r2] = leb(b, r + 2); // small non-negative offsets: the LEB reads the same
    if (b[r2] !== 0x0b) return null;
    const [len, r3] = leb(b, r2 + 1);
    segs.push([off, b.subarray(r3, r3 + len)]);
    r = r3 + len;
  }
  if (segs.length === 0) return null;
  const base = Math.min(...segs.map(([o]) => o));
  const end = Math.max(...segs.map(([o, d]) => o + d.length));
  const bytes = new Uint8Array(end - base);
  for (const [o, d] of segs) bytes.set(d, o - base);
  return { base, bytes };
}

/** Encodes bytes as runs of the first three kinds (see the header comment). */
function plainRuns(img) {
  const out = [];
  let lit = [];
  const flush = () => { if (lit.length) { out.push(lit.length - 1, ...lit); lit = []; } };
  const zeros = (i) => { let z = 0; while (i + z < img.length && img[i + z] === 0) z++; return z; };
  let i = 0;
  const n = img.length;
  while (i < n) {
    const z = zeros(i);
    if (z >= 4 || i + z === n) {
      flush();
      for (let k = z; k > 0; k -= 64) out.push(0x40 + Math.min(k, 64) - 1);
      i += z;
      continue;
    }
    // 16-bit units below 256 (text, and the small numbers of object headers), up to a long zero run
    let a = 0;
    while (i + 2 * a + 1 < n && img[i + 2 * a + 1] === 0 && !(img[i + 2 * a] === 0 && zeros(i + 2 * a) >= 6)) a++;
    if (a >= 2) {
      flush();
      for (let k = a; k > 0; k -= 64) {
        const m = Math.min(k, 64);
        out.push(0x80 + m - 1);
        for (let j = 0; j < m; j++) out.push(img[i + 2 * (a - k + j)]);
      }
      i += 2 * a;
      continue;
    }
    lit.push(img[i++]);
    if (lit.length === 64) flush();
  }
  flush();
  return out;
}

/**
 * Encodes a data image as runs (see the header comment): greedily, a repeat of at least 4
 * earlier bytes becomes a back-reference when that is shorter than its plain runs.
 */
export function packRuns(img) {
  const out = [];
  const heads = new Map(); // 4-byte prefix -> positions, ascending
  const key = (i) => img[i] | (img[i + 1] << 8) | (img[i + 2] << 16) | (img[i + 3] * 2 ** 24);
  let from = 0; // start of the bytes not encoded yet
  let seen = 0; // positions below this are in `heads`
  let i = 0;
  const n = img.length;
  while (i < n) {
    for (; seen < i && seen + 4 <= n; seen++) {
      const k = key(seen);
      let l = heads.get(k);
      if (!l) heads.set(k, (l = []));
      l.push(seen);
    }
    let best = 0, dist = 0;
    const cands = i + 4 <= n && img[i] !== 0 ? heads.get(key(i)) : undefined;
    if (cands) {
      for (let c = cands.length - 1, tries = 0; c >= 0 && tries < 256 && i - cands[c] < 65536; c--, tries++) {
        const j = cands[c];
        let m = 0;
        while (m < 64 && i + m < n && j + m < i && img[j + m] === img[i + m]) m++;
        if (m > best) { best = m; dist = i - j; }
      }
    }
    if (best >= 4 && plainRuns(img.subarray(i, i + best)).length > 4) {
      out.push(...plainRuns(img.subarray(from, i)), 0xC0 + best - 1, dist & 0xff, dist >> 8);
      i += best;
      from = i;
      continue;
    }
    i++;
  }
  out.push(...plainRuns(img.subarray(from, n)));
  return Uint8Array.from(out);
}

/** Decodes runs (the reference for the module's own decoder; tests use it). */
export function unpackRuns(runs, size) {
  const img = new Uint8Array(size);
  let o = 0;
  for (let p = 0; p < runs.length;) {
    const c = runs[p++];
    const n = (c & 63) + 1;
    if (c < 0x40) { img.set(runs.subarray(p, p + n), o); o += n; p += n; }
    else if (c < 0x80) o += n;
    else if (c >= 0xC0) { const d = runs[p] | (runs[p + 1] << 8); img.copyWithin(o, o - d, o - d + n); o += n; p += 2; }
    else for (let k = n; k > 0; k--) { img[o] = runs[p++]; o += 2; }
  }
  return img;
}

/**
 * The decoder: runs at [src, end) into memory from dst; returns once (guard global g; g < 0: no
 * guard, the caller runs it once).
 */
function unpackBody(g, src, end, dst) {
  const guard = g < 0 ? [] : [
    0x23, ...encLeb(g), 0x0d, 0x00, // global.get g; br_if 0 (done already)
    0x41, 0x01, 0x24, ...encLeb(g), // global.set g 1
  ];
  const code = [
    ...guard,
    0x41, ...sleb(src), 0x21, 0x00, // src
    0x41, ...sleb(end), 0x21, 0x01, // end
    0x41, ...sleb(dst), 0x21, 0x02, // dst
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x01, // src >= end: break
    0x20, 0x00, 0x2d, 0x00, 0x00, 0x21, 0x03, // c = load8_u(src)
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00, // src++
    0x20, 0x03, 0x41, 0x3f, 0x71, 0x41, 0x01, 0x6a, 0x21, 0x04, // n = (c & 63) + 1
    0x20, 0x03, 0x41, 0xc0, 0x00, 0x49, 0x04, 0x40, // if c < 0x40: copy n bytes
    0x20, 0x02, 0x20, 0x00, 0x20, 0x04, 0xfc, 0x0a, 0x00, 0x00,
    0x20, 0x00, 0x20, 0x04, 0x6a, 0x21, 0x00, // src += n
    0x05, // else
    0x20, 0x03, 0x41, 0xc0, 0x01, 0x4f, 0x04, 0x40, // if c >= 0xC0: copy n bytes from dst - u16(src)
    0x20, 0x02, 0x20, 0x02, 0x20, 0x00, 0x2f, 0x00, 0x00, 0x6b, 0x20, 0x04, 0xfc, 0x0a, 0x00, 0x00,
    0x20, 0x00, 0x41, 0x02, 0x6a, 0x21, 0x00, // src += 2
    0x05, // else
    0x20, 0x03, 0x41, 0x80, 0x01, 0x4f, 0x04, 0x40, // if c >= 0x80: n bytes as 16-bit units
    0x03, 0x40,
    0x20, 0x02, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x3b, 0x01, 0x00,
    0x20, 0x02, 0x41, 0x02, 0x6a, 0x21, 0x02,
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x21, 0x00,
    0x20, 0x04, 0x41, 0x01, 0x6b, 0x22, 0x04, 0x0d, 0x00, // until n == 0
    0x0b, 0x0b, 0x0b, 0x0b, // end loop, if, if, if
    0x20, 0x02, 0x20, 0x04, 0x6a, 0x21, 0x02, // dst += n (copied, repeated or zero run; 0 after text)
    0x0c, 0x00, // next run
    0x0b, 0x0b, // end loop, block
    0x0b, // end function
  ];
  const body = [0x01, 0x05, 0x7f, ...code]; // locals: 5 x i32
  return [...encLeb(body.length), ...body];
}

/**
 * Packs the static data of `bin` into one segment decoded by the module at `_initialize`
 * (see the header comment); returns `bin` unchanged when the module does not fit the scheme.
 */
export function packData(bin) {
  const secs = sections(bin);
  const by = (id) => secs.find((s) => s.id === id);
  const image = dataImage(bin);
  const mem = by(5), types = by(1), funcs = by(3), code = by(10), exps = by(7);
  if (!image || !mem || !types || !funcs || !code || !exps || by(8)) return bin;
  // imports: counts of functions and globals; an imported memory is not handled
  let nImpFuncs = 0, nImpGlobals = 0;
  const imp = by(2);
  if (imp) {
    const b = imp.body;
    let [n, r] = leb(b, 0);
    for (let i = 0; i < n; i++) {
      let [l1, r1] = leb(b, r); r = r1 + l1;
      let [l2, r2] = leb(b, r); r = r2 + l2;
      const kind = b[r++];
      if (kind === 0) { nImpFuncs++; r = leb(b, r)[1]; }
      else if (kind === 3) { nImpGlobals++; r += 2; }
      else return bin; // a table or memory import
    }
  }
  // memory: initial pages (one memory, limits flag 0 or 1)
  const [, m1] = leb(mem.body, 0);
  if (mem.body[m1] > 1) return bin;
  const [pages] = leb(mem.body, m1 + 1);
  const runs = packRuns(image.bytes);
  const src = (image.base + image.bytes.length + 15) & ~15;
  if (src + runs.length > pages * 65536) return bin;
  // the start function: export "_initialize"
  let startFn = -1;
  {
    const b = exps.body;
    let [n, r] = leb(b, 0);
    for (let i = 0; i < n; i++) {
      const [l, r1] = leb(b, r);
      const name = Buffer.from(b.subarray(r1, r1 + l)).toString();
      const kind = b[r1 + l];
      const [idx, r2] = leb(b, r1 + l + 1);
      if (kind === 0 && name === '_initialize') startFn = idx;
      r = r2;
    }
  }
  if (startFn < nImpFuncs) return bin;
  // type () -> ()
  let [nTypes, t] = leb(types.body, 0);
  let voidType = -1;
  for (let i = 0; i < nTypes; i++) {
    if (types.body[t] !== 0x60) return bin;
    const start = t;
    let [np, t1] = leb(types.body, t + 1); t1 += np;
    let [nr, t2] = leb(types.body, t1); t2 += nr;
    if (np === 0 && nr === 0 && voidType < 0) voidType = i;
    t = t2;
    void start;
  }
  let typeSec = types.body;
  if (voidType < 0) {
    voidType = nTypes;
    typeSec = Uint8Array.from([...encLeb(nTypes + 1), ...types.body.subarray(leb(types.body, 0)[1]), 0x60, 0, 0]);
  }
  // functions: append the decoder
  const [nFuncs, f0] = leb(funcs.body, 0);
  const unpackIdx = nImpFuncs + nFuncs;
  const funcSec = Uint8Array.from([...encLeb(nFuncs + 1), ...funcs.body.subarray(f0), ...encLeb(voidType)]);
  // code: `call unpack` in the start function, then the decoder's body. The start function of
  // AssemblyScript begins with its own run-once guard (`if (~started) return; ~started = 1`): the
  // call goes right after it. Otherwise it goes first, and the decoder gets a guard global.
  const [nBodies, c0] = leb(code.body, 0);
  const bodies = [];
  let guard = -1;
  let c = c0;
  for (let i = 0; i < nBodies; i++) {
    const [size, c1] = leb(code.body, c);
    let fb = code.body.subarray(c1, c1 + size);
    if (i === startFn - nImpFuncs) {
      let [nl, l] = leb(fb, 0);
      for (let k = 0; k < nl; k++) l = leb(fb, l)[1] + 1;
      let at = l;
      if (fb[l] === 0x23) { // global.get g; if; return; end; i32.const 1; global.set g
        const [g, l1] = leb(fb, l + 1);
        const tail = [0x04, 0x40, 0x0f, 0x0b, 0x41, 0x01, 0x24, ...encLeb(g)];
        if (tail.every((b, k) => fb[l1 + k] === b)) at = l1 + tail.length;
      }
      if (at === l) guard = 0; // no run-once prologue: the decoder needs its own guard
      const nb = [...fb.subarray(0, at), 0x10, ...encLeb(unpackIdx), ...fb.subarray(at)];
      bodies.push([...encLeb(nb.length), ...nb]);
    } else bodies.push([...encLeb(size), ...fb]);
    c = c1 + size;
  }
  // globals: append the decoder's guard when it needs one
  const glob = by(6);
  let nGlobals = 0, globRest = new Uint8Array(0);
  if (glob) { const [n, g0] = leb(glob.body, 0); nGlobals = n; globRest = glob.body.subarray(g0); }
  let globSec = null;
  if (guard === 0) {
    guard = nImpGlobals + nGlobals;
    globSec = Uint8Array.from([...encLeb(nGlobals + 1), ...globRest, 0x7f, 0x01, 0x41, 0x00, 0x0b]);
  }
  bodies.push(unpackBody(guard, src, src + runs.length, image.base));
  const codeSec = vec(bodies);
  const dataSec = [1, 0, 0x41, ...sleb(src), 0x0b, ...encLeb(runs.length), ...runs];
  // reassemble in section order
  const parts = [bin.subarray(0, 8)];
  let globDone = false;
  for (const s of secs) {
    if (globSec && s.id !== 0 && s.id > 6 && !glob && !globDone) { parts.push(section(6, [...globSec])); globDone = true; }
    if (s.id === 1) parts.push(section(1, [...typeSec]));
    else if (s.id === 3) parts.push(section(3, [...funcSec]));
    else if (s.id === 6 && globSec) parts.push(section(6, [...globSec]));
    else if (s.id === 10) parts.push(section(10, codeSec));
    else if (s.id === 11) parts.push(section(11, dataSec));
    else if (s.id === 12) parts.push(section(12, [1]));
    else parts.push(bin.subarray(s.start, s.end));
  }
  const total = parts.reduce((a, b) => a + b.length, 0);
  if (total >= bin.length) return bin; // little data: the decoder would cost more than it saves
  const res = new Uint8Array(total);
  let o = 0;
  for (const x of parts) { res.set(x, o); o += x.length; }
  return res;
}

export default class StaticHeaders {
  afterCompile(module) {
    // a proxy-wasm module (it has the ABI marker): every overridden hook must be exported
    const exported = new Set();
    for (let i = 0, n = module.getNumExports(); i < n; i++) exported.add(this.binaryen.getExportInfo(module.getExportByIndex(i)).name);
    if (exported.has('proxy_abi_version_0_2_1')) {
      const errors = missingHookExports(filterClasses(this.program), (name) => exported.has(name));
      if (errors.length > 0) throw new Error(errors.join('\n'));
    }
    const addrs = new Set();
    const n = module.getNumDataSegments();
    for (let i = 0; i < n; i++) {
      const info = module.getDataSegmentInfo(module.getDataSegmentByIndex(i));
      if (info.passive || typeof info.offset !== 'number') continue;
      if (isStaticObject(new Uint8Array(info.data))) addrs.add(info.offset);
    }
    const emit = module.emitBinary.bind(module);
    module.emitBinary = (sourceMapUrl) => {
      const r = emit(sourceMapUrl);
      const pack = (bin) => {
        const z = zeroWords(bin, addrs);
        return process.env.AS_PROXY_WASM_NO_PACK ? z : packData(z); // NO_PACK: to compare in tests
      };
      if (r instanceof Uint8Array) return pack(r);
      return { ...r, binary: pack(r.binary) };
    };
  }
}
