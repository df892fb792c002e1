// `pattern` rules: a small regular-expression language compiled, at configure time, into a
// position automaton (Glushkov): one state per character position of the expression and no empty
// transitions. At most 64 positions, so a set of states is one u64 and matching (nfa.ts) costs at
// most 64 x 64 bit steps per body byte, whatever the input: linear time, no backtracking.
//
// Supported: literal characters, `.` (any byte but a newline), classes `[a-z0-9_]` and `[^…]`,
// `\d \D \w \W \s \S`, `\t \n \r`, `\xHH`, an escaped punctuation character (`\.`, `\-`, …),
// groups `( … )`, alternation `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (n, m <= 64).
// Refused with a message: anchors, lookaround, backreferences, lazy or possessive quantifiers,
// empty groups or alternatives, an expression that matches the empty string, and anything that
// needs more than 64 positions once counted repetitions are written out.
import { formatInt } from "as-proxy-wasm";
import { ByteSet, bufferByte } from "./bytes";

export const MAX_POSITIONS = 64;
export const MAX_PATTERN_BYTES = 256;
const MAX_COUNT = 64;
const MAX_DEPTH = 16;

/** A compiled pattern. */
export class Pattern {
  positions: i32 = 0;
  /** byte -> the positions whose character class holds it */
  accepts: StaticArray<u64> = new StaticArray<u64>(256);
  /** position -> the positions that may come next */
  follow: StaticArray<u64> = new StaticArray<u64>(MAX_POSITIONS);
  first: u64 = 0;
  last: u64 = 0;
  /** byte -> 1 when a match can start with it */
  startBytes: ByteSet = new ByteSet();
}

/** A compiled sub-expression: can it match empty, its first and its last positions. */
class Fragment {
  constructor(public nullable: bool, public first: u64, public last: u64) {}
}

/** Compiles a pattern; `error` is empty on success. */
export class PatternCompiler {
  error: string = "";
  private src: ArrayBuffer = new ArrayBuffer(0);
  private at: i32 = 0;
  private depth: i32 = 0;
  private pat: Pattern = new Pattern();
  /** the byte set being built (256 bits) */
  private set: StaticArray<u64> = new StaticArray<u64>(4);

  compile(source: ArrayBuffer): Pattern | null {
    this.src = source;
    this.at = 0;
    this.depth = 0;
    this.error = "";
    this.pat = new Pattern();
    if (source.byteLength == 0 || source.byteLength > MAX_PATTERN_BYTES) { this.fail("expected 1..256 bytes"); return null; }
    let f = this.alternation();
    if (f === null) return null;
    if (this.at < source.byteLength) { this.fail("unbalanced ')'"); return null; }
    if (f.nullable) { this.fail("matches the empty string"); return null; }
    let pat = this.pat;
    pat.first = f.first;
    pat.last = f.last;
    let starts = pat.startBytes;
    for (let b = 0; b < 256; b++) unchecked(starts.table[b] = (unchecked(pat.accepts[b]) & f.first) != 0 ? 1 : 0);
    starts.prepare();
    return pat;
  }

  private fail(message: string): Fragment | null {
    if (this.error.length == 0) this.error = message + " (at byte " + formatInt(this.at) + ")";
    return null;
  }

  private more(): bool {
    return this.at < this.src.byteLength;
  }

  private peek(): u32 {
    return bufferByte(this.src, this.at);
  }

  // ---- structure ----

  private alternation(): Fragment | null {
    let f = this.sequence();
    while (f !== null && this.more() && this.peek() == 0x7c) { // |
      this.at++;
      let g = this.sequence();
      if (g === null) return null;
      f = new Fragment(f.nullable || g.nullable, f.first | g.first, f.last | g.last);
    }
    return f;
  }

  private sequence(): Fragment | null {
    let f: Fragment | null = null;
    while (this.more() && this.peek() != 0x7c && this.peek() != 0x29) { // | )
      let g = this.repeat();
      if (g === null) return null;
      f = f === null ? g : this.concat(f, g);
    }
    if (f === null) return this.fail("empty alternative or group");
    return f;
  }

  private concat(a: Fragment, b: Fragment): Fragment {
    this.link(a.last, b.first);
    return new Fragment(a.nullable && b.nullable, a.nullable ? a.first | b.first : a.first, b.nullable ? a.last | b.last : b.last);
  }

  /** Every position of `from` may be followed by every position of `to`. */
  private link(from: u64, to: u64): void {
    let follow = this.pat.follow;
    while (from != 0) {
      let x = <i32>ctz(from);
      from &= from - 1;
      unchecked(follow[x] = unchecked(follow[x]) | to);
    }
  }

  private loop(a: Fragment, nullable: bool): Fragment {
    this.link(a.last, a.first);
    return new Fragment(nullable, a.first, a.last);
  }

