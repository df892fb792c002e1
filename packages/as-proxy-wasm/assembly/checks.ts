// The shared text checks: RFC 9110 tokens (header names, methods) and control characters (header
// values, names that end up in logs or paths). Every check takes a string, or UTF-8 bytes
// (`ArrayBuffer`, `Uint8Array`, `Bytes`), and reads it in place: nothing is decoded or allocated.
//
// The loops read code units with load<u8> / load<u16> through `unitsOf` (the one place where the
// two representations meet); they are the SDK's, so filters never read memory themselves.

import { argLen, unitsOf } from "./args";

// A set of ASCII characters as 128 bits: bit c of LO for c < 64, bit c - 64 of HI otherwise.
/** RFC 9110 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``. */
// @ts-ignore: decorator
@inline const TOKEN_LO: u64 = 0x03ff6cfa00000000;
// @ts-ignore: decorator
@inline const TOKEN_HI: u64 = 0x57ffffffc7fffffe;
/** C0 controls (0x00-0x1F) and DEL (0x7F); the tab (0x09) is taken out by `allowTab`. */
// @ts-ignore: decorator
@inline const CONTROL_LO: u64 = 0x00000000ffffffff;
// @ts-ignore: decorator
@inline const CONTROL_HI: u64 = 0x8000000000000000;

/** Code unit `i` of a string (UTF-16) or byte `i` of bytes at `p`. */
// @ts-ignore: decorator
@inline function unit<T>(p: usize, i: usize): u32 {
  return isString<T>() ? <u32>load<u16>(p + (i << 1)) : <u32>load<u8>(p + i);
}

/** True when the ASCII character `c` is in the set (lo, hi); false for any c >= 128. */
// @ts-ignore: decorator
@inline function inSet(c: u64, lo: u64, hi: u64): bool {
  let bits = c < 64 ? lo >> c : hi >> (c - 64);
  return c < 128 && (bits & 1) != 0;
}

/** @internal True when units [from, n) at `p` are all token characters. */
// @ts-ignore: decorator
@inline export function tokenUnits<T>(p: usize, from: usize, n: usize): bool {
  for (let i = from; i < n; i++) {
    if (!inSet(<u64>unit<T>(p, i), TOKEN_LO, TOKEN_HI)) return false;
  }
  return true;
}

/** @internal The index of the first unit of [0, n) at `p` in the set (lo, hi), or -1. */
// @ts-ignore: decorator
@inline export function indexInSet<T>(p: usize, n: usize, lo: u64, hi: u64): i32 {
  for (let i: usize = 0; i < n; i++) {
    if (inSet(<u64>unit<T>(p, i), lo, hi)) return <i32>i;
  }
  return -1;
}

/**
 * True when `text` is an RFC 9110 token: one or more of the letters, digits and
 * ``!#$%&'*+-.^_`|~`` (a header name, a method). `maxLength` bounds its length in code units
 * (strings) or bytes.
 */
export function isToken<T>(text: T, maxLength: i32 = i32.MAX_VALUE): bool {
  let p = unitsOf<T>(text);
  let n = argLen;
  return n > 0 && n <= <usize>maxLength && tokenUnits<T>(p, 0, n);
}

/**
 * The index of the first control character of `text` (0x00-0x1F or DEL 0x7F; the tab is allowed
 * unless `allowTab` is false), or -1 when it has none. Non-ASCII characters are not controls.
 */
export function indexOfControl<T>(text: T, allowTab: bool = true): i32 {
  let p = unitsOf<T>(text);
  let lo = allowTab ? CONTROL_LO & ~(<u64>1 << 9) : CONTROL_LO;
  return indexInSet<T>(p, argLen, lo, CONTROL_HI);
}

/** True when `text` holds a control character (see `indexOfControl`). */
export function hasControlChars<T>(text: T, allowTab: bool = true): bool {
  return indexOfControl<T>(text, allowTab) >= 0;
}

/**
 * True when `name` can be a header name: a token (see `isToken`), or `:` followed by one (a
 * pseudo-header such as `:path`). Case is not checked: Envoy lower-cases names.
 */
export function isHeaderName<T>(name: T): bool {
  let p = unitsOf<T>(name);
  let n = argLen;
  let from: usize = n > 1 && unit<T>(p, 0) == 0x3a ? 1 : 0;
  return n > 0 && tokenUnits<T>(p, from, n);
}

/**
 * True when `value` can be a header value: no NUL, CR or LF, the control characters Envoy
 * refuses in a value (it keeps the others, a tab included). Use `hasControlChars` for the
 * stricter check of a value you write yourself.
 */
export function isHeaderValue<T>(value: T): bool {
  let p = unitsOf<T>(value);
  let n = argLen;
  for (let i: usize = 0; i < n; i++) {
    let c = unit<T>(p, i);
    if (c == 0x0d || c == 0x0a || c == 0) return false; // a subset of the controls: written out, smaller than a set
  }
  return true;
}
