// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.
//
// Size notes: values keep a parent link and their index instead of a path
// string (paths are only built for an error message), strings without
// escapes are decoded straight from the input, and numbers are read as
// mantissa + decimal exponent with one scaling step.

import { decodeUtf8, utf8Bytes, formatInt } from "./mem";

export enum JsonKind { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

export function jsonKindName(k: JsonKind): string {
  switch (k) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return "boolean";
    case JsonKind.Number: return "number";
    case JsonKind.String: return "string";
    case JsonKind.Array: return "array";
    default: return "object";
  }
}

class JsonDoc {
  err: string | null = null;
  constructor(public rootName: string) {}
  fail(msg: string): void {
    if (this.err === null) this.err = msg;
  }
}

/** A parsed JSON value with its path (for messages). */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  numValue: f64 = 0;
  strValue: string = "";
  items: JsonValue[] | null = null;
  keys: string[] | null = null;
  private used: StaticArray<bool> | null = null;
  /** @internal set when an object was reached through the typed API (unknown-key checks). */
  visited: bool = false;
  /** @internal the containing array/object (null for the root) and the index in it. */
  parent: JsonValue | null = null;
  /** @internal */
  index: i32 = 0;

  constructor(private doc: JsonDoc) {}

  /** The path of this value for messages: `config.request.set[0].name`. */
  get path(): string {
    let p = this.parent;
    if (p === null) return this.doc.rootName;
    let ks = p.keys;
    if (ks !== null) return p.path + "." + unchecked(ks[this.index]);
    return p.path + "[" + formatInt(this.index) + "]";
  }

  /** True once any parse or read error was recorded (anywhere in the document). */
  hasError(): bool { return this.doc.err !== null; }
  /** The first error message, or "". */
  error(): string { let e = this.doc.err; return e === null ? "" : e; }
  /** Records a custom validation error at this value's path (first error wins). */
  fail(message: string): void {
    if (this.doc.err === null) this.doc.err = this.path + ": " + message;
  }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get length(): i32 {
    let it = this.items;
    return it === null ? 0 : it.length;
  }

  private expect(kind: JsonKind, what: string): bool {
    if (this.kind == kind) return true;
    this.fail("expected " + what + ", got " + jsonKindName(this.kind));
    return false;
  }

  /** This value as a string (error + "" otherwise). */
  asString(): string { return this.expect(JsonKind.String, "string") ? this.strValue : ""; }
  asBool(): bool { return this.expect(JsonKind.Bool, "boolean") ? this.boolValue : false; }
  asNumber(): f64 { return this.expect(JsonKind.Number, "number") ? this.numValue : 0; }
  /** An integer within [min, max] (error otherwise). */
  asInt(min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    if (!this.expect(JsonKind.Number, "integer")) return 0;
    let v = this.numValue;
    if (v != Math.floor(v) || Math.abs(v) > 9007199254740991) {
      this.fail("expected integer, got " + (v != v || Math.abs(v) > 9007199254740991 ? "a number out of range" : "a fraction"));
      return 0;
    }
    let i = <i64>v;
    if (i < min || i > max) {
      this.fail("expected integer in [" + formatInt(min) + ", " + formatInt(max) + "], got " + formatInt(i));
      return 0;
    }
    return i;
  }
  /** Array elements (error + [] otherwise). */
  asArray(): JsonValue[] {
    if (!this.expect(JsonKind.Array, "array")) return [];
    let it = this.items;
    return it === null ? [] : it;
  }
  /** This value as an object (error + null otherwise); marks it for unknown-key checks. */
  asObject(): JsonValue | null {
    if (!this.expect(JsonKind.Object, "object")) return null;
    this.visited = true;
    return this;
  }

  /** Element `i` of an array, or null. */
  at(i: i32): JsonValue | null {
    let it = this.items;
    if (it === null || this.kind != JsonKind.Array || <u32>i >= <u32>it.length) return null;
    return unchecked(it[i]);
  }

  /** Member `key` of an object (marks it as known), or null when absent / not an object. */
  get(key: string): JsonValue | null {
    let ks = this.keys, it = this.items;
    if (ks === null || it === null) return null;
    this.visited = true;
    for (let i = 0, n = min(ks.length, it.length); i < n; i++) {
      if (unchecked(ks[i]) == key) {
        let u = this.used;
        if (u !== null) unchecked(u[i] = true);
        return unchecked(it[i]);
      }
    }
    return null;
  }

  has(key: string): bool { return this.get(key) !== null; }

  /** Object keys (all marked as known: use for free-form maps). */
  keyList(): string[] {
    let ks = this.keys;
    if (ks === null) return [];
    this.visited = true;
    let u = this.used;
    if (u !== null) for (let i = 0, n = u.length; i < n; i++) unchecked(u[i] = true);
    return ks;
  }

  private need(key: string): JsonValue | null {
    if (!this.expect(JsonKind.Object, "object")) return null;
    let v = this.get(key);
    if (v === null) this.fail("missing required key \"" + key + "\"");
    return v;
  }

  /** Required string member. */
  str(key: string): string {
    let v = this.need(key);
    return v === null ? "" : v.asString();
  }
  /** Optional string member (`fallback` when absent; error when present with another type). */
  optStr(key: string, fallback: string = ""): string {
    let v = this.get(key);
    return v === null ? fallback : v.asString();
  }
  bool(key: string): bool {
    let v = this.need(key);
    return v === null ? false : v.asBool();
  }
  optBool(key: string, fallback: bool = false): bool {
    let v = this.get(key);
    return v === null ? fallback : v.asBool();
  }
  num(key: string): f64 {
    let v = this.need(key);
    return v === null ? 0 : v.asNumber();
  }
  optNum(key: string, fallback: f64 = 0): f64 {
    let v = this.get(key);
    return v === null ? fallback : v.asNumber();
  }
  int(key: string, min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    let v = this.need(key);
    return v === null ? 0 : v.asInt(min, max);
  }
  optInt(key: string, fallback: i64 = 0, min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    let v = this.get(key);
    return v === null ? fallback : v.asInt(min, max);
  }
  /** Required array member. */
  arr(key: string): JsonValue[] {
    let v = this.need(key);
    return v === null ? [] : v.asArray();
  }
  /** Optional array member ([] when absent). */
  optArr(key: string): JsonValue[] {
    let v = this.get(key);
    return v === null ? [] : v.asArray();
  }
  /** Required object member. */
  obj(key: string): JsonValue | null {
    let v = this.need(key);
    return v === null ? null : v.asObject();
  }
  /** Optional object member (null when absent). */
  optObj(key: string): JsonValue | null {
    let v = this.get(key);
    return v === null ? null : v.asObject();
  }
  /** Optional array of strings. */
  optStrings(key: string): string[] {
    let a = this.optArr(key);
    let out = new Array<string>(a.length);
    for (let i = 0; i < a.length; i++) unchecked(out[i] = unchecked(a[i]).asString());
    return out;
  }

  /**
   * Records an error for the first key, in any object reached through this
   * API, that no read asked for (e.g. `config.request: unknown key "sett"`).
   * Objects never read (free-form values) are not checked.
   */
  rejectUnknownKeys(): void {
    let it = this.items;
    if (this.doc.err !== null || it === null) return;
    let ks = this.keys;
    if (ks !== null) {
      let u = this.used;
      if (!this.visited || u === null) return;
      for (let i = 0, n = u.length; i < n; i++) {
        if (!unchecked(u[i])) {
          this.fail("unknown key \"" + unchecked(ks[i]) + "\"");
          return;
        }
      }
    }
    for (let i = 0, n = it.length; i < n; i++) unchecked(it[i]).rejectUnknownKeys();
  }

  /** @internal */
  initObject(keys: string[], items: JsonValue[]): void {
    this.kind = JsonKind.Object;
    this.keys = keys;
    this.items = items;
    this.used = new StaticArray<bool>(keys.length);
  }
}

