// jsonField rules: finds the values of the configured keys by following the body's JSON tokens
// (strings and their escapes, objects, arrays), in a pass of its own. Markers and detectors run
// on the raw bytes afterwards and can never throw this tracking off, whatever they contain.
//
// JSON carried inside a JSON string (`{"body":"{\"password\":\"x\"}"}`) is followed one level
// deep: a string whose content starts with `{` or `[` and holds an escaped quote is decoded and
// walked the same way; the spans found are mapped back to the raw bytes.
import { ByteSet, ByteSink, IntList, byteAt, bytesEqual, skipUntil } from "./bytes";
import { MaskKind, RangeList } from "./ranges";
import { Rules } from "./rules";

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const COLON: u32 = 0x3a;

function isJsonSpace(b: u32): bool {
  return b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d;
}

function skipSpace(p: usize, n: i32, i: i32): i32 {
  while (i < n && isJsonSpace(byteAt(p, i))) i++;
  return i;
}

/** The bytes a string scan stops at: a quote and a backslash (8 bytes per step, see skipUntil). */
function stringStops(): ByteSet {
  let set = new ByteSet();
  unchecked(set.table[QUOTE] = 1);
  unchecked(set.table[BACKSLASH] = 1);
  set.prepare();
  return set;
}

// @ts-ignore: decorator
@lazy const STRING_STOPS: ByteSet = stringStops();

/** Index of the quote closing a string whose content starts at i (n when unterminated). */
function stringEnd(p: usize, n: i32, i: i32): i32 {
  while (true) {
    i = skipUntil(STRING_STOPS, p, i, n);
    if (i >= n) return n;
    if (byteAt(p, i) == QUOTE) return i;
    i += 2; // an escape
  }
}

/** Index just past the object or array starting at v. */
function compositeEnd(p: usize, n: i32, v: i32): i32 {
  let depth = 0;
  let e = v;
  while (e < n) {
    let b = byteAt(p, e++);
    if (b == QUOTE) e = stringEnd(p, n, e) + 1;
    else if (b == 0x7b || b == 0x5b) depth++; // { [
    else if (b == 0x7d || b == 0x5d) { if (--depth == 0) break; } // } ]
  }
  return min(e, n);
}

/** Index past a number, true, false or null at v. */
function scalarEnd(p: usize, n: i32, v: i32): i32 {
  let e = v;
  while (e < n) {
    let b = byteAt(p, e);
    if (b == 0x2c || b == 0x7d || b == 0x5d || isJsonSpace(b)) break; // , } ]
    e++;
  }
  return e;
}

function isNull(p: usize, n: i32, v: i32, e: i32): bool {
  return e - v == 4 && byteAt(p, v) == 0x6e && byteAt(p, v + 1) == 0x75 && byteAt(p, v + 2) == 0x6c && byteAt(p, v + 3) == 0x6c;
}

/** Finds the jsonField values of a body. One per Scanner, reused from body to body. */
export class JsonFields {
  /** A decoded JSON string holding JSON, and for each of its bytes the raw index it came from. */
  private decoded: ByteSink = new ByteSink(256);
  private rawIndex: IntList = new IntList();
  /** Width in input bytes of the escape last decoded by unescape(). */
  private width: i32 = 2;
  private out: RangeList = new RangeList();
  private nested: bool = false;

  constructor(private rules: Rules) {}

  /** The byte the JSON escape `\\c` (c at i) decodes to; sets `width` to the input bytes it takes. */
  private unescape(p: usize, n: i32, i: i32): u32 {
    let c = byteAt(p, i);
    this.width = 2;
    switch (c) {
      case 0x6e: return 0x0a;
      case 0x72: return 0x0d;
      case 0x74: return 0x09;
      case 0x62: return 0x08;
      case 0x66: return 0x0c;
      case 0x75: {
        // \uXXXX: an ASCII code point decodes to its byte, others to a placeholder (never a key byte)
        this.width = min(6, n - i + 1);
        let v: u32 = 0;
        for (let k = 1; k <= 4 && i + k < n; k++) {
          let h = byteAt(p, i + k);
          let d: u32 = h - 0x30 < 10 ? h - 0x30 : (h | 0x20) - 0x61 < 6 ? (h | 0x20) - 0x61 + 10 : 0;
          v = v << 4 | d;
        }
        return v < 0x80 ? v : 0x80;
      }
    }
    return c;
  }

  /** Adds the spans of the masked fields' values in [p, p+n) to `out`, in order. */
  find(p: usize, n: i32, out: RangeList): void {
    this.out = out;
    this.nested = false;
    this.walk(p, n);
  }

  private walk(p: usize, n: i32): void {
    let i = 0;
    while (true) {
      i = skipUntil(STRING_STOPS, p, i, n); // outside strings a backslash is no escape: skipped
      if (i >= n) return;
      if (byteAt(p, i) != QUOTE) { i++; continue; }
      let q = stringEnd(p, n, i + 1);
      let j = skipSpace(p, n, q + 1);
      if (q < n && j < n && byteAt(p, j) == COLON) {
        let rule = this.rules.fieldRule(p + <usize>(i + 1), q - i - 1);
        i = rule >= 0 ? this.value(p, n, j + 1, rule) : j + 1;
        continue;
      }
      if (!this.nested && q < n) this.walkNested(p, i + 1, q);
      i = q + 1;
    }
  }

  /** The value of a masked field at v; returns the index past it. */
  private value(p: usize, n: i32, v: i32, rule: i32): i32 {
    v = skipSpace(p, n, v);
    if (v >= n) return v;
    let c = byteAt(p, v);
    if (c == QUOTE) {
      let k = stringEnd(p, n, v + 1);
      let mask = this.rules.mask;
      let alreadyMasked = bytesEqual(p + <usize>(v + 1), k - v - 1, mask);
      if (k > v + 1 && !alreadyMasked) this.add(v + 1, k, rule, MaskKind.Plain);
      return k < n ? k + 1 : n;
    }
    let e = c == 0x7b || c == 0x5b ? compositeEnd(p, n, v) : scalarEnd(p, n, v);
    if (e > v && !isNull(p, n, v, e)) this.add(v, e, rule, this.nested ? MaskKind.EscapedQuoted : MaskKind.Quoted);
    return e;
  }

  private add(start: i32, end: i32, rule: i32, kind: MaskKind): void {
    if (this.nested) {
      start = this.rawIndex.get(start);
      end = this.rawIndex.get(end);
    }
    this.out.add(start, end, rule, kind);
  }

  /** A JSON string [s, q) whose content is JSON with escaped quotes: decoded and walked. */
  private walkNested(p: usize, s: i32, q: i32): void {
    let f = skipSpace(p, q, s);
    if (f >= q) return;
    let c = byteAt(p, f);
    if (c != 0x7b && c != 0x5b) return; // { [
    let d = this.decoded;
    let map = this.rawIndex;
    d.clear();
    map.clear();
    d.reserve(q - s);
    let sawQuote = false;
    let i = s;
    while (i < q) {
      map.push(i);
      let b = byteAt(p, i);
      if (b == BACKSLASH && i + 1 < q) {
        b = this.unescape(p, q, i + 1);
        if (b == QUOTE) sawQuote = true;
        i += this.width;
      } else i++;
      d.push(b);
    }
    map.push(q);
    if (!sawQuote) return;
    this.nested = true;
    this.walk(d.start, d.length);
    this.nested = false;
  }
}
