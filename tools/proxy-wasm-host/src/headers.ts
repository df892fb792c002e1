// Header maps with Envoy's HeaderMapImpl edit rules, and the proxy-wasm pairs codec.

export type HeaderValue = string | Uint8Array;
export type HeaderList = Array<[string, HeaderValue]>;

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/** Node's Buffer methods behind toString(encoding, start, end): stable since Node 0.x, not in @types/node. */
export type FastBuffer = Buffer & { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string };

/** Byte length of a header name/value as it is stored (UTF-8 for strings). */
export function byteLen(v: HeaderValue): number {
  if (typeof v !== 'string') return v.length;
  // fast path: ASCII strings
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0x7f) return Buffer.byteLength(v, 'utf8');
  return v.length;
}

/** Decode bytes as a string when they are valid UTF-8, else return a copy of the bytes. */
export function decodeBytes(mem: Uint8Array, off: number, len: number): HeaderValue {
  let ascii = true;
  for (let i = off, e = off + len; i < e; i++) if (mem[i] > 0x7f) { ascii = false; break; }
  if (ascii) return Buffer.isBuffer(mem) ? (mem as FastBuffer).latin1Slice(off, off + len) : Buffer.from(mem.buffer, mem.byteOffset + off, len).toString('latin1');
  const view = mem.subarray(off, off + len);
  try { return utf8Fatal.decode(view); } catch { return copyBytes(view); }
}

/** A copy of the bytes (a Node Buffer's own slice() is a VIEW, e.g. into wasm memory). */
export function copyBytes(b: Uint8Array): Uint8Array { return Uint8Array.prototype.slice.call(b); }

export function toBytes(v: HeaderValue | undefined | null): Uint8Array {
  if (v == null) return new Uint8Array(0);
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** A HeaderValue as a JSON-safe string: UTF-8 text as is, other bytes latin1-decoded (one char per byte). */
export function valueToString(v: HeaderValue): string {
  return typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
}

export function bytesToText(b: Uint8Array): string { return utf8Lossy.decode(b); }

// Envoy's O(1) "inline" headers: addCopy() on an existing inline header appends ",value" to it
// instead of adding a second entry (HeaderMapImpl::addCopy / appendToHeader).
const REQ_RESP_INLINE = ['connection', 'content-type', 'keep-alive', 'proxy-connection', 'proxy-status', 'x-request-id',
  'transfer-encoding', 'upgrade', 'via', 'content-length', 'x-envoy-attempt-count', 'x-envoy-decorator-operation'];
const REQ_INLINE = new Set([...REQ_RESP_INLINE, ':authority', ':method', ':path', ':protocol', ':scheme', 'te', 'user-agent',
  'x-client-trace-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-client-cert', 'expect',
  'grpc-timeout', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node', 'x-envoy-external-address',
  'x-envoy-force-trace', 'x-envoy-internal', 'x-envoy-original-path', 'x-envoy-retry-on', 'x-envoy-retry-grpc-on',
  'x-envoy-max-retries', 'x-envoy-upstream-rq-timeout-ms', 'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-expected-rq-timeout-ms', 'x-envoy-upstream-alt-stat-name']);
const RESP_INLINE = new Set([...REQ_RESP_INLINE, ':status', 'date', 'location', 'server', 'grpc-status', 'grpc-message',
  'x-envoy-upstream-service-time', 'x-envoy-degraded', 'x-envoy-ratelimited', 'x-envoy-overloaded',
  'x-envoy-upstream-canary', 'x-envoy-immediate-health-check-fail', 'x-envoy-upstream-healthchecked-cluster']);
const RESP_TRAILER_INLINE = new Set(['grpc-status', 'grpc-message']);
const NO_INLINE = new Set<string>();

export type MapKind = 'request-headers' | 'response-headers' | 'request-trailers' | 'response-trailers' | 'other';

function inlineSet(kind: MapKind): Set<string> {
  switch (kind) {
    case 'request-headers': return REQ_INLINE;
    case 'response-headers': return RESP_INLINE;
    case 'response-trailers': return RESP_TRAILER_INLINE;
    default: return NO_INLINE;
  }
}

function lower(s: string): string {
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c >= 65 && c <= 90) return s.toLowerCase(); }
  return s;
}

function concat(a: HeaderValue, sep: string, b: HeaderValue): HeaderValue {
  if (typeof a === 'string' && typeof b === 'string') return a + sep + b;
  const x = toBytes(a), y = toBytes(b), out = new Uint8Array(x.length + 1 + y.length);
  out.set(x, 0); out[x.length] = sep.charCodeAt(0); out.set(y, x.length + 1);
  return out;
}

