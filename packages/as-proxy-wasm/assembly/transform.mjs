// asc transform (asconfig.base.json `transform`): drops the memory-manager word of every static
// managed object (string literals, static arrays) from the data segments.
//
// AssemblyScript writes each static object with the 20-byte runtime header
//   mmInfo | gcInfo (0) | gcInfo2 (0) | rtId | rtSize | payload
// where mmInfo is only read by a memory manager freeing the block. Static objects are never
// freed: the "minimal" runtime (TCMS) skips them when sweeping (`ptr < __heap_base`), reads only
// rtId/rtSize when renewing them, and the SDK heap (alloc.ts) never sees them. With mmInfo zero,
// Binaryen's memory packing trims the object's segment to start at rtId instead of emitting a
// separate one-byte segment for mmInfo: about 7 bytes less per static object (string literal).
//
// The objects are recognised before optimisation (afterCompile), where each static object is
// still its own segment with the exact signature above; their mmInfo words are zeroed in the
// final binary (after Binaryen's passes, which keep static data at its address).

const TOTAL_OVERHEAD = 20;

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

export default class StaticHeaders {
  afterCompile(module) {
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
      if (r instanceof Uint8Array) return zeroWords(r, addrs);
      return { ...r, binary: zeroWords(r.binary, addrs) };
    };
  }
}
