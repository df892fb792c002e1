// Memory plumbing shared by every API family: host return slots, the host
// allocator, zero-allocation argument encoding and byte-safe UTF-8 decoding.
//
// Allocation model (runtime "minimal" = TLSF + two-colour mark & sweep, no
// shadow stack): buffers the host allocates through `malloc` are *managed*
// ArrayBuffers, so the SDK hands them to the filter without copying and the GC
// frees them once unreachable. The GC only runs when the SDK calls
// `__collect()` at the end of a callback (nothing of ours is on the wasm
// stack there); see `maybeCollect`.

import { Status } from "./enums";

// ---- host return slots (static memory, never moves) ----
// @ts-ignore: decorator
@lazy export const RET_A: usize = memory.data(8);
// @ts-ignore: decorator
@lazy export const RET_B: usize = memory.data(8);
// @ts-ignore: decorator
@lazy export const RET_C: usize = memory.data(8);

// ---- GC policy ----
// In the owned memory mode (a filter's asconfig.json: runtime "stub", ASC_RUNTIME == 0) there is no collector:
// every function below compiles to nothing (rt/owned.ts says who frees what).
/** Bytes allocated (by the host through malloc, the SDK and the filter) since the last collection (alloc.ts). */
let gcDebt: usize = 0;
/** Streams finished since the last collection. */
let gcStreams: u32 = 0;
let gcDebtLimit: usize = 64 * 1024;
let gcStreamLimit: u32 = 32;
/** 0 while no SDK callback runs; collections happen only when leaving the outermost one. */
let callDepth: i32 = 0;

// @ts-ignore: decorator
@inline export function enterCallback(): void {
  if (ASC_RUNTIME != 0) callDepth++;
}
// @ts-ignore: decorator
@inline export function leaveCallback(): void {
  if (ASC_RUNTIME != 0) callDepth--;
}
/** Leaves a callback and collects if it was the outermost one and the policy says so. */
// @ts-ignore: decorator
@inline export function leaveCallbackAndCollect(): void {
  if (ASC_RUNTIME != 0) {
    if (--callDepth == 0) {
      if (gcDebt >= gcDebtLimit || gcStreams >= gcStreamLimit) collectNow();
    }
  }
}
/** Leaves a configuration callback: always collects (parsing garbage). */
export function leaveCallbackAndCollectAll(): void {
  if (ASC_RUNTIME != 0) {
    if (--callDepth == 0) collectNow();
  }
}
// @ts-ignore: decorator
@inline export function countStream(): void {
  if (ASC_RUNTIME != 0) gcStreams++;
}

/**
 * Tunes when the SDK runs the collector: after `debtBytes` of allocations
 * (host, SDK and filter) or after `streams` finished streams, whichever comes first.
 */
export function setGcPolicy(debtBytes: usize, streams: u32): void {
  gcDebtLimit = debtBytes;
  gcStreamLimit = streams;
}

// @ts-ignore: decorator
@inline export function addGcDebt(n: usize): void {
  if (ASC_RUNTIME != 0) gcDebt += n;
}

export function collectNow(): void {
  if (ASC_RUNTIME != 0) {
    gcDebt = 0;
    gcStreams = 0;
    __collect();
  }
}

// ---- host allocator ----
/** Host -> VM allocation: a managed ArrayBuffer the SDK can adopt without copying. */
export function hostAlloc(size: usize): usize {
  return __new(size, idof<ArrayBuffer>());
}

// @ts-ignore: decorator
@lazy const EMPTY_BUFFER: ArrayBuffer = new ArrayBuffer(0);

/** Status of the last SDK call that returns a value rather than a Status. */
let lastStatusValue: Status = Status.Ok;
// @ts-ignore: decorator
@inline export function setLastStatus(s: Status): void {
  lastStatusValue = s;
}
/** Status of the last SDK read that returned a value or null instead of a Status. */
export function lastStatus(): Status {
  return lastStatusValue;
}

/**
 * Adopts a (ptr, size) pair written by the host into RET_A/RET_B as an
 * ArrayBuffer. Zero-copy when the host returned exactly what our allocator
 * gave it (always the case in Envoy); otherwise copies, after a bounds check.
 */
