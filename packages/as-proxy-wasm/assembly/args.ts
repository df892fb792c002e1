// Zero-allocation argument encoding for host calls: strings are UTF-8 encoded into four raw
// scratch blocks, byte types are passed through. `argLen` carries the byte length of the last
// argument encoded: a second result that every host-call wrapper reads right after (see the
// README's "Errors and results": returning a pair would allocate or cost a memory round trip).

import { utf8Encode } from "./utf8";
import { Bytes } from "./bytes";

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

/** UTF-8 encodes `s` into scratch slot `slot`; returns the pointer, sets argLen. */
export function encodeScratch(s: string, slot: i32): usize {
  let n = <usize>s.length;
  let p = scratchBlock(slot, n * 3 + 1);
  argLen = utf8Encode(changetype<usize>(s), n, p);
  return p;
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

