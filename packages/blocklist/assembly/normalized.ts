// The comparable form of one host, as HostNormalizer writes it: its bytes, and what the
// normaliser noticed on the way (a port, an IPv6 literal, an empty label).
//
// Raw memory here: the normaliser appends one byte at a time and the trie reads the bytes in
// place, for every request. A plain ArrayBuffer kept and grown on demand, written with store(),
// costs no allocation per request and no bounds check per byte.

import { decodeUtf8 } from "as-proxy-wasm";

export class NormalizedHost {
  private buffer: ArrayBuffer = new ArrayBuffer(256);
  /** Number of bytes of the normalised host. */
  length: i32 = 0;
  /** The input had a port (or a ':' after the host). */
  hadPort: bool = false;
  /** The input was an IPv6 literal (written in RFC 5952 text, without brackets). */
  ipv6: bool = false;
  /** The input was empty, or had an empty label in the middle ("a..b"). */
  emptyLabel: bool = false;

  /** Address of the bytes; valid until the next normalisation. */
  get ptr(): usize {
    return changetype<usize>(this.buffer);
  }

  /** Empties the host for the next normalisation (the buffer is kept). */
  clear(): void {
    this.length = 0;
    this.hadPort = false;
    this.ipv6 = false;
    this.emptyLabel = false;
  }

  /** Appends one byte. */
  put(b: u32): void {
    if (this.length >= this.buffer.byteLength) this.grow();
    store<u8>(changetype<usize>(this.buffer) + <usize>this.length, <u8>b);
    this.length++;
  }

  /**
   * Appends the bytes [p + from, p + to) with A-Z lower-cased: the whole of an ASCII label, with
   * one capacity check (the common case, kept fast).
   */
  appendLowerAscii(p: usize, from: i32, to: i32): void {
    let at = this.length;
    let end = at + to - from;
    while (end > this.buffer.byteLength) this.grow();
    let out = changetype<usize>(this.buffer) + <usize>at - <usize>from;
    for (let i = from; i < to; i++) {
      let b = <u32>load<u8>(p + <usize>i);
      store<u8>(out + <usize>i, b - 0x41 < 26 ? b | 0x20 : b);
    }
    this.length = end;
  }

  private grow(): void {
    let bigger = new ArrayBuffer(this.buffer.byteLength * 2);
    memory.copy(changetype<usize>(bigger), changetype<usize>(this.buffer), <usize>this.length);
    this.buffer = bigger;
  }

  /** The byte at i (0 <= i < length). */
  byteAt(i: i32): u32 {
    return <u32>load<u8>(changetype<usize>(this.buffer) + <usize>i);
  }

  /** Drops the bytes after the first `length` (undoes appends). */
  truncate(length: i32): void {
    this.length = length;
  }

  /** A copy for log lines: at most 256 bytes, control and non-ASCII bytes as '?'. */
  toPrintable(): string {
    let n = min(this.length, 256);
    let copy = new ArrayBuffer(n);
    for (let i = 0; i < n; i++) {
      let c = this.byteAt(i);
      store<u8>(changetype<usize>(copy) + <usize>i, c < 0x20 || c >= 0x7f ? 0x3f : c);
    }
    return decodeUtf8(changetype<usize>(copy), n);
  }
}