export function adoptReturned(): ArrayBuffer | null {
  let ptr = load<u32>(RET_A);
  let size = load<u32>(RET_B);
  if (size == 0) return EMPTY_BUFFER;
  let end = <u64>ptr + <u64>size;
  if (<usize>ptr < __heap_base || end > (<u64>memory.size() << 16)) {
    lastStatusValue = Status.InvalidMemoryAccess;
    return null;
  }
  // Managed header: rtId at ptr-8, rtSize at ptr-4.
  if (load<u32>(ptr - 8) == idof<ArrayBuffer>() && load<u32>(ptr - 4) == size) {
    return changetype<ArrayBuffer>(ptr);
  }
  let copy = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(copy), ptr, size);
  return copy;
}

// ---- zero-allocation argument encoding ----
// Four raw (unmanaged) scratch blocks: a host call needs at most name+value
// (+ path/message); strings are UTF-8 encoded into them, never allocated.
// Static tables (pointer and capacity per slot), no start-up code.
// @ts-ignore: decorator
@lazy const scratch: usize = memory.data(16);
// @ts-ignore: decorator
@lazy const scratchCap: usize = memory.data(16);

/** Byte length of the last argument encoded by `argPtr` / `encodeScratch`. */
export let argLen: usize = 0;

export function scratchBlock(slot: i32, need: usize): usize {
  let off = <usize>slot << 2;
  let cap = load<usize>(scratchCap + off);
  let p = load<usize>(scratch + off);
  if (cap < need) {
    let ncap = max<usize>(need, 256);
    p = cap == 0 ? heap.alloc(ncap) : heap.realloc(p, ncap);
    store<usize>(scratch + off, p);
    store<usize>(scratchCap + off, ncap);
  }
  return p;
}

/**
 * UTF-8 encodes `n` UTF-16 code units at `src` into `dst` (room for 3n bytes);
 * returns the byte count. Pairs become 4-byte sequences; a lone surrogate is
 * encoded as itself (WTF-8, like String.UTF8.encode).
 */
export function utf8Encode(src: usize, n: usize, dst: usize): usize {
  let o = dst;
  let end = src + (n << 1);
  while (src < end) {
    let c = <u32>load<u16>(src);
    src += 2;
    if (c - 0xD800 < 0x400 && src < end) { // a surrogate pair; a lone surrogate is written as is
      let d = <u32>load<u16>(src) - 0xDC00;
      if (d < 0x400) {
        src += 2;
        c = 0x10000 + ((c - 0xD800) << 10) + d;
      }
    }
    // k continuation bytes (0 for ASCII); the lead byte's marker is byte k of 0xF0E0C000
    let k = <u32>(c >= 0x80) + <u32>(c >= 0x800) + <u32>(c >= 0x10000);
    store<u8>(o++, <u8>((<u32>0xF0E0C000 >> (k << 3)) | (c >> (6 * k))));
    while (k > 0) {
      k--;
      store<u8>(o++, <u8>(0x80 | ((c >> (6 * k)) & 0x3F)));
    }
  }
  return o - dst;
}

/** UTF-8 encodes `s` into scratch slot `slot`; returns the pointer, sets argLen. */
export function encodeScratch(s: string, slot: i32): usize {
  let n = <usize>s.length;
  let p = scratchBlock(slot, n * 3 + 1);
  argLen = utf8Encode(changetype<usize>(s), n, p);
  return p;
}

/** UTF-8 bytes of `s` in a new ArrayBuffer of the exact size. */
export function utf8Bytes(s: string): ArrayBuffer {
  let p = encodeScratch(s, 3);
  let b = new ArrayBuffer(<i32>argLen);
  memory.copy(changetype<usize>(b), p, argLen);
  return b;
}

/** Where the code units of a string (UTF-16, not encoded) or byte-like value start; their count in `argLen`. */
// @ts-ignore: decorator
@inline export function unitsOf<T>(v: T): usize {
  if (isString<T>()) {
    argLen = <usize>changetype<string>(v).length;
    return changetype<usize>(v);
  }
  return argPtr<T>(v, 0);
}

/**
 * Returns a pointer to the bytes of `v` (string | Bytes | ArrayBuffer |
 * Uint8Array | null) and sets `argLen`. Strings are encoded into scratch slot
 * `slot`; byte types are passed through without copying.
 */
