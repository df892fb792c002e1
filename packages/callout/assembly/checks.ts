// Checks on text from the configuration and from the answer.
// (Local until the SDK has shared ones: token and control-character checks, percent-encoding.)

/** True for an RFC 9110 token (a header name) of 1 to 256 characters. */
export function isToken(s: string): bool {
  if (s.length == 0 || s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) ||
      c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D || c == 0x2E ||
      c == 0x5E || c == 0x5F || c == 0x60 || c == 0x7C || c == 0x7E;
    if (!ok) return false;
  }
  return true;
}

/** True for a control character (CR, LF, NUL...; DEL), tab excepted. */
function isControl(c: u32): bool {
  return (c < 0x20 && c != 0x09) || c == 0x7F;
}

/** No control characters (CR, LF, NUL...); tab is allowed. */
export function isSafeValue(s: string): bool {
  for (let i = 0; i < s.length; i++) if (isControl(s.charCodeAt(i))) return false;
  return true;
}

/** As isSafeValue, for UTF-8 bytes. */
export function isSafeBytes(b: ArrayBuffer): bool {
  let bytes = Uint8Array.wrap(b);
  for (let i = 0; i < bytes.length; i++) if (isControl(unchecked(bytes[i]))) return false;
  return true;
}

/** Percent-encodes every byte outside RFC 3986 unreserved characters. */
export function percentEncode(b: ArrayBuffer): string {
  let n = <usize>b.byteLength;
  let p = changetype<usize>(b);
  let out = __new(n * 6, idof<String>()); // at most 3 UTF-16 units per byte
  let o = out;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    let l = c | 0x20;
    if (c - 0x30 < 10 || l - 0x61 < 26 || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E) {
      store<u16>(o, <u16>c);
      o += 2;
    } else {
      let h = c >> 4, d = c & 15;
      store<u16>(o, 0x25);
      store<u16>(o, <u16>(h + (h < 10 ? 0x30 : 0x37)), 2);
      store<u16>(o, <u16>(d + (d < 10 ? 0x30 : 0x37)), 4);
      o += 6;
    }
  }
  return changetype<string>(__renew(out, o - out));
}
