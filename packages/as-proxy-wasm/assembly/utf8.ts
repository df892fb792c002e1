// UTF-8: encoding AssemblyScript strings (UTF-16) to bytes, byte-safe decoding, ASCII case and
// byte comparison. These loops read and write memory directly (load / store): they are the SDK's
// hot paths, written once here so that nothing else does.

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

/** UTF-8 bytes of `s` in a new ArrayBuffer of the exact size. */
export function utf8Bytes(s: string): ArrayBuffer {
  let n = <usize>s.length;
  let b = __new(n * 3, idof<ArrayBuffer>()); // at most 3 bytes per UTF-16 unit, then shrunk
  return changetype<ArrayBuffer>(__renew(b, utf8Encode(changetype<usize>(s), n, b)));
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

/** True when the bytes [p, p + n) equal [q, q + m) (a plain loop: smaller than memory.compare). */
export function sameBytes(p: usize, n: usize, q: usize, m: usize): bool {
  if (n != m) return false;
  for (let i: usize = 0; i < n; i++) {
    if (load<u8>(p + i) != load<u8>(q + i)) return false;
  }
  return true;
}

