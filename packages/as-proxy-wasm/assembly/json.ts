// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.

import { decodeUtf8 } from "./mem";

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

  constructor(private doc: JsonDoc, public readonly path: string) {}

  /** True once any parse or read error was recorded (anywhere in the document). */
  hasError(): bool { return this.doc.err !== null; }
  /** The first error message, or "". */
  error(): string { let e = this.doc.err; return e === null ? "" : e; }
  /** Records a custom validation error at this value's path (first error wins). */
  fail(message: string): void { this.doc.fail(this.path + ": " + message); }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get length(): i32 {
    let it = this.items;
    return it === null ? 0 : it.length;
  }

  private expect(kind: JsonKind, what: string): bool {
    if (this.kind == kind) return true;
    this.doc.fail(this.path + ": expected " + what + ", got " + jsonKindName(this.kind));
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
      this.doc.fail(this.path + ": expected integer, got " + v.toString());
      return 0;
    }
    let i = <i64>v;
    if (i < min || i > max) {
      this.doc.fail(this.path + ": expected integer in [" + min.toString() + ", " + max.toString() + "], got " + i.toString());
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
    if (it === null || this.kind != JsonKind.Array || i < 0 || i >= it.length) return null;
    return unchecked(it[i]);
  }

  /** Member `key` of an object (marks it as known), or null when absent / not an object. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    this.visited = true;
    let ks = this.keys;
    let it = this.items;
    if (ks === null || it === null) return null;
    for (let i = 0, n = ks.length; i < n; i++) {
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
    if (ks === null || this.kind != JsonKind.Object) return [];
    this.visited = true;
    let u = this.used;
    if (u !== null) for (let i = 0; i < u.length; i++) unchecked(u[i] = true);
    return ks;
  }

  private need(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) {
      this.doc.fail(this.path + ": expected object, got " + jsonKindName(this.kind));
      return null;
    }
    let v = this.get(key);
    if (v === null) this.doc.fail(this.path + ": missing required key \"" + key + "\"");
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
    if (this.doc.err !== null) return;
    if (this.kind == JsonKind.Object) {
      if (!this.visited) return;
      let ks = this.keys, u = this.used, it = this.items;
      if (ks === null || u === null || it === null) return;
      for (let i = 0, n = ks.length; i < n; i++) {
        if (!unchecked(u[i])) {
          this.doc.fail(this.path + ": unknown key \"" + unchecked(ks[i]) + "\"");
          return;
        }
        unchecked(it[i]).rejectUnknownKeys();
      }
    } else if (this.kind == JsonKind.Array) {
      let it = this.items;
      if (it === null) return;
      for (let i = 0, n = it.length; i < n; i++) unchecked(it[i]).rejectUnknownKeys();
    }
  }

  /** @internal */
  initObject(keys: string[], items: JsonValue[]): void {
    this.kind = JsonKind.Object;
    this.keys = keys;
    this.items = items;
    this.used = new StaticArray<bool>(keys.length);
  }
}

const MAX_DEPTH = 64;

class Parser {
  pos: i32 = 0;
  constructor(public src: Uint8Array, public doc: JsonDoc) {}

  fail(what: string): void {
    // line/column of pos (1-based)
    let line = 1, col = 1;
    let p = this.src.dataStart;
    for (let i = 0; i < this.pos && i < this.src.length; i++) {
      if (load<u8>(p + <usize>i) == 0x0A) { line++; col = 1; } else col++;
    }
    this.doc.fail(
      this.rootName + ": invalid JSON at line " + line.toString() + ", column " + col.toString() + ": " + what,
    );
  }
  rootName: string = "config";

  peek(): i32 {
    return this.pos < this.src.length ? <i32>load<u8>(this.src.dataStart + <usize>this.pos) : -1;
  }

  ws(): void {
    let p = this.src.dataStart, n = this.src.length;
    while (this.pos < n) {
      let c = load<u8>(p + <usize>this.pos);
      if (c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) this.pos++;
      else break;
    }
  }

