// Raw byte access for the scanner's hot loops.
//
// Why load/store here: the scanner reads every byte of bodies up to 16 MiB. Reading through a
// Uint8Array costs a bounds check and a field load per byte, and views of a host buffer would have
// to be allocated per body. These few helpers read the body in place from its address; everything
// else in the filter goes through them instead of touching memory itself.

/** The byte at p + i (no bounds check: callers keep i in [0, length)). */
// @ts-ignore: decorator
@inline export function byteAt(p: usize, i: i32): u32 {
  return <u32>load<u8>(p + <usize>i);
}

/** Four bytes at p + i, little-endian (the caller checked that they exist). */
// @ts-ignore: decorator
@inline export function wordAt(p: usize, i: i32): u32 {
  return load<u32>(p + <usize>i);
}

/**
 * Entry i of a table (StaticArray). The optimizer does not always inline StaticArray's indexer in
 * these loops (a call per body byte), so the tables are read here directly.
 */
// @ts-ignore: decorator
@inline export function entry8(table: StaticArray<u8>, i: u32): u32 {
  return <u32>load<u8>(changetype<usize>(table) + <usize>i);
}

// @ts-ignore: decorator
@inline export function entry32(table: StaticArray<i32>, i: i32): i32 {
  return load<i32>(changetype<usize>(table) + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline export function setEntry32(table: StaticArray<i32>, i: i32, v: i32): void {
  store<i32>(changetype<usize>(table) + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline export function entry64(table: StaticArray<u64>, i: u32): u64 {
  return load<u64>(changetype<usize>(table) + (<usize>i << 3));
}

/**
 * A set of bytes: those that can start a rule, or a pattern match. When it has one or two members
 * (a lab-style config: one marker) the scan tests 8 body bytes per step (`words`).
 */
export class ByteSet {
  /** byte -> non-zero when in the set (the value may carry more bits, e.g. Trigger bits) */
  table: StaticArray<u8> = new StaticArray<u8>(256);
  /** The members, each repeated in the 8 bytes of a word (one member: both the same). */
  word1: u64 = 0;
  word2: u64 = 0;
  words: bool = false;

  /** Builds the word-at-a-time tables; call once `table` is filled. */
  prepare(): void {
    let members = 0;
    for (let b = 0; b < 256; b++) {
      if (unchecked(this.table[b]) == 0) continue;
      let w = <u64>b * 0x0101010101010101;
      if (members == 0) this.word1 = w;
      this.word2 = w;
      members++;
    }
    this.words = members > 0 && members <= 2;
  }
}

/** The first index in [i, limit) whose byte is in `set`, or limit. */
export function skipUntil(set: ByteSet, p: usize, i: i32, limit: i32): i32 {
  if (set.words) {
    // 8 bytes per step: a byte equal to a member becomes zero after the xor, and
    // (x - 0x01…) & ~x & 0x80… flags zero bytes; the lowest flag is always exact
    let w1 = set.word1, w2 = set.word2;
    if (w1 == w2) {
      while (i + 16 <= limit) { // one member, two words per step
        let x = load<u64>(p + <usize>i) ^ w1;
        let y = load<u64>(p + <usize>i, 8) ^ w1;
        let zx = (x - 0x0101010101010101) & ~x & 0x8080808080808080;
        let zy = (y - 0x0101010101010101) & ~y & 0x8080808080808080;
        if ((zx | zy) != 0) return i + (zx != 0 ? <i32>(ctz(zx) >> 3) : 8 + <i32>(ctz(zy) >> 3));
        i += 16;
      }
    }
    while (i + 8 <= limit) {
      let w = load<u64>(p + <usize>i);
      let x = w ^ w1, y = w ^ w2;
      let zero = (((x - 0x0101010101010101) & ~x) | ((y - 0x0101010101010101) & ~y)) & 0x8080808080808080;
      if (zero != 0) return i + <i32>(ctz(zero) >> 3);
      i += 8;
    }
  }
  let t = changetype<usize>(set.table);
  while (i < limit && load<u8>(t + <usize>load<u8>(p + <usize>i)) == 0) i++;
  return i;
}

/** Address of the first byte of a buffer. */
// @ts-ignore: decorator
@inline export function addressOf(b: ArrayBuffer): usize {
  return changetype<usize>(b);
}

/** The byte at i of a buffer (bounds are the caller's). */
// @ts-ignore: decorator
@inline export function bufferByte(b: ArrayBuffer, i: i32): u32 {
  return <u32>load<u8>(changetype<usize>(b) + <usize>i);
}

/** Sets byte i of a 256-entry table. */
// @ts-ignore: decorator
@inline export function setByte(b: ArrayBuffer, i: i32, v: u8): void {
  store<u8>(changetype<usize>(b) + <usize>i, v);
}

/** Bytes [p, p+n) equal q's first n bytes with ASCII A-Z lower-cased on the p side. */
export function lowerEquals(p: usize, q: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    let a = byteAt(p, i);
    if (a - 0x41 < 26) a |= 0x20;
    if (a != byteAt(q, i)) return false;
  }
  return true;
}

/** Bytes [p, p+n) equal the buffer b. */
export function bytesEqual(p: usize, n: i32, b: ArrayBuffer): bool {
  return n == b.byteLength && memory.compare(p, changetype<usize>(b), <usize>n) == 0;
}

/** A growable byte buffer, reused from one body to the next (it only ever grows). */
export class ByteSink {
  buffer: ArrayBuffer;
  length: i32 = 0;

  constructor(capacity: i32) {
    this.buffer = new ArrayBuffer(capacity);
  }

  get start(): usize {
    return changetype<usize>(this.buffer);
  }

  clear(): void {
    this.length = 0;
  }

  /** Room for `extra` more bytes. */
  reserve(extra: i32): void {
    let need = this.length + extra;
    let cap = this.buffer.byteLength;
    if (need <= cap) return;
    while (cap < need) cap <<= 1;
    let grown = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.buffer), <usize>this.length);
    this.buffer = grown;
  }

  /** Appends [src, src+n). */
  write(src: usize, n: i32): void {
    if (n <= 0) return;
    this.reserve(n);
    memory.copy(changetype<usize>(this.buffer) + <usize>this.length, src, <usize>n);
    this.length += n;
  }

  writeBuffer(b: ArrayBuffer): void {
    this.write(changetype<usize>(b), b.byteLength);
  }

  /** Appends one byte (the caller reserved room). */
  push(c: u32): void {
    store<u8>(changetype<usize>(this.buffer) + <usize>this.length, <u8>c);
    this.length++;
  }
}

/** A growable list of i32, reused across bodies. */
export class IntList {
  items: StaticArray<i32> = new StaticArray<i32>(16);
  length: i32 = 0;

  clear(): void {
    this.length = 0;
  }

  push(v: i32): void {
    let n = this.length;
    if (n == this.items.length) {
      let grown = new StaticArray<i32>(n << 1);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.items), <usize>n << 2);
      this.items = grown;
    }
    unchecked(this.items[n] = v);
    this.length = n + 1;
  }

  get(i: i32): i32 {
    return unchecked(this.items[i]);
  }

  set(i: i32, v: i32): void {
    unchecked(this.items[i] = v);
  }

  pop(): i32 {
    return unchecked(this.items[--this.length]);
  }
}
