// Formatting without the standard library's number printing (no dtoa is linked): decimal
// integers, and the UTF-8 message builder that error and log lines are assembled with.

import { encodeScratch, argLen } from "./args";

/** Decimal text of `v` (a small replacement for i64#toString). */
export function formatInt(v: i64): string {
  let p = intDigits(v);
  let n = DIGITS + 20 - p;
  let out = __new(n << 1, idof<String>());
  for (let i: usize = 0; i < n; i++) store<u16>(out + (i << 1), load<u8>(p + i));
  return changetype<string>(out);
}

// ---- the UTF-8 message builder (error and log lines as bytes: no string, no decoding) ----
// One message at a time (built, then taken with msgEnd); its managed buffer grows with each part.
// Held as a plain address, not a reference: a managed global would make the collector visit the
// globals (about 190 bytes of code in every filter), and nothing collects while a message is
// built (collections run only when an SDK callback returns).
let msgBuf: usize = 0;
// @ts-ignore: decorator
@lazy const DIGITS: usize = memory.data(20);

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
