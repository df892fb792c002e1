// Host name normalisation, for the `:authority` of a request and for the config entries alike.
//
// The comparable form of a host: userinfo dropped, port stripped, lower-cased, trailing dots
// removed, IPv6 literals in canonical RFC 5952 text without brackets, Unicode labels in punycode
// ("xn--..."). Labels that are not valid UTF-8 are kept as raw bytes (lower-cased), so they simply
// match nothing, while the labels to their right still match (`\xff.example.com` is a subdomain
// of example.com).
//
// Reads the input bytes in place with load(): the authority is read once per request, and a
// copy into a typed array would cost an allocation per request.
import { IPV6_GROUPS, parseIpv6, writeIpv6 } from "./ipv6";
import { NormalizedHost } from "./normalized";
import { appendPunycode } from "./punycode";

const SPACE: u32 = 0x20;
const TAB: u32 = 0x09;
const DOT: u32 = 0x2e;
const COLON: u32 = 0x3a;
const AT: u32 = 0x40;
const OPEN_BRACKET: u32 = 0x5b;
const CLOSE_BRACKET: u32 = 0x5d;
/** What decodeUtf8At returns for a byte that does not start a valid UTF-8 sequence. */
const INVALID: u32 = u32.MAX_VALUE;

// @ts-ignore: decorator
@inline function byteAt(p: usize, i: i32): u32 {
  return <u32>load<u8>(p + <usize>i);
}

// @ts-ignore: decorator
@inline function lowerAscii(b: u32): u32 {
  return b - 0x41 < 26 ? b | 0x20 : b;
}

/**
 * Simple lower-casing and UTS-46-style width mapping for the scripts most used in IDNs, without
 * Unicode tables (they would triple the module size): Latin-1, Latin Extended-A, Greek, Cyrillic,
 * fullwidth ASCII. Returns '.' for the ideographic/fullwidth full stops (label separators).
 */
function mapCodePoint(c: u32): u32 {
  if (c < 0x80) return lowerAscii(c);
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 0x20;
  if (c >= 0x100 && c <= 0x17f) {
    if ((c <= 0x12f || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) && (c & 1) == 0) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && (c & 1) == 1) return c + 1;
    if (c == 0x178) return 0xff;
    return c;
  }
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 0x20;
  if (c >= 0x410 && c <= 0x42f) return c + 0x20;
  if (c >= 0x400 && c <= 0x40f) return c + 0x50;
  if (c >= 0xff21 && c <= 0xff3a) return c - 0xff21 + 0x61;
  if (c >= 0xff41 && c <= 0xff5a) return c - 0xff41 + 0x61;
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10 + 0x30;
  if (c == 0x3002 || c == 0xff0e || c == 0xff61) return DOT;
  return c;
}

/**
 * Decodes one UTF-8 sequence at p (n > 0 bytes available): its code point, or INVALID (only
 * shortest forms are valid, so the sequence's length follows from the code point).
 */