// @ts-ignore: decorator
@inline const MAX_DEPTH = 64;

class Parser {
  pos: usize;
  constructor(public start: usize, public end: usize, public doc: JsonDoc) {
    this.pos = start;
  }

  /** Records `config: invalid JSON at line L, column C: what` for the current position. */
  fail(what: string): void {
    let line = 1, col = 1;
    for (let p = this.start; p < this.pos; p++) {
      if (load<u8>(p) == 0x0A) { line++; col = 1; } else col++;
    }
    this.doc.fail(
      this.doc.rootName + ": invalid JSON at line " + formatInt(line) + ", column " + formatInt(col) + ": " + what,
    );
  }

  /** The byte at the current position, or -1 at the end. */
  peek(): i32 {
    return this.pos < this.end ? <i32>load<u8>(this.pos) : -1;
  }

  /** Skips white space; returns the next byte (or -1). */
  ws(): i32 {
    while (this.pos < this.end) {
      let c = <i32>load<u8>(this.pos);
      if (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) return c;
      this.pos++;
    }
    return -1;
  }

  /** Consumes `word` (ASCII) when it is next. */
  lit(word: string): bool {
    let n = <usize>word.length;
    if (this.pos + n > this.end) return false;
    for (let i: usize = 0; i < n; i++) {
      if (<u32>load<u8>(this.pos + i) != <u32>load<u16>(changetype<usize>(word) + (i << 1))) return false;
    }
    this.pos += n;
    return true;
  }

