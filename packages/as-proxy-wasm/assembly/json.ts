// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.
//
// Size notes: values keep a parent link and their index instead of a path
// string (paths are only built for an error message), strings without
// escapes are decoded straight from the input, and numbers are read as
// mantissa + decimal exponent with one scaling step.

import { decodeUtf8, utf8Bytes, utf8Encode, formatInt } from "./mem";
import { N, T, ntext, text } from "./text";

export enum JsonKind { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

export function jsonKindName(k: JsonKind): string {
  return text(kindText(k));
}

function kindText(k: JsonKind): i32 {
  switch (k) {
    case JsonKind.Null: return T.NULL;
    case JsonKind.Bool: return T.BOOLEAN;
    case JsonKind.Number: return T.NUMBER;
    case JsonKind.String: return T.STRING;
    case JsonKind.Array: return T.ARRAY;
    default: return T.OBJECT;
  }
}

/** True when `s` is not null: a pointer test (`===` on strings compares values in AssemblyScript). */
// @ts-ignore: decorator
@inline function isSet(s: string | null): bool {
  return changetype<usize>(s) != 0;
}

class JsonDoc {
  err: string | null = null;
  /** The input, kept alive for the lazily read numbers (null when the caller owns it). */
  src: ArrayBuffer | null = null;
  constructor(public rootName: string) {}
  fail(msg: string): void {
    if (!isSet(this.err)) this.err = msg;
  }
}

/** A parsed JSON value with its path (for messages). */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  /** @internal a number's text (checked by the parser), read when `numValue` is asked for. */
  numAt: usize = 0;
  /** @internal */
  numEnd: usize = 0;
  strValue: string = "";
  /** The first element / member of an array / object (null when empty or another kind). */
  first: JsonValue | null = null;
  /** The next element / member of the containing array / object (null at the end). */
  next: JsonValue | null = null;
  /** @internal the number of elements / members (see `length`). */
  count: i32 = 0;
  /** @internal this value's key in its object (null in an array / at the root). */
  key: string | null = null;
  /** @internal set when a read asked for this member (unknown-key checks). */
  used: bool = false;
  /** @internal set when an object was reached through the typed API (unknown-key checks). */
  visited: bool = false;
  /** @internal the containing array/object (null for the root) and the index in it. */
  parent: JsonValue | null = null;
  /** @internal */
  index: i32 = 0;

  constructor(private doc: JsonDoc) {}

  /**
   * @internal A value as the parser makes it: one fill with zeros sets every default (Null,
   * false, 0, null; the minimal runtime's `__new` does not clear), then only the links are
   * stored (smaller than the constructor's field-by-field initialisation).
   */
  static make(doc: JsonDoc, parent: JsonValue | null, index: i32, key: string | null): JsonValue {
    let p = __new(offsetof<JsonValue>(), idof<JsonValue>());
    memory.fill(p, 0, offsetof<JsonValue>());
    let v = changetype<JsonValue>(p);
    v.doc = doc;
    v.strValue = "";
    v.parent = parent;
    v.index = index;
    v.key = key;
    return v;
  }

  /** The value of a number (0 for other kinds); read from the input on use. */
  get numValue(): f64 {
    return this.kind == JsonKind.Number ? numberValue(this.numAt, this.numEnd) : 0;
  }

  /** The path of this value for messages: `config.request.set[0].name`. */
  get path(): string {
    let p = this.parent;
    if (p === null) return this.doc.rootName;
    let k = this.key;
    if (isSet(k)) return p.path + "." + changetype<string>(k);
    return p.path + "[" + formatInt(this.index) + "]";
  }

  /** True once any parse or read error was recorded (anywhere in the document). */
  hasError(): bool { return isSet(this.doc.err); }
  /** The first error message, or "". */
  error(): string { let e = this.doc.err; return isSet(e) ? changetype<string>(e) : ""; }
  /** Records a custom validation error at this value's path (first error wins). */
  fail(message: string): void {
    if (!isSet(this.doc.err)) this.doc.err = this.path + ": " + message;
  }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get length(): i32 { return this.count; }

  /** True when this value is of `kind`; otherwise records `expected <what>, got <kind>`. */
  private expect(kind: JsonKind, what: i32): bool { // what: a text id, or -1 for the kind name
    if (this.kind == kind) return true;
    this.fail(text(T.EXPECTED) + text(what < 0 ? kindText(kind) : what) + text(T.GOT) + jsonKindName(this.kind));
    return false;
  }

