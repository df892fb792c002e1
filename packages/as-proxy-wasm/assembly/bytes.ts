// Bytes: pre-encoded UTF-8 (a header name, a value) prepared once, so hot paths never encode.

import { utf8Bytes, asciiLowerInPlace, decodeUtf8 } from "./utf8";

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

