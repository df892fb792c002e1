// application/x-www-form-urlencoded: decoding a field for scanning, encoding a masked field back.
// Encoding follows the WHATWG URL standard's form serializer: ASCII letters, digits and `*-._`
// stay, a space becomes `+`, every other byte becomes `%XX` (upper-case hex).
import { ByteSink, addressOf, byteAt } from "./bytes";

function hexDigit(v: u32): u32 {
  return v < 10 ? 0x30 + v : 0x37 + v; // 0-9 A-F
}

/** Value of a hex digit, or -1. */
function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  let l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

function keptRaw(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 26 || c == 0x2a || c == 0x2d || c == 0x2e || c == 0x5f;
}

/** Appends byte c, form-encoded (the caller reserved 3 bytes). */
export function formEncodeByte(out: ByteSink, c: u32): void {
  if (keptRaw(c)) out.push(c);
  else if (c == 0x20) out.push(0x2b);
  else {
    out.push(0x25);
    out.push(hexDigit(c >> 4));
    out.push(hexDigit(c & 15));
  }
}

/**
 * The mask as written into a form body (configure time): only the bytes that would change how the
 * form is split or decoded are encoded (`& = ; + % #`, space, non-ASCII), so `[REDACTED]` stays
 * readable and still decodes to itself.
 */
export function formMaskOf(mask: ArrayBuffer): ArrayBuffer {
  let out = new ByteSink(mask.byteLength * 3 + 1);
  for (let i = 0; i < mask.byteLength; i++) {
    let c = byteAt(addressOf(mask), i);
    let structural = c == 0x26 || c == 0x3d || c == 0x3b || c == 0x2b || c == 0x25 || c == 0x23 || c <= 0x20 || c >= 0x7f;
    if (structural) formEncodeByte(out, c);
    else out.push(c);
  }
  return out.buffer.slice(0, out.length);
}

/** True when [from, to) holds a `%` or `+` (decoding would change it). */
export function isEncoded(p: usize, from: i32, to: i32): bool {
  for (let i = from; i < to; i++) {
    let c = byteAt(p, i);
    if (c == 0x25 || c == 0x2b) return true;
  }
  return false;
}

/**
 * Decodes [from, to) into `out` (cleared first): `+` is a space, `%XX` a byte; a `%` not followed
 * by two hex digits stays as it is. Returns the index in `out` of the first `=` that was written
 * as `=` (the key/value separator), or -1.
 */
export function formDecode(p: usize, from: i32, to: i32, out: ByteSink): i32 {
  out.clear();
  out.reserve(to - from);
  let separator = -1;
  let i = from;
  while (i < to) {
    let c = byteAt(p, i);
    if (c == 0x2b) c = 0x20;
    else if (c == 0x25 && i + 2 < to) {
      let hi = hexValue(byteAt(p, i + 1)), lo = hexValue(byteAt(p, i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push(<u32>(hi << 4 | lo));
        i += 3;
        continue;
      }
    } else if (c == 0x3d && separator < 0) separator = out.length;
    out.push(c);
    i++;
  }
  return separator;
}