  /** This value as a string (error + "" otherwise). */
  asString(): string { return this.expect(JsonKind.String, -1) ? this.strValue : ""; }
  asBool(): bool { return this.expect(JsonKind.Bool, -1) ? this.boolValue : false; }
  asNumber(): f64 { return this.expect(JsonKind.Number, -1) ? this.numValue : 0; }
  /** An integer within [min, max] (error otherwise). */
  asInt(min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    if (!this.expect(JsonKind.Number, T.INTEGER)) return 0;
    let v = this.numValue;
    if (v != Math.floor(v) || Math.abs(v) > 9007199254740991) {
      this.fail(text(T.EXPECTED) + text(T.INTEGER) + text(T.GOT) + ntext(v != v || Math.abs(v) > 9007199254740991 ? N.OUT_OF_RANGE : N.FRACTION));
      return 0;
    }
    let i = <i64>v;
    if (i < min || i > max) {
      this.fail(ntext(N.INTEGER_IN) + formatInt(min) + ", " + formatInt(max) + ntext(N.RANGE_GOT) + formatInt(i));
      return 0;
    }
    return i;
  }
  /** Array elements (error + [] otherwise). */
  asArray(): JsonValue[] {
    if (!this.expect(JsonKind.Array, -1)) return [];
    let out = new Array<JsonValue>(this.count);
    let c = this.first;
    while (c !== null) {
      unchecked(out[c.index] = c);
      c = c.next;
    }
    return out;
  }
  /** This value as an object (error + null otherwise); marks it for unknown-key checks. */
  asObject(): JsonValue | null {
    if (!this.expect(JsonKind.Object, -1)) return null;
    this.visited = true;
    return this;
  }

  /** Element `i` of an array, or null. */
  at(i: i32): JsonValue | null {
    if (this.kind != JsonKind.Array) return null;
    let c: JsonValue | null = this.first;
    while (c !== null && c.index != i) c = c.next;
    return c;
  }

  /** Member `key` of an object (marks it as known), or null when absent / not an object. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    this.visited = true;
    let c = this.first;
    while (c !== null) {
      if (changetype<string>(c.key) == key) { // members have keys
        c.used = true;
        return c;
      }
      c = c.next;
    }
    return null;
  }

  has(key: string): bool { return this.get(key) !== null; }

  /** Object keys (all marked as known: use for free-form maps). */
  keyList(): string[] {
    if (this.kind != JsonKind.Object) return [];
    this.visited = true;
    let out = new Array<string>(this.count);
    let c = this.first;
    while (c !== null) {
      c.used = true;
      unchecked(out[c.index] = changetype<string>(c.key));
      c = c.next;
    }
    return out;
  }