  value(parent: JsonValue | null, index: i32, depth: i32): JsonValue {
    let v = new JsonValue(this.doc);
    v.parent = parent;
    v.index = index;
    if (depth > MAX_DEPTH) { this.fail("nesting deeper than 64"); return v; }
    let c = this.ws();
    if (c == 0x7B) { // {
      this.pos++;
      let keys = new Array<string>();
      let items = new Array<JsonValue>();
      v.kind = JsonKind.Object;
      v.keys = keys; // set first: the children's paths read them
      v.items = items;
      if (this.ws() == 0x7D) { this.pos++; v.initObject(keys, items); return v; }
      while (true) {
        if (this.ws() != 0x22) { this.fail("expected '\"' to start an object key"); return v; }
        let k = this.string();
        if (this.doc.err !== null) return v;
        for (let i = 0, n = keys.length; i < n; i++) {
          if (unchecked(keys[i]) == k) { v.fail("duplicate key \"" + k + "\""); return v; }
        }
        if (this.ws() != 0x3A) { this.fail("expected ':' after object key"); return v; }
        this.pos++;
        keys.push(k);
        let child = this.value(v, items.length, depth + 1);
        items.push(child);
        if (this.doc.err !== null) return v;
        let d = this.ws();
        this.pos++;
        if (d == 0x2C) continue;
        if (d == 0x7D) break;
        this.pos--;
        this.fail("expected ',' or '}' in object");
        return v;
      }
      v.initObject(keys, items);
      return v;
    }
    if (c == 0x5B) { // [
      this.pos++;
      let items = new Array<JsonValue>();
      v.kind = JsonKind.Array;
      v.items = items;
      if (this.ws() == 0x5D) { this.pos++; return v; }
      while (true) {
        let child = this.value(v, items.length, depth + 1);
        items.push(child);
        if (this.doc.err !== null) return v;
        let d = this.ws();
        this.pos++;
        if (d == 0x2C) continue;
        if (d == 0x5D) break;
        this.pos--;
        this.fail("expected ',' or ']' in array");
        return v;
      }
      return v;
    }
    if (c == 0x22) {
      v.kind = JsonKind.String;
      v.strValue = this.string();
      return v;
    }
    if (c == 0x2D || <u32>(c - 0x30) < 10) {
      v.kind = JsonKind.Number;
      v.numValue = this.number();
      return v;
    }
    if (this.lit("true")) { v.kind = JsonKind.Bool; v.boolValue = true; return v; }
    if (this.lit("false")) { v.kind = JsonKind.Bool; return v; }
    if (this.lit("null")) return v;
    this.fail(c < 0 ? "unexpected end of input" : "unexpected character '" + String.fromCharCode(c) + "'");
    return v;
  }

  /** Reads 4 hex digits, or -1 (error recorded). */
  hex4(): i32 {
    let r = 0;
    for (let i = 0; i < 4; i++) {
      let c = this.peek();
      let d = c - 0x30;
      if (<u32>d > 9) {
        d = (c | 0x20) - 0x57; // a-f / A-F
        if (<u32>(d - 10) > 5) { this.fail("bad \\u escape"); return -1; }
      }
      r = (r << 4) | d;
      this.pos++;
    }
    return r;
  }