// @ts-ignore: decorator
@inline export function argPtr<T>(v: T, slot: i32): usize {
  if (isNullable<T>()) {
    if (changetype<usize>(v) == 0) {
      argLen = 0;
      return scratchBlock(slot, 1);
    }
  }
  if (isString<T>()) {
    return encodeScratch(changetype<string>(v), slot);
  } else if (v instanceof Bytes) {
    let b = changetype<Bytes>(v);
    argLen = <usize>b.length;
    return b.ptr;
  } else if (v instanceof ArrayBuffer) {
    argLen = <usize>changetype<ArrayBuffer>(v).byteLength;
    return changetype<usize>(v);
  } else if (v instanceof Uint8Array) {
    let u = changetype<Uint8Array>(v);
    argLen = <usize>u.byteLength;
    return u.dataStart;
  } else {
    ERROR("as-proxy-wasm: expected string | Bytes | ArrayBuffer | Uint8Array");
    return 0;
  }
}

/**
 * Pre-encoded UTF-8 bytes (a header name, a value, a path segment) prepared
 * once — typically at configure time — so hot paths never encode or allocate.
 */
export class Bytes {
  readonly buffer: ArrayBuffer;
  readonly ptr: usize;
  readonly length: i32;

  constructor(buffer: ArrayBuffer) {
    this.buffer = buffer;
    this.ptr = changetype<usize>(buffer);
    this.length = buffer.byteLength;
  }

  /** UTF-8 bytes of `s`. */
  static of(s: string): Bytes {
    return new Bytes(utf8Bytes(s));
  }

  /** Copies `u` (a view) into a new Bytes. */
  static copy(u: Uint8Array): Bytes {
    let b = new ArrayBuffer(u.byteLength);
    memory.copy(changetype<usize>(b), u.dataStart, <usize>u.byteLength);
    return new Bytes(b);
  }

  /** UTF-8 bytes of `s` with ASCII A-Z lower-cased (header names are lower case in Envoy). */
  static lower(s: string): Bytes {
    let b = utf8Bytes(s);
    asciiLowerInPlace(changetype<usize>(b), <usize>b.byteLength);
    return new Bytes(b);
  }

  /** Decodes as UTF-8; invalid sequences become U+FFFD. */
  toString(): string {
    return decodeUtf8(this.ptr, <usize>this.length);
  }

  /** A Uint8Array view (no copy). */
  view(): Uint8Array {
    return Uint8Array.wrap(this.buffer);
  }

  equals(other: Bytes): bool {
    return this.length == other.length && memory.compare(this.ptr, other.ptr, <usize>this.length) == 0;
  }

  /** True when the bytes equal those of `buf` (no allocation). */
  equalsBuffer(buf: ArrayBuffer): bool {
    return this.length == buf.byteLength && memory.compare(this.ptr, changetype<usize>(buf), <usize>this.length) == 0;
  }
}

/**
 * Byte-safe UTF-8 decoding: never traps, and every invalid or truncated
 * sequence becomes U+FFFD (so `"\xff"` reads as "\uFFFD", as in WHATWG
 * decoders). Use the *Bytes variants of the APIs for the exact bytes.
 */
export function decodeUtf8(ptr: usize, len: usize): string {
  if (len == 0) return "";
  let out = __new(len << 1, idof<String>());
  let o = out;
  let end = ptr + len;
  while (ptr < end) {
    let cp = <u32>load<u8>(ptr++);
    if (cp >= 0x80) {
      // lead byte: number of continuation bytes and the allowed range of the first one
      let need = 0;
      let lo: u32 = 0x80, hi: u32 = 0xBF;
      if (cp - 0xC2 < 30) { need = 1; cp &= 0x1F; }
      else if (cp - 0xE0 < 16) {
        need = 2; cp &= 0x0F;
        if (cp == 0) lo = 0xA0; else if (cp == 0xD) hi = 0x9F;
      } else if (cp - 0xF0 < 5) {
        need = 3; cp &= 0x07;
        if (cp == 0) lo = 0x90; else if (cp == 4) hi = 0x8F;
      } else need = -1;
      for (; need > 0; need--) {
        let b = ptr < end ? <u32>load<u8>(ptr) : 0;
        if (b < lo || b > hi) break; // maximal subpart: one U+FFFD, this byte read again
        lo = 0x80; hi = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
        ptr++;
      }
      if (need != 0) cp = 0xFFFD;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        store<u16>(o, <u16>(0xD800 | (cp >> 10)));
        o += 2;
        cp = 0xDC00 | (cp & 0x3FF);
      }
    }
    store<u16>(o, <u16>cp);
    o += 2;
  }
  return changetype<string>(__renew(out, o - out));
}