  /** An atom and its quantifier; counted repetitions compile the atom again for each copy. */
  private repeat(): Fragment | null {
    let atomStart = this.at;
    let a = this.atom();
    if (a === null || !this.more()) return a;
    let q = this.peek();
    let f: Fragment | null = a;
    if (q == 0x2a) { this.at++; f = this.loop(a, true); } // *
    else if (q == 0x2b) { this.at++; f = this.loop(a, a.nullable); } // +
    else if (q == 0x3f) { this.at++; f = new Fragment(true, a.first, a.last); } // ?
    else if (q == 0x7b) f = this.counted(a, atomStart); // {
    else return a;
    if (f !== null && this.more()) {
      let c = this.peek();
      if (c == 0x2a || c == 0x2b || c == 0x3f || c == 0x7b) return this.fail("a quantifier after a quantifier (lazy and possessive forms are not supported)");
    }
    return f;
  }

  private number(): i32 {
    let v = -1;
    while (this.more() && this.peek() - 0x30 < 10) {
      v = (v < 0 ? 0 : v * 10) + <i32>(this.peek() - 0x30);
      if (v > 1000) v = 1000;
      this.at++;
    }
    return v;
  }

  /** {n} {n,} {n,m} after the atom that started at atomStart (already compiled as `a`). */
  private counted(a: Fragment, atomStart: i32): Fragment | null {
    this.at++;
    let lo = this.number();
    let hi = lo;
    if (this.more() && this.peek() == 0x2c) { this.at++; hi = this.more() && this.peek() == 0x7d ? -2 : this.number(); }
    if (lo < 0 || hi == -1 || !this.more() || this.peek() != 0x7d) return this.fail("expected {n}, {n,} or {n,m}");
    this.at++;
    let after = this.at;
    if (lo > MAX_COUNT || hi > MAX_COUNT) return this.fail("a repetition count above 64");
    if (hi >= 0 && hi < lo) return this.fail("{n,m} with m < n");
    if (hi == 0) return this.fail("a repetition of zero times");
    // copies: lo required ones, then (hi - lo) optional ones, or a loop for {n,}
    let f: Fragment | null = lo > 0 ? a : new Fragment(true, a.first, a.last);
    let copies = hi == -2 ? max(lo, 1) : hi;
    for (let k = 1; k < copies && f !== null; k++) {
      this.at = atomStart;
      let b = this.atom();
      if (b === null) return null;
      f = this.concat(f, k < lo ? b : new Fragment(true, b.first, b.last));
    }
    if (f !== null && hi == -2) {
      if (lo <= 1) f = this.loop(f, lo == 0); // {0,} = *, {1,} = +
      else {
        this.at = atomStart;
        let b = this.atom();
        if (b === null) return null;
        f = this.concat(f, this.loop(new Fragment(true, b.first, b.last), true));
      }
    }
    this.at = after;
    return f;
  }

  private atom(): Fragment | null {
    let c = this.peek();
    if (c == 0x28) { // (
      this.at++;
      if (this.more() && this.peek() == 0x3f) return this.fail("group flags and lookaround are not supported");
      if (++this.depth > MAX_DEPTH) return this.fail("groups nested deeper than 16");
      let f = this.alternation();
      this.depth--;
      if (f === null) return null;
      if (!this.more() || this.peek() != 0x29) return this.fail("missing ')'");
      this.at++;
      return f;
    }
    if (c == 0x29) return this.fail("unbalanced ')'");
    if (c == 0x5e || c == 0x24) return this.fail("anchors (^ $) are not supported");
    if (c == 0x2a || c == 0x2b || c == 0x3f || c == 0x7b) return this.fail("nothing to repeat");
    this.clearSet();
    if (c == 0x5b) { if (!this.bracket()) return null; } // [
    else if (c == 0x2e) { this.at++; this.addRange(0, 255); this.removeByte(0x0a); } // .
    else if (c == 0x5c) { this.at++; if (!this.escape(false)) return null; }
    else if (c >= 0xc0) return this.utf8Sequence();
    else { this.at++; this.addRange(c, c); }
    return this.position();
  }

  /** A multi-byte UTF-8 character: one position per byte, in sequence. */
  private utf8Sequence(): Fragment | null {
    this.clearSet();
    this.addRange(this.peek(), this.peek());
    this.at++;
    let f = this.position();
    while (f !== null && this.more() && (this.peek() & 0xc0) == 0x80) {
      this.clearSet();
      this.addRange(this.peek(), this.peek());
      this.at++;
      let g = this.position();
      if (g === null) return null;
      f = this.concat(f, g);
    }
    return f;
  }

  /** A new position for the byte set being built. */
  private position(): Fragment | null {
    let pat = this.pat;
    if (pat.positions == MAX_POSITIONS) return this.fail("more than 64 character positions once repetitions are counted");
    let bit: u64 = <u64>1 << <u64>pat.positions;
    pat.positions++;
    let set = this.set;
    for (let b = 0; b < 256; b++) {
      if ((unchecked(set[b >> 6]) >> <u64>(b & 63)) & 1) unchecked(pat.accepts[b] = unchecked(pat.accepts[b]) | bit);
    }
    return new Fragment(false, bit, bit);
  }

  // ---- byte sets ----

