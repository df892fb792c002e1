import { MapType, Status } from "./enums";
import {
  proxy_get_header_map_value, proxy_get_header_map_pairs, proxy_set_header_map_pairs,
  proxy_add_header_map_value, proxy_replace_header_map_value, proxy_remove_header_map_value,
  proxy_get_header_map_size,
} from "./imports";
import { RET_A, RET_B, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";
import { argPtr, argLen } from "./args";

/** One header (or trailer / metadata) entry, kept as bytes; decoded on access. */
export class HeaderPair {
  constructor(public nameBytes: ArrayBuffer, public valueBytes: ArrayBuffer) {}
  get name(): string {
    return decodeUtf8(changetype<usize>(this.nameBytes), <usize>this.nameBytes.byteLength);
  }
  /** The value as a string (invalid UTF-8 -> U+FFFD). Use `valueBytes` for the exact bytes. */
  get value(): string {
    return decodeUtf8(changetype<usize>(this.valueBytes), <usize>this.valueBytes.byteLength);
  }
}

/**
 * A header map of the current context (request/response headers/trailers,
 * http-call response headers/trailers). Names are case-insensitive: Envoy
 * lower-cases the names it stores. Values are byte-safe.
 *
 * Every method accepts `string | Bytes | ArrayBuffer | Uint8Array` for names
 * and values; `Bytes` (pre-encoded at configure time) makes calls allocation-free.
 *
 * Envoy rules: a map that is not available in the current phase (e.g. request
 * headers after onRequestHeaders returned Continue, or response headers during
 * the request) answers BadArgument (NotFound in onLog). Nothing traps; reads
 * return null and set `lastStatus()`.
 */
export class HeaderMap {
  constructor(public readonly type: MapType) {}

  /** First value of `name` as a string, or null (absent: lastStatus() == NotFound). */
  get<K>(name: K): string | null {
    let b = this.getBytes<K>(name);
    if (b === null) return null;
    return decodeUtf8(changetype<usize>(b), <usize>b.byteLength);
  }

  /** First value of `name` as bytes (zero-copy), or null. */
  getBytes<K>(name: K): ArrayBuffer | null {
    let k = argPtr<K>(name, 0);
    let s = <Status>proxy_get_header_map_value(this.type, k, argLen, RET_A, RET_B);
    setLastStatus(s);
    if (s != Status.Ok) return null;
    return adoptReturned();
  }

  /** True when `name` is present. */
  has<K>(name: K): bool {
    return this.getBytes<K>(name) !== null;
  }

  /** All values of `name`, in order (case-insensitive name match). */
  getAll<K>(name: K): string[] {
    let out = new Array<string>();
    let k = argPtr<K>(name, 0);
    let kl = argLen;
    let pairs = this.pairs();
    for (let i = 0, n = pairs.length; i < n; i++) {
      let p = unchecked(pairs[i]);
      if (asciiEqualsIgnoreCase(changetype<usize>(p.nameBytes), <usize>p.nameBytes.byteLength, k, kl)) out.push(p.value);
    }
    return out;
  }

  /** Replaces every value of `name` with `value` (adds it when absent). */
  set<K, V>(name: K, value: V): Status {
    let k = argPtr<K>(name, 0);
    let kl = argLen;
    let v = argPtr<V>(value, 1);
    return <Status>proxy_replace_header_map_value(this.type, k, kl, v, argLen);
  }

  /** Appends one more `name: value` entry. */
  add<K, V>(name: K, value: V): Status {
    let k = argPtr<K>(name, 0);
    let kl = argLen;
    let v = argPtr<V>(value, 1);
    return <Status>proxy_add_header_map_value(this.type, k, kl, v, argLen);
  }

  /** Removes every value of `name` (Ok even when absent). */
  remove<K>(name: K): Status {
    let k = argPtr<K>(name, 0);
    return <Status>proxy_remove_header_map_value(this.type, k, argLen);
  }

  /** All entries in order. Empty when the map is unavailable (see lastStatus()). */
  pairs(): HeaderPair[] {
    let s = <Status>proxy_get_header_map_pairs(this.type, RET_A, RET_B);
    setLastStatus(s);
    if (s != Status.Ok) return new Array<HeaderPair>();
    let buf = adoptReturned();
    if (buf === null) return new Array<HeaderPair>();
    return deserializePairs(buf);
  }

  /** Replaces the whole map with `pairs`. */
  setPairs(pairs: Pairs): Status {
    return <Status>proxy_set_header_map_pairs(this.type, pairs.ptr(), pairs.byteLength());
  }

  /** Envoy's byte size of the map (sum of name and value lengths), or -1 (see lastStatus()). */
  byteSize(): i32 {
    let s = <Status>proxy_get_header_map_size(this.type, RET_A);
    setLastStatus(s);
    return s == Status.Ok ? load<i32>(RET_A) : -1;
  }
}

function asciiEqualsIgnoreCase(a: usize, al: usize, b: usize, bl: usize): bool {
  if (al != bl) return false;
  for (let i: usize = 0; i < al; i++) {
    let x = <u32>load<u8>(a + i), y = <u32>load<u8>(b + i);
    if (x - 0x41 < 26) x |= 0x20;
    if (y - 0x41 < 26) y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

/**
 * Parses the proxy-wasm pairs encoding:
 *   u32 count, count x (u32 keyLen, u32 valueLen), then each key\0value\0.
 * Malformed input yields the entries that could be read (never traps).
 */
export function deserializePairs(buf: ArrayBuffer): HeaderPair[] {
  let out = new Array<HeaderPair>();
  let base = changetype<usize>(buf);
  let size = <usize>buf.byteLength;
  if (size < 4) return out;
  let count = <usize>load<u32>(base);
  if (count > (size - 4) / 8) return out;
  let sizes = base + 4;
  let data = sizes + count * 8;
  let end = base + size;
  for (let i: usize = 0; i < count; i++) {
    let kl = <usize>load<u32>(sizes + i * 8);
    let vl = <usize>load<u32>(sizes + i * 8 + 4);
    if (<u64>data + <u64>kl + <u64>vl + 2 > <u64>end) break;
    let k = new ArrayBuffer(<i32>kl);
    memory.copy(changetype<usize>(k), data, kl);
    data += kl + 1;
    let v = new ArrayBuffer(<i32>vl);
    memory.copy(changetype<usize>(v), data, vl);
    data += vl + 1;
    out.push(new HeaderPair(k, v));
  }
  return out;
}

/**
 * A serialized list of header pairs (for sendLocalResponse, dispatchHttpCall,
 * HeaderMap.setPairs). Build it once at configure time and reuse it: it is
 * kept in wire format, so passing it to the host costs no work.
 */
export class Pairs {
  private names: ArrayBuffer[] = [];
  private values: ArrayBuffer[] = [];
  private wire: ArrayBuffer | null = null;

  /** Appends an entry; names/values are string | Bytes | ArrayBuffer | Uint8Array. */
  add<K, V>(name: K, value: V): Pairs {
    let k = argPtr<K>(name, 0);
    let kb = new ArrayBuffer(<i32>argLen);
    memory.copy(changetype<usize>(kb), k, argLen);
    let v = argPtr<V>(value, 1);
    let vb = new ArrayBuffer(<i32>argLen);
    memory.copy(changetype<usize>(vb), v, argLen);
    this.names.push(kb);
    this.values.push(vb);
    this.wire = null;
    return this;
  }

  get length(): i32 {
    return this.names.length;
  }

  /** Builds from deserialized pairs (e.g. `headers.pairs()` after editing). */
  static from(list: HeaderPair[]): Pairs {
    let p = new Pairs();
    for (let i = 0; i < list.length; i++) {
      let e = unchecked(list[i]);
      p.add<ArrayBuffer, ArrayBuffer>(e.nameBytes, e.valueBytes);
    }
    return p;
  }

  /** The wire encoding (cached). */
  serialize(): ArrayBuffer {
    let w = this.wire;
    if (w !== null) return w;
    let n = this.names.length;
    let total: usize = 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) {
      total += <usize>unchecked(this.names[i]).byteLength + <usize>unchecked(this.values[i]).byteLength + 2;
    }
    let out = new ArrayBuffer(<i32>total);
    let base = changetype<usize>(out);
    store<u32>(base, n);
    let data = base + 4 + <usize>n * 8;
    for (let i = 0; i < n; i++) {
      let k = unchecked(this.names[i]);
      let v = unchecked(this.values[i]);
      let kl = <usize>k.byteLength, vl = <usize>v.byteLength;
      store<u32>(base + 4 + <usize>i * 8, kl);
      store<u32>(base + 8 + <usize>i * 8, vl);
      memory.copy(data, changetype<usize>(k), kl);
      data += kl;
      store<u8>(data++, 0);
      memory.copy(data, changetype<usize>(v), vl);
      data += vl;
      store<u8>(data++, 0);
    }
    this.wire = out;
    return out;
  }

  ptr(): usize {
    return changetype<usize>(this.serialize());
  }

  byteLength(): usize {
    return <usize>this.serialize().byteLength;
  }
}

// The maps of the current context. Maps are addressed by type in the host's
// current (or effective) context, so these singletons serve every context.
// @ts-ignore: decorator
@lazy export const requestHeaders = new HeaderMap(MapType.HttpRequestHeaders);
// @ts-ignore: decorator
@lazy export const requestTrailers = new HeaderMap(MapType.HttpRequestTrailers);
// @ts-ignore: decorator
@lazy export const responseHeaders = new HeaderMap(MapType.HttpResponseHeaders);
// @ts-ignore: decorator
@lazy export const responseTrailers = new HeaderMap(MapType.HttpResponseTrailers);
// @ts-ignore: decorator
@lazy export const httpCallResponseHeaders = new HeaderMap(MapType.HttpCallResponseHeaders);
// @ts-ignore: decorator
@lazy export const httpCallResponseTrailers = new HeaderMap(MapType.HttpCallResponseTrailers);

// The header name and value checks (isHeaderName, isHeaderValue) are in ./checks.

/**
 * True when the UTF-8 bytes `b` equal the ASCII text `ascii` (code unit by byte, nothing is
 * decoded). With `ignoreCase`, the letters A-Z of `b` read as lower case, so write `ascii` in
 * lower case: `bytesEqual(name, ":path", true)`. A non-ASCII character in `ascii` never matches.
 */
export function bytesEqual(b: ArrayBuffer, ascii: string, ignoreCase: bool = false): bool {
  return b.byteLength == ascii.length && bytesStartWith(b, ascii, ignoreCase);
}

/** True when the UTF-8 bytes `b` start with the ASCII text `prefix` (as for bytesEqual). */
export function bytesStartWith(b: ArrayBuffer, prefix: string, ignoreCase: bool = false): bool {
  let n = <usize>prefix.length;
  if (<usize>b.byteLength < n) return false;
  let p = changetype<usize>(b), s = changetype<usize>(prefix);
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i), u = <u32>load<u16>(s + (i << 1));
    if (ignoreCase && c - 0x41 < 26) c |= 0x20;
    if (c != u || u >= 0x80) return false;
  }
  return true;
}