  private need(key: string): JsonValue | null {
    if (!this.expect(JsonKind.Object, -1)) return null;
    let v = this.get(key);
    if (v === null) this.fail(text(T.MISSING_KEY) + key + "\"");
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
  /**
   * Optional array member as the array value itself (null when absent; error + null when
   * present with another type): walk its elements with `first` / `next`, no array is built.
   */
  optArrValue(key: string): JsonValue | null {
    let v = this.get(key);
    return v !== null && v.expect(JsonKind.Array, -1) ? v : null;
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
    if (isSet(this.doc.err) || this.kind < JsonKind.Array) return;
    if (this.kind == JsonKind.Object) {
      if (!this.visited) return;
      let c = this.first;
      while (c !== null) {
        if (!c.used) {
          this.fail(text(T.UNKNOWN_KEY) + changetype<string>(c.key) + "\"");
          return;
        }
        c = c.next;
      }
    }
    let c = this.first;
    while (c !== null) {
      c.rejectUnknownKeys();
      c = c.next;
    }
  }
}

// ---- the parser: module state (parsing never re-enters) ----
// @ts-ignore: decorator
@inline const MAX_DEPTH = 64;
/** Input start, current position and end. */
let pStart: usize = 0;
let pos: usize = 0;
let pEnd: usize = 0;
/** UTF-16 units of a \u escape, for utf8Encode. */
// @ts-ignore: decorator
@lazy const UNITS: usize = memory.data(4);

/** Records `<root>: invalid JSON at line L, column C: <what>` for the current position. */
function syntaxError(doc: JsonDoc, what: string): void {
  let line = 1, col = 1;
  for (let p = pStart; p < pos; p++) {
    if (load<u8>(p) == 0x0A) { line++; col = 1; } else col++;
  }
  doc.fail(doc.rootName + text(T.INVALID_JSON) + formatInt(line) + text(T.COLUMN) + formatInt(col) + ": " + what);
}

/** The byte at the current position, or -1 at the end. */
function peek(): i32 {
  return pos < pEnd ? <i32>load<u8>(pos) : -1;
}

/** Skips white space; returns the next byte (or -1). */
function ws(): i32 {
  while (pos < pEnd) {
    let c = <i32>load<u8>(pos);
    if (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) return c;
    pos++;
  }
  return -1;
}

function parseValue(doc: JsonDoc, parent: JsonValue | null, index: i32, depth: i32, key: string | null): JsonValue {
  let v = JsonValue.make(doc, parent, index, key);
  if (depth > MAX_DEPTH) { syntaxError(doc, text(T.DEPTH)); return v; }
  let c = ws();
  if (c == 0x7B || c == 0x5B) { // { or [
    let isObject = c == 0x7B;
    let close = c + 2; // } or ]
    pos++;
    v.kind = isObject ? JsonKind.Object : JsonKind.Array;
    let last: JsonValue | null = null;
    if (ws() != close) {
      while (true) {
        let k: string | null = null;
        if (isObject) {
          if (ws() != 0x22) { syntaxError(doc, text(T.KEY_QUOTE)); return v; }
          let ks = parseString(doc);
          if (isSet(doc.err)) return v;
          let e = v.first;
          while (e !== null) {
            if (changetype<string>(e.key) == ks) { v.fail(text(T.DUPLICATE_KEY) + ks + "\""); return v; }
            e = e.next;
          }
          if (ws() != 0x3A) { syntaxError(doc, text(T.KEY_COLON)); return v; }
          pos++;
          k = ks;
        }
        let item = parseValue(doc, v, v.count++, depth + 1, k);
        if (last === null) v.first = item; else last.next = item;
        last = item;
        if (isSet(doc.err)) return v;
        let d = ws();
        if (d == close) break;
        if (d != 0x2C) { syntaxError(doc, text(isObject ? T.OBJECT_SEP : T.ARRAY_SEP)); return v; }
        pos++;
      }
    }
    pos++;
    return v;
  }
  if (c == 0x22) {
    v.kind = JsonKind.String;
    v.strValue = parseString(doc);
    return v;
  }
  if (c == 0x2D || <u32>(c - 0x30) < 10) {
    v.kind = JsonKind.Number;
    v.numAt = pos;
    skipNumber(doc);
    v.numEnd = pos;
    return v;
  }
  // true / false / null: the next 4 bytes as one little-endian word ("true", "fals", "null")
  let w = pos + 4 <= pEnd ? load<u32>(pos) : 0;
  if (w == 0x65757274) { pos += 4; v.kind = JsonKind.Bool; v.boolValue = true; return v; }
  if (w == 0x736C6166 && pos + 5 <= pEnd && load<u8>(pos, 4) == 0x65) { pos += 5; v.kind = JsonKind.Bool; return v; }
  if (w == 0x6C6C756E) pos += 4;
  else syntaxError(doc, c < 0 ? text(T.END) : text(T.CHARACTER) + String.fromCharCode(c) + "'");
  return v;
}

/** Reads 4 hex digits, or -1 (error recorded). */
function hex4(doc: JsonDoc): i32 {
  let r = 0;
  for (let i = 0; i < 4; i++) {
    let c = peek();
    let d = c - 0x30;
    if (<u32>d > 9) {
      d = (c | 0x20) - 0x57; // a-f / A-F
      if (<u32>(d - 10) > 5) { syntaxError(doc, text(T.U_ESCAPE)); return -1; }
    }
    r = (r << 4) | d;
    pos++;
  }
  return r;
}

/** Reads a string at its opening quote. Invalid UTF-8 and lone surrogates read as U+FFFD. */
function parseString(doc: JsonDoc): string {
  let s = ++pos;
  // fast path: no escapes, decode straight from the input
  while (pos < pEnd) {
    let c = load<u8>(pos);
    if (c == 0x22) return decodeUtf8(s, pos++ - s);
    if (c == 0x5C) break;
    if (c < 0x20) { syntaxError(doc, text(T.CONTROL)); return ""; }
    pos++;
  }
  // escapes: unescape into a buffer (never longer than the string), then decode once
  let q = pos;
  while (q < pEnd && load<u8>(q) != 0x22) q += load<u8>(q) == 0x5C ? 2 : 1;
  let buf = changetype<usize>(new ArrayBuffer(<i32>(min(q, pEnd) - s)));
  let o = buf + (pos - s);
  memory.copy(buf, s, pos - s);
  while (pos < pEnd) {
    let c = <u32>load<u8>(pos++);
    if (c == 0x22) return decodeUtf8(buf, o - buf);
    if (c < 0x20) { pos--; syntaxError(doc, text(T.CONTROL)); return ""; }
    if (c == 0x5C) {
      let e = peek();
      pos++;
      if (e == 0x75) { // \uXXXX; a pair is joined, a lone surrogate reads as U+FFFD
        let u = hex4(doc);
        if (u < 0) return "";
        let n: usize = 1;
        store<u16>(UNITS, <u16>u);
        if (<u32>(u - 0xD800) < 0x400 && pos + 1 < pEnd && load<u16>(pos) == 0x755C) { // "\u"
          pos += 2;
          let lo = hex4(doc);
          if (lo < 0) return "";
          if (<u32>(lo - 0xDC00) < 0x400) {
            store<u16>(UNITS + 2, <u16>lo);
            n = 2;
          } else pos -= 6; // not a low surrogate: read it on its own next
        }
        if (n == 1 && <u32>(u - 0xD800) < 0x800) store<u16>(UNITS, 0xFFFD);
        o += utf8Encode(UNITS, n, o);
        continue;
      }
      if (e == 0x62) c = 0x08;
      else if (e == 0x66) c = 0x0C;
      else if (e == 0x6E) c = 0x0A;
      else if (e == 0x72) c = 0x0D;
      else if (e == 0x74) c = 0x09;
      else if (e == 0x22 || e == 0x5C || e == 0x2F) c = <u32>e;
      else { pos--; syntaxError(doc, text(T.ESCAPE)); return ""; }
    }
    store<u8>(o++, <u8>c);
  }
  syntaxError(doc, text(T.UNTERMINATED));
  return "";
}

/** Skips the digits at the position; returns how many. */
function digits(): i32 {
  let n = 0;
  while (<u32>(peek() - 0x30) <= 9) { pos++; n++; }
  return n;
}

/** Checks the number at the position (JSON grammar) and moves past it. */
function skipNumber(doc: JsonDoc): void {
  if (peek() == 0x2D) pos++;
  let first = peek();
  let n = digits();
  let bad = n == 0 || (first == 0x30 && n > 1); // no digit, or a leading zero
  if (!bad && peek() == 0x2E) {
    pos++;
    bad = digits() == 0;
  }
  if (!bad && (peek() | 0x20) == 0x65) { // e / E
    pos++;
    let s = peek();
    if (s == 0x2B || s == 0x2D) pos++;
    bad = digits() == 0;
  }
  if (bad) syntaxError(doc, text(T.BAD_NUMBER));
}

/** The value of the number text [p, end) that skipNumber accepted (so one loop reads it). */
function numberValue(p: usize, end: usize): f64 {
  let mant: f64 = 0;
  let exp = 0, e = 0;
  let frac = false, inExp = false, neg = false, eNeg = false;
  for (; p < end; p++) {
    let c = <u32>load<u8>(p);
    let d = c - 0x30;
    if (d <= 9) {
      if (inExp) e = min(e * 10 + <i32>d, 100000);
      else {
        mant = mant * 10 + <f64>d;
        if (frac) exp--;
      }
    } else if (c == 0x2E) frac = true;
    else if (c == 0x2D) {
      if (inExp) eNeg = true; else neg = true;
    } else if (c != 0x2B) inExp = true; // e / E
  }
  exp += eNeg ? -e : e;
  // mant * 10^exp: one rounding for exact mantissas and |exp| <= 22
  let pw: f64 = 1, b: f64 = 10;
  for (let x = exp < 0 ? -exp : exp; x > 0; x >>= 1) {
    if (x & 1) pw *= b;
    b *= b;
  }
  let v = mant == 0 ? 0 : exp < 0 ? mant / pw : mant * pw;
  return neg ? -v : v;
}

/** @internal parseJson over raw bytes. */
export function parseJsonAt(ptr: usize, len: usize, rootName: string, src: ArrayBuffer | null): JsonValue {
  let doc = new JsonDoc(rootName);
  doc.src = src;
  pStart = pos = ptr;
  pEnd = ptr + len;
  let v: JsonValue;
  if (ws() < 0) {
    v = JsonValue.make(doc, null, 0, null);
    v.kind = JsonKind.Object;
  } else {
    v = parseValue(doc, null, 0, 0, null);
    if (!isSet(doc.err) && ws() >= 0) syntaxError(doc, text(T.TRAILING));
  }
  v.visited = true;
  return v;
}

/**
 * Parses `src` (UTF-8 JSON). Always returns a value; on a syntax error
 * `hasError()` is true and `error()` reads e.g.
 * `config: invalid JSON at line 1, column 9: expected ':' after object key`.
 * An empty input reads as `{}`. `rootName` prefixes every path.
 */
export function parseJson(src: Uint8Array, rootName: string = "config"): JsonValue {
  return parseJsonAt(src.dataStart, <usize>src.length, rootName, src.buffer);
}

/** parseJson of a string. */
export function parseJsonString(s: string, rootName: string = "config"): JsonValue {
  let b = utf8Bytes(s);
  return parseJsonAt(changetype<usize>(b), <usize>b.byteLength, rootName, b);
}