  private clearSet(): void {
    for (let k = 0; k < 4; k++) unchecked(this.set[k] = 0);
  }

  private addRange(lo: u32, hi: u32): void {
    for (let b = lo; b <= hi; b++) unchecked(this.set[b >> 6] = unchecked(this.set[b >> 6]) | (<u64>1 << <u64>(b & 63)));
  }

  private removeByte(b: u32): void {
    unchecked(this.set[b >> 6] = unchecked(this.set[b >> 6]) & ~(<u64>1 << <u64>(b & 63)));
  }

  private invertSet(): void {
    for (let k = 0; k < 4; k++) unchecked(this.set[k] = ~unchecked(this.set[k]));
  }

  /** Adds \d \w \s (or their complements); false when `c` is no class letter. */
  private addClass(c: u32): bool {
    let lower = c | 0x20;
    if (lower != 0x64 && lower != 0x77 && lower != 0x73) return false; // d w s
    let keep = this.set;
    let saved0 = unchecked(keep[0]), saved1 = unchecked(keep[1]), saved2 = unchecked(keep[2]), saved3 = unchecked(keep[3]);
    this.clearSet();
    if (lower == 0x64) this.addRange(0x30, 0x39);
    else if (lower == 0x77) { this.addRange(0x30, 0x39); this.addRange(0x41, 0x5a); this.addRange(0x61, 0x7a); this.addRange(0x5f, 0x5f); }
    else { this.addRange(0x09, 0x0d); this.addRange(0x20, 0x20); }
    if (c != lower) this.invertSet(); // \D \W \S
    unchecked(keep[0] = unchecked(keep[0]) | saved0);
    unchecked(keep[1] = unchecked(keep[1]) | saved1);
    unchecked(keep[2] = unchecked(keep[2]) | saved2);
    unchecked(keep[3] = unchecked(keep[3]) | saved3);
    return true;
  }

  /**
   * The escape after a backslash (at `at`): adds its bytes to the set. In a bracket a single
   * byte is also left in `single` (it may start a range).
   */
  single: i32 = -1;

  private escape(inBracket: bool): bool {
    this.single = -1;
    if (!this.more()) { this.fail("a pattern ending with a backslash"); return false; }
    let c = this.peek();
    this.at++;
    if (this.addClass(c)) return true;
    let b: i32 = -1;
    if (c == 0x74) b = 0x09; // \t
    else if (c == 0x6e) b = 0x0a; // \n
    else if (c == 0x72) b = 0x0d; // \r
    else if (c == 0x78) { // \xHH
      let v = 0;
      for (let k = 0; k < 2; k++) {
        let h = this.more() ? this.peek() : 0;
        let d = h - 0x30 < 10 ? <i32>(h - 0x30) : (h | 0x20) - 0x61 < 6 ? <i32>((h | 0x20) - 0x61 + 10) : -1;
        if (d < 0) { this.fail("expected two hex digits after \\x"); return false; }
        v = v * 16 + d;
        this.at++;
      }
      b = v;
    } else if (c < 0x80 && (c - 0x30 >= 10) && ((c | 0x20) - 0x61 >= 26)) b = <i32>c; // escaped punctuation
    if (b < 0) {
      this.at--;
      this.fail(c - 0x30 < 10 ? "backreferences are not supported" : c == 0x62 || c == 0x42 ? "word boundaries (\\b) are not supported" : "unknown escape");
      return false;
    }
    this.single = b;
    this.addRange(<u32>b, <u32>b);
    return true;
  }

  /** [ … ] at `at`. */
  private bracket(): bool {
    this.at++;
    let negate = this.more() && this.peek() == 0x5e;
    if (negate) this.at++;
    let first = true;
    while (true) {
      if (!this.more()) { this.fail("missing ']'"); return false; }
      let c = this.peek();
      if (c == 0x5d && !first) break;
      first = false;
      let lo: i32;
      if (c == 0x5c) {
        this.at++;
        if (!this.escape(true)) return false;
        lo = this.single;
        if (lo < 0) continue; // a class such as \d
      } else {
        if (c >= 0x80) { this.fail("only ASCII characters in a class"); return false; }
        this.at++;
        lo = <i32>c;
        this.addRange(c, c);
      }
      // a range lo-hi
      if (this.at + 1 < this.src.byteLength && this.peek() == 0x2d && bufferByte(this.src, this.at + 1) != 0x5d) {
        this.at++;
        let h = this.peek();
        let hi: i32;
        if (h == 0x5c) {
          this.at++;
          if (!this.escape(true)) return false;
          hi = this.single;
          if (hi < 0) { this.fail("a class cannot end a range"); return false; }
        } else {
          if (h >= 0x80) { this.fail("only ASCII characters in a class"); return false; }
          this.at++;
          hi = <i32>h;
        }
        if (hi < lo) { this.fail("a range out of order"); return false; }
        this.addRange(<u32>lo, <u32>hi);
      }
    }
    this.at++; // ]
    if (negate) this.invertSet();
    return true;
  }
}