function decodeUtf8At(p: usize, n: i32): u32 {
  let b0 = byteAt(p, 0);
  let need = 0;
  let cp: u32 = 0;
  let lo: u32 = 0x80, hi: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { need = 2; cp = b0 & 0x0f; if (b0 == 0xe0) lo = 0xa0; else if (b0 == 0xed) hi = 0x9f; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { need = 3; cp = b0 & 0x07; if (b0 == 0xf0) lo = 0x90; else if (b0 == 0xf4) hi = 0x8f; }
  else return INVALID;
  if (need >= n) return INVALID;
  for (let j = 1; j <= need; j++) {
    let b = byteAt(p, j);
    if (b < lo || b > hi) return INVALID;
    lo = 0x80; hi = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  return cp;
}

/** Bytes of the UTF-8 sequence that decodeUtf8At read (1 for an invalid byte). */
function sequenceLength(cp: u32): i32 {
  return cp == INVALID || cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/**
 * Normalises hosts into one NormalizedHost that it reuses: allocated once (by the root), so a
 * request costs no allocation once the buffers have grown to the longest host seen.
 */
export class HostNormalizer {
  private host: NormalizedHost = new NormalizedHost();
  /** The code points of the label being read (grown on demand). */
  private codePoints: StaticArray<u32> = new StaticArray<u32>(256);
  private groups: StaticArray<u32> = new StaticArray<u32>(IPV6_GROUPS);

  /**
   * The comparable form of the host or authority `bytes` from byte `from` on (null reads as
   * empty). Never traps, whatever the bytes. The result is reused: it is valid until the next call.
   */
  normalize(bytes: ArrayBuffer | null, from: i32 = 0): NormalizedHost {
    this.host.clear();
    if (bytes === null) this.host.emptyLabel = true;
    else this.authority(changetype<usize>(bytes) + <usize>from, bytes.byteLength - from);
    return this.host;
  }

  private authority(p: usize, n: i32): void {
    let host = this.host;
    // optional whitespace around the value (HTTP/1 OWS) is not part of it
    while (n > 0 && (byteAt(p, 0) == SPACE || byteAt(p, 0) == TAB)) { p++; n--; }
    while (n > 0 && (byteAt(p, n - 1) == SPACE || byteAt(p, n - 1) == TAB)) n--;
    // userinfo (deprecated in authorities) is not part of the host
    for (let i = n - 1; i >= 0; i--) {
      if (byteAt(p, i) == AT) { p += <usize>(i + 1); n -= i + 1; break; }
    }
    if (n > 0 && byteAt(p, 0) == OPEN_BRACKET) { // [IPv6]:port
      let close = -1;
      for (let i = 1; i < n; i++) if (byteAt(p, i) == CLOSE_BRACKET) { close = i; break; }
      if (close > 0) {
        host.hadPort = close + 1 < n;
        this.ipLiteralOrRaw(p + 1, close - 1);
        return;
      }
    }
    let colons = 0, last = -1;
    for (let i = 0; i < n; i++) if (byteAt(p, i) == COLON) { colons++; last = i; }
    if (colons > 1) { // a bare IPv6 literal (no port possible without brackets)
      this.ipLiteralOrRaw(p, n);
      return;
    }
    if (colons == 1) { host.hadPort = true; n = last; }
    if (n == 0) { host.emptyLabel = true; return; }
    this.name(p, n);
  }

  /** [p, p+n) as a canonical IPv6 literal, or lower-cased as it is when it is not one. */
  private ipLiteralOrRaw(p: usize, n: i32): void {
    let host = this.host;
    if (parseIpv6(p, n, this.groups)) {
      host.ipv6 = true;
      writeIpv6(this.groups, host);
    } else {
      host.appendLowerAscii(p, 0, n);
    }
  }

  /** Normalises the DNS name [p, p+n), label by label (IDN -> punycode). */
  private name(p: usize, n: i32): void {
    let host = this.host;
    let i = 0;
    while (true) {
      let end = this.label(p, i, n);
      if (end < n) {
        // a separator: '.', or a full stop of another script (1 to 3 bytes)
        let sepLen = byteAt(p, end) == DOT ? 1 : sequenceLength(decodeUtf8At(p + <usize>end, n - end));
        if (end == i) host.emptyLabel = true;
        host.put(DOT);
        i = end + sepLen;
      } else break;
    }
    // trailing dots (FQDN form) are not part of the name
    let length = host.length;
    while (length > 0 && host.byteAt(length - 1) == DOT) length--;
    host.truncate(length);
  }

  /** Writes the label starting at `start`; returns where it ends (its separator, or n). */
  private label(p: usize, start: i32, n: i32): i32 {
    let host = this.host;
    let count = 0;
    let ascii = true, invalid = false;
    let i = start;
    while (i < n) {
      let b = byteAt(p, i);
      if (b == DOT) break;
      let c: u32;
      let length = 1;
      if (b < 0x80) c = lowerAscii(b);
      else {
        c = decodeUtf8At(p + <usize>i, n - i);
        length = sequenceLength(c);
        if (c == INVALID) invalid = true;
        else {
          c = mapCodePoint(c);
          if (c == DOT) break;
        }
      }
      if (c >= 0x80) ascii = false;
      this.keep(count++, c);
      i += length;
    }
    // ASCII: the code points are the lower-cased bytes; invalid UTF-8: the bytes as they are
    if (ascii || invalid) {
      host.appendLowerAscii(p, start, i);
    } else {
      let mark = host.length;
      if (!appendPunycode(host, this.codePoints, count)) {
        host.truncate(mark);
        host.appendLowerAscii(p, start, i);
      }
    }
    return i;
  }

  /** codePoints[at] = c, growing the array when needed. */
  // @ts-ignore: decorator
  @inline private keep(at: i32, c: u32): void {
    let cps = this.codePoints;
    if (at >= cps.length) {
      let bigger = new StaticArray<u32>(cps.length * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(cps), <usize>at << 2);
      this.codePoints = cps = bigger;
    }
    unchecked(cps[at] = c);
  }
}
