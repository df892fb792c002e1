// Percent-encoding (RFC 3986 section 2.1) of values that go into a URL, e.g. a request header's
// value placed in the path of an http call. The encoder writes the string's UTF-16 units itself
// (one allocation of the largest size, then shrunk): building it with `+=` would allocate once per
// byte.

import { argPtr, argLen } from "./args";

/** True for an RFC 3986 unreserved character: ALPHA, DIGIT, `-`, `.`, `_`, `~`. */
// @ts-ignore: decorator
@inline function isUnreserved(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 26 || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E;
}

/** An upper-case hex digit for 0..15. */
// @ts-ignore: decorator
@inline function hexDigit(d: u32): u16 {
  return <u16>(d + (d < 10 ? 0x30 : 0x37));
}

/** The percent-encoding of bytes [p, p + n): unreserved bytes kept, every other one as %XX. */
function encodeBytes(p: usize, n: usize, dotsToo: bool): string {
  let out = __new(n * 6, idof<String>()); // at most 3 UTF-16 units (6 bytes) per byte
  let o = out;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (isUnreserved(c) && !(dotsToo && c == 0x2E)) {
      store<u16>(o, <u16>c);
      o += 2;
    } else {
      store<u16>(o, 0x25); // %
      store<u16>(o, hexDigit(c >> 4), 2);
      store<u16>(o, hexDigit(c & 15), 4);
      o += 6;
    }
  }
  return changetype<string>(__renew(out, o - out));
}

/**
 * `text` (a string, encoded as UTF-8, or UTF-8 bytes: `ArrayBuffer`, `Uint8Array`, `Bytes`)
 * percent-encoded: the unreserved characters (letters, digits, `-._~`) are kept, every other
 * byte becomes `%XX` (upper-case hex). `/`, `?`, `#` and `%` are encoded too, so the result
 * stays inside one path segment or query value: `percentEncode("a b/c")` is `a%20b%2Fc`.
 */
export function percentEncode<T>(text: T): string {
  let p = argPtr<T>(text, 2);
  return encodeBytes(p, argLen, false);
}

/**
 * `text` percent-encoded for use as ONE path segment: as `percentEncode`, and a value made only
 * of dots (`.`, `..`, `...`) has every dot encoded (`%2E%2E`), so it can never become a
 * dot-segment that climbs the path (`/users/../admin`). An empty value stays empty.
 */
export function percentEncodeSegment<T>(text: T): string {
  let p = argPtr<T>(text, 2);
  let n = argLen;
  let onlyDots = n > 0;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) != 0x2E) {
      onlyDots = false;
      break;
    }
  }
  return encodeBytes(p, n, onlyDots);
}