export class HeaderMap {
  names: string[] = [];
  values: HeaderValue[] = [];
  private inline: Set<string>;
  constructor(readonly kind: MapKind = 'other', list?: HeaderList) {
    this.inline = inlineSet(kind);
    if (list) {
      const n = list.length, names = new Array<string>(n), values = new Array<HeaderValue>(n);
      for (let i = 0; i < n; i++) { names[i] = lower(list[i][0]); values[i] = list[i][1]; }
      this.names = names; this.values = values;
    }
  }
  get size(): number { return this.names.length; }
  indexOf(name: string): number { return this.names.indexOf(lower(name)); }
  get(name: string): HeaderValue | undefined { const i = this.indexOf(name); return i < 0 ? undefined : this.values[i]; }
  getAll(name: string): HeaderValue[] { const n = lower(name); const out: HeaderValue[] = []; for (let i = 0; i < this.names.length; i++) if (this.names[i] === n) out.push(this.values[i]); return out; }
  has(name: string): boolean { return this.indexOf(name) >= 0; }
  /** Envoy addCopy: inline headers that already exist get ",value" appended; others get a new entry. */
  add(name: string, value: HeaderValue): void {
    const n = lower(name);
    if (this.inline.has(n)) {
      const i = this.names.indexOf(n);
      if (i >= 0) { this.values[i] = concat(this.values[i], ',', value); return; }
    }
    this.insert(n, value);
  }
  /** Insert a new entry; pseudo-headers stay in front of regular headers, like Envoy's HeaderList. */
  private insert(n: string, value: HeaderValue): void {
    if (n.charCodeAt(0) === 58 /* ':' */) {
      let i = 0;
      while (i < this.names.length && this.names[i].charCodeAt(0) === 58) i++;
      this.names.splice(i, 0, n); this.values.splice(i, 0, value);
    } else { this.names.push(n); this.values.push(value); }
  }
  /** Envoy setCopy (http_set_copy_replace_all_headers): remove every entry, then add one at the end. */
  replace(name: string, value: HeaderValue): void { const n = lower(name); this.remove(n); this.insert(n, value); }
  remove(name: string): void {
    const n = lower(name);
    for (let i = this.names.length - 1; i >= 0; i--) if (this.names[i] === n) { this.names.splice(i, 1); this.values.splice(i, 1); }
  }
  /** set_header_map_pairs: remove every key, then addCopy each pair (lowercased). */
  setAll(list: HeaderList): void { this.names = []; this.values = []; for (const [k, v] of list) this.add(k, v); }
  byteSize(): number { let s = 0; for (let i = 0; i < this.names.length; i++) s += byteLen(this.names[i]) + byteLen(this.values[i]); return s; }
  toList(): HeaderList { const out: HeaderList = new Array(this.names.length); for (let i = 0; i < out.length; i++) out[i] = [this.names[i], this.values[i]]; return out; }
  toStringList(): Array<[string, string]> { const out: Array<[string, string]> = new Array(this.names.length); for (let i = 0; i < out.length; i++) out[i] = [this.names[i], valueToString(this.values[i])]; return out; }
  clone(kind: MapKind = this.kind): HeaderMap { const m = new HeaderMap(kind); m.names = this.names.slice(); m.values = this.values.slice(); return m; }
}

/** Serialized size of a pairs buffer (count, lengths, NUL-terminated keys and values). */
export function pairsSize(names: string[], values: HeaderValue[]): number {
  let size = 4 + 8 * names.length;
  for (let i = 0; i < names.length; i++) size += byteLen(names[i]) + byteLen(values[i]) + 2;
  return size;
}

/** Write a pairs buffer at off in mem (which must be large enough). */
export function writePairs(mem: Buffer, dv: DataView, off: number, names: string[], values: HeaderValue[]): void {
  const n = names.length;
  dv.setUint32(off, n, true);
  let lp = off + 4, dp = off + 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const k = names[i], v = values[i];
    const kl = mem.write(k, dp, 'utf8'); dp += kl; mem[dp++] = 0;
    let vl: number;
    if (typeof v === 'string') vl = mem.write(v, dp, 'utf8'); else { mem.set(v, dp); vl = v.length; }
    dp += vl; mem[dp++] = 0;
    dv.setUint32(lp, kl, true); dv.setUint32(lp + 4, vl, true); lp += 8;
  }
}

export const MAX_PAIRS_BYTES = 1 << 20;
export const MAX_PAIRS_COUNT = 1024;

/**
 * Parse a pairs buffer like proxy-wasm-cpp-host's PairsUtil::toPairs: anything malformed
 * (too big, too many pairs, missing NULs, trailing bytes) yields an EMPTY list, silently.
 */
export function readPairs(mem: Uint8Array, dv: DataView, off: number, size: number): HeaderList {
  const out: HeaderList = [];
  if (size === 0 || size < 4 || size > MAX_PAIRS_BYTES) return out;
  const n = dv.getUint32(off, true);
  if (n > MAX_PAIRS_COUNT || 4 + 8 * n > size) return out;
  let lp = off + 4, dp = off + 4 + 8 * n;
  const end = off + size;
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(lp, true), vl = dv.getUint32(lp + 4, true); lp += 8;
    if (dp + kl + 1 + vl + 1 > end) return [];
    const k = decodeBytes(mem, dp, kl); dp += kl;
    if (mem[dp++] !== 0) return [];
    const v = decodeBytes(mem, dp, vl); dp += vl;
    if (mem[dp++] !== 0) return [];
    out.push([typeof k === 'string' ? k : valueToString(k), v]);
  }
  if (dp !== end) return [];
  return out;
}

/** Encode a HeaderList as a standalone pairs buffer (used for property maps). */
export function encodePairs(list: Array<[string, HeaderValue]>): Uint8Array {
  const names = list.map((p) => p[0]), values = list.map((p) => p[1]);
  const buf = Buffer.alloc(pairsSize(names, values));
  writePairs(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), 0, names, values);
  return buf;
}