  lit(word: string): bool {
    let n = word.length;
    if (this.pos + n > this.src.length) return false;
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.src.dataStart + <usize>(this.pos + i)) != word.charCodeAt(i)) return false;
    }
    this.pos += n;
    return true;
  }

  value(path: string, depth: i32): JsonValue {
    let v = new JsonValue(this.doc, path);
    if (this.doc.err !== null) return v;
    if (depth > MAX_DEPTH) { this.fail("nesting deeper than " + MAX_DEPTH.toString()); return v; }
    this.ws();
    let c = this.peek();
    if (c == 0x7B) { // {
      this.pos++;
      let keys = new Array<string>();
      let items = new Array<JsonValue>();
      this.ws();
      if (this.peek() == 0x7D) { this.pos++; v.initObject(keys, items); return v; }
      while (true) {
        this.ws();
        if (this.peek() != 0x22) { this.fail("expected '\"' to start an object key"); return v; }
        let k = this.string();
        if (this.doc.err !== null) return v;
        for (let i = 0; i < keys.length; i++) {
          if (unchecked(keys[i]) == k) { this.doc.fail(path + ": duplicate key \"" + k + "\""); return v; }
        }
        this.ws();
        if (this.peek() != 0x3A) { this.fail("expected ':' after object key"); return v; }
        this.pos++;
        let child = this.value(path + "." + k, depth + 1);
        if (this.doc.err !== null) return v;
        keys.push(k);
        items.push(child);
        this.ws();
        let d = this.peek();
        if (d == 0x2C) { this.pos++; continue; }
        if (d == 0x7D) { this.pos++; break; }
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
      this.ws();
      if (this.peek() == 0x5D) { this.pos++; return v; }
      while (true) {
        let child = this.value(path + "[" + items.length.toString() + "]", depth + 1);
        if (this.doc.err !== null) return v;
        items.push(child);
        this.ws();
        let d = this.peek();
        if (d == 0x2C) { this.pos++; continue; }
        if (d == 0x5D) { this.pos++; break; }
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
    if (c == 0x2D || (c >= 0x30 && c <= 0x39)) {
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

  hex4(): i32 {
    let r = 0;
    for (let i = 0; i < 4; i++) {
      let c = this.peek();
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else { this.fail("bad \\u escape"); return -1; }
      r = (r << 4) | d;
      this.pos++;
    }
    return r;
  }

  string(): string {
    this.pos++; // opening quote
    let base = this.src.dataStart;
    let start = this.pos;
    let n = this.src.length;
    // fast path: no escapes
    while (this.pos < n) {
      let c = load<u8>(base + <usize>this.pos);
      if (c == 0x22) {
        let s = decodeUtf8(base + <usize>start, <usize>(this.pos - start));
        this.pos++;
        return s;
      }
      if (c == 0x5C) break;
      if (c < 0x20) { this.fail("control character in string"); return ""; }
      this.pos++;
    }
    // slow path with escapes: assemble UTF-16 directly
    let out = decodeUtf8(base + <usize>start, <usize>(this.pos - start));
    while (this.pos < n) {
      let c = <i32>load<u8>(base + <usize>this.pos);
      if (c == 0x22) { this.pos++; return out; }
      if (c < 0x20) { this.fail("control character in string"); return ""; }
      if (c != 0x5C) {
        let s = this.pos;
        while (this.pos < n) {
          let d = load<u8>(base + <usize>this.pos);
          if (d == 0x22 || d == 0x5C || d < 0x20) break;
          this.pos++;
        }
        out += decodeUtf8(base + <usize>s, <usize>(this.pos - s));
        continue;
      }
      this.pos++;
      let e = this.peek();
      this.pos++;
      if (e == 0x22) out += "\"";
      else if (e == 0x5C) out += "\\";
      else if (e == 0x2F) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6E) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        let u = this.hex4();
        if (u < 0) return "";
        out += String.fromCharCode(u);
      } else {
        this.pos--;
        this.fail("bad escape in string");
        return "";
      }
    }
    this.fail("unterminated string");
    return "";
  }

  number(): f64 {
    let p = this.src.dataStart;
    let neg = false;
    if (this.peek() == 0x2D) { neg = true; this.pos++; }
    let c = this.peek();
    if (c < 0x30 || c > 0x39) { this.fail("expected digit"); return 0; }
    let v: f64 = 0;
    if (c == 0x30) {
      this.pos++;
      let d = this.peek();
      if (d >= 0x30 && d <= 0x39) { this.fail("leading zero in number"); return 0; }
    } else {
      while (true) {
        let d = this.peek();
        if (d < 0x30 || d > 0x39) break;
        v = v * 10 + <f64>(d - 0x30);
        this.pos++;
      }
    }
    if (this.peek() == 0x2E) {
      this.pos++;
      let d = this.peek();
      if (d < 0x30 || d > 0x39) { this.fail("expected digit after '.'"); return 0; }
      let scale: f64 = 1;
      while (true) {
        d = this.peek();
        if (d < 0x30 || d > 0x39) break;
        scale /= 10;
        v += <f64>(d - 0x30) * scale;
        this.pos++;
      }
    }
    let e = this.peek();
    if (e == 0x65 || e == 0x45) {
      this.pos++;
      let eneg = false;
      let s = this.peek();
      if (s == 0x2B || s == 0x2D) { eneg = s == 0x2D; this.pos++; }
      let d = this.peek();
      if (d < 0x30 || d > 0x39) { this.fail("expected digit in exponent"); return 0; }
      let x = 0;
      while (true) {
        d = this.peek();
        if (d < 0x30 || d > 0x39) break;
        if (x < 10000) x = x * 10 + (d - 0x30);
        this.pos++;
      }
      let m: f64 = 1;
      let b: f64 = 10;
      while (x > 0) {
        if (x & 1) m *= b;
        b *= b;
        x >>= 1;
      }
      v = eneg ? v / m : v * m;
    }
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
  let doc = new JsonDoc();
  let p = new Parser(src, doc);
  p.rootName = rootName;
  p.ws();
  if (p.pos >= src.length) {
    let empty = new JsonValue(doc, rootName);
    empty.initObject([], []);
    empty.visited = true;
    return empty;
  }
  let v = p.value(rootName, 0);
  v.visited = true;
  if (doc.err === null) {
    p.ws();
    if (p.pos < src.length) p.fail("unexpected data after the JSON value");
  }
  return v;
}

/** parseJson of a string. */
export function parseJsonString(s: string, rootName: string = "config"): JsonValue {
  return parseJson(Uint8Array.wrap(String.UTF8.encode(s)), rootName);
}