/** Decimal text of `v` (a small replacement for i64#toString). */
export function formatInt(v: i64): string {
  let p = intDigits(v);
  let n = DIGITS + 20 - p;
  let out = __new(n << 1, idof<String>());
  for (let i: usize = 0; i < n; i++) store<u16>(out + (i << 1), load<u8>(p + i));
  return changetype<string>(out);
}

/** Decodes an ArrayBuffer (null -> null). */
export function bufferToString(buf: ArrayBuffer | null): string | null {
  if (buf === null) return null;
  return decodeUtf8(changetype<usize>(buf), <usize>buf.byteLength);
}

/** Lower-cases ASCII A-Z in place (other bytes untouched). */
export function asciiLowerInPlace(p: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (c - 0x41 < 26) store<u8>(p + i, <u8>(c | 0x20));
  }
}

/** ASCII-lower-cased copy of `s` (non-ASCII characters untouched). Smaller than String#toLowerCase. */
export function asciiLower(s: string): string {
  let n = s.length;
  let out = changetype<string>(__new(<usize>n << 1, idof<String>()));
  let src = changetype<usize>(s), dst = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u16>(src + (<usize>i << 1));
    store<u16>(dst + (<usize>i << 1), <u16>(c - 0x41 < 26 ? c | 0x20 : c));
  }
  return out;
}

// ---- UTF-8 message builder (error and log lines as bytes: no string, no decoding) ----
// One message at a time (built, then taken with msgEnd); its managed buffer grows with each part.
// Held as a plain address, not a reference: a managed global would make the collector visit the
// globals (about 190 bytes of code in every filter), and nothing collects while a message is
// built (collections run only when an SDK callback returns).
let msgBuf: usize = 0;
// @ts-ignore: decorator
@lazy const DIGITS: usize = memory.data(20);

/** @internal True when the bytes [p, p + n) equal [q, q + m) (a plain loop: smaller than memory.compare). */
export function sameBytes(p: usize, n: usize, q: usize, m: usize): bool {
  if (n != m) return false;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) != load<u8>(q + i)) return false;
  }
  return true;
}

/** @internal Starts a new message. */
export function msgStart(): void {
  msgBuf = __new(0, idof<ArrayBuffer>());
}

/** @internal Appends `n` bytes at `p`. */
export function msgPut(p: usize, n: usize): void {
  let b = msgBuf;
  let at = <usize>changetype<ArrayBuffer>(b).byteLength;
  b = __renew(b, at + n);
  memory.copy(b + at, p, n);
  msgBuf = b;
}

/** @internal Appends one byte. */
export function msgByte(c: u32): void {
  store<u8>(DIGITS, <u8>c);
  msgPut(DIGITS, 1);
}

/** @internal Appends the UTF-8 of `s`. */
export function msgStr(s: string): void {
  let p = encodeScratch(s, 3);
  msgPut(p, argLen);
}

/** Writes the decimal text of `v` as ASCII ending at DIGITS + 20; returns its start. */
function intDigits(v: i64): usize {
  let u: u64 = v < 0 ? <u64>(-v) : <u64>v; // i64.MIN_VALUE negates to itself: 2^63 as u64
  let p = DIGITS + 20;
  do {
    store<u8>(--p, <u8>(0x30 + u % 10));
    u /= 10;
  } while (u);
  if (v < 0) store<u8>(--p, 0x2D);
  return p;
}

/** @internal Appends the decimal text of `v` (as formatInt). */
export function msgInt(v: i64): void {
  let p = intDigits(v);
  msgPut(p, DIGITS + 20 - p);
}

/** @internal The message built since msgStart (an exact-size buffer). */
export function msgEnd(): ArrayBuffer {
  return changetype<ArrayBuffer>(msgBuf);
}