  /** Reads a string at the opening quote. Invalid UTF-8 and lone surrogates read as U+FFFD. */
  string(): string {
    let s = ++this.pos;
    let end = this.end;
    // fast path: no escapes, decode straight from the input
    while (this.pos < end) {
      let c = load<u8>(this.pos);
      if (c == 0x22) return decodeUtf8(s, this.pos++ - s);
      if (c == 0x5C) break;
      if (c < 0x20) { this.fail("control character in string"); return ""; }
      this.pos++;
    }
    // escapes: unescape into a buffer (never longer than the string), then decode once
    let q = this.pos;
    while (q < end && load<u8>(q) != 0x22) q += load<u8>(q) == 0x5C ? 2 : 1;
    let buf = new ArrayBuffer(<i32>(min(q, end) - s));
    let o = changetype<usize>(buf);
    memory.copy(o, s, this.pos - s);
    o += this.pos - s;
    while (this.pos < end) {
      let c = <u32>load<u8>(this.pos++);
      if (c == 0x22) return decodeUtf8(changetype<usize>(buf), o - changetype<usize>(buf));
      if (c < 0x20) { this.pos--; this.fail("control character in string"); return ""; }
      if (c == 0x5C) {
        let e = this.peek();
        this.pos++;
        if (e == 0x75) { // \uXXXX, pairs joined
          let u = this.hex4();
          if (u < 0) return "";
          if (<u32>(u - 0xD800) < 0x400 && this.pos + 1 < end && load<u8>(this.pos) == 0x5C && load<u8>(this.pos + 1) == 0x75) {
            this.pos += 2;
            let lo = this.hex4();
            if (lo < 0) return "";
            if (<u32>(lo - 0xDC00) < 0x400) {
              u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
              store<u8>(o, <u8>(0xF0 | (u >> 18)));
              store<u8>(o, <u8>(0x80 | ((u >> 12) & 0x3F)), 1);
              store<u8>(o, <u8>(0x80 | ((u >> 6) & 0x3F)), 2);
              store<u8>(o, <u8>(0x80 | (u & 0x3F)), 3);
              o += 4;
              continue;
            }
            this.pos -= 6; // not a low surrogate: read it on its own next
          }
          if (<u32>(u - 0xD800) < 0x800) u = 0xFFFD; // a lone surrogate
          if (u < 0x80) {
            store<u8>(o++, <u8>u);
          } else {
            if (u < 0x800) {
              store<u8>(o++, <u8>(0xC0 | (u >> 6)));
            } else {
              store<u8>(o, <u8>(0xE0 | (u >> 12)));
              store<u8>(o, <u8>(0x80 | ((u >> 6) & 0x3F)), 1);
              o += 2;
            }
            store<u8>(o++, <u8>(0x80 | (u & 0x3F)));
          }
          continue;
        }
        if (e == 0x62) c = 0x08;
        else if (e == 0x66) c = 0x0C;
        else if (e == 0x6E) c = 0x0A;
        else if (e == 0x72) c = 0x0D;
        else if (e == 0x74) c = 0x09;
        else if (e == 0x22 || e == 0x5C || e == 0x2F) c = <u32>e;
        else { this.pos--; this.fail("bad escape in string"); return ""; }
      }
      store<u8>(o++, <u8>c);
    }
    this.fail("unterminated string");
    return "";
  }

  /** Digits at the position into `m` (mantissa); returns how many. */
  m: f64 = 0;
  digits(): i32 {
    let n = 0;
    while (true) {
      let d = <u32>(this.peek() - 0x30);
      if (d > 9) return n;
      this.m = this.m * 10 + <f64>d;
      this.pos++;
      n++;
    }
  }

  number(): f64 {
    let neg = this.peek() == 0x2D;
    if (neg) this.pos++;
    this.m = 0;
    let first = this.peek();
    let n = this.digits();
    let exp = 0;
    let bad = n == 0 || (first == 0x30 && n > 1); // no digit, or a leading zero
    if (!bad && this.peek() == 0x2E) {
      this.pos++;
      let f = this.digits();
      exp = -f;
      bad = f == 0;
    }
    let e = this.peek() | 0x20;
    if (!bad && e == 0x65) { // e / E
      this.pos++;
      let s = this.peek();
      if (s == 0x2B || s == 0x2D) this.pos++;
      let mant = this.m;
      this.m = 0;
      bad = this.digits() == 0;
      let x = <i32>min(this.m, 100000);
      exp += s == 0x2D ? -x : x;
      this.m = mant;
    }
    if (bad) { this.fail("invalid number"); return 0; }
    // m * 10^exp with one rounding for exact mantissas and |exp| <= 22
    let p: f64 = 1, b: f64 = 10;
    for (let x = exp < 0 ? -exp : exp; x > 0; x >>= 1) {
      if (x & 1) p *= b;
      b *= b;
    }
    let m = this.m;
    let v = m == 0 ? 0 : exp < 0 ? m / p : m * p;
    return neg ? -v : v;
  }
}

/**
 * Parses `src` (UTF-8 JSON). Always returns a value; on a syntax error
 * `hasError()` is true and `error()` reads e.g.
 * `config: invalid JSON at line 1, column 9: expected ':' after object key`.
 * An empty input reads as `{}`. `rootName` prefixes every path.
 */
export function parseJson(src: Uint8Array, rootName: string = "config"): JsonValue {
  let doc = new JsonDoc(rootName);
  let start = src.dataStart;
  let p = new Parser(start, start + <usize>src.length, doc);
  let v: JsonValue;
  if (p.ws() < 0) {
    v = new JsonValue(doc);
    v.initObject([], []);
  } else {
    v = p.value(null, 0, 0);
    if (doc.err === null && p.ws() >= 0) p.fail("unexpected data after the JSON value");
  }
  v.visited = true;
  return v;
}

/** parseJson of a string. */
export function parseJsonString(s: string, rootName: string = "config"): JsonValue {
  return parseJson(Uint8Array.wrap(utf8Bytes(s)), rootName);
}
