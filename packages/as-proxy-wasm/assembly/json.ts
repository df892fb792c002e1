// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.
//
// Byte path: strings and keys stay UTF-8 (a range of the input, or an
// unescaped copy when they hold escapes) and are decoded to AssemblyScript
// strings only when asked for (asString, strValue, keyList); keys are matched
// as bytes; the first error is rendered once, straight to UTF-8 (errorBytes),
// so a filter that reads with asBytes and logs through configJson/configOk
// links neither the UTF-8 decoder nor String concatenation.
//
// Size notes: values keep a parent link and their index instead of a path
// (paths are only rendered for an error message), and numbers are read as
// mantissa + decimal exponent with one scaling step.

import { decodeUtf8, utf8Bytes, utf8Encode, encodeScratch, argLen, sameBytes, msgStart, msgPut, msgByte, msgStr, msgInt, msgEnd } from "./mem";
import { N, T, ntextPtr, ntextLen, text, textPtr, textLen } from "./text";

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

class JsonDoc {
  /** The first error, rendered as UTF-8 (null while there is none). */
  err: ArrayBuffer | null = null;
  /** The input, kept alive for the lazily read numbers and strings (null when the caller owns it). */
  src: ArrayBuffer | null = null;
  /** The UTF-8 of the root name (null: the static "config"). */
  rootName: ArrayBuffer | null = null;
}

// ---- error rendering: parts appended to the mem.ts message builder ----

/** Appends text `id` of group T. */
function putText(id: i32): void {
  msgPut(textPtr(id), textLen(id));
}

function putRoot(doc: JsonDoc): void {
  let r = doc.rootName;
  if (r === null) putText(T.CONFIG);
  else msgPut(changetype<usize>(r), <usize>r.byteLength);
}

/** Appends the path of `v`: `config.request.set[0].name`. */
function putPath(v: JsonValue): void {
  let p = v.parent;
  if (p === null) { putRoot(v.doc); return; }
  putPath(p);
  if (v.keyAt != 0) {
    msgByte(0x2E); // .
    msgPut(v.keyAt, v.keyLen);
  } else {
    msgByte(0x5B); // [
    msgInt(v.index);
    msgByte(0x5D); // ]
  }
}

/** Starts the message of the first error at `v` (`<path>: `); false when one is recorded already. */
function begin(v: JsonValue): bool {
  if (v.doc.err !== null) return false;
  msgStart();
  putPath(v);
  msgByte(0x3A);
  msgByte(0x20);
  return true;
}

/** Records the message built since `begin` as the document's error. */
function finish(v: JsonValue): void {
  v.doc.err = msgEnd();
}

/** `<path>: <text a><bytes p, n>"` (missing / unknown / duplicate key). */
function failKey(v: JsonValue, a: i32, p: usize, n: usize): void {
  if (!begin(v)) return;
  putText(a);
  msgPut(p, n);
  msgByte(0x22);
  finish(v);
}

/** A parsed JSON value with its path (for messages). */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  /** @internal a number's text (checked by the parser), read when `numValue` is asked for. */
  numAt: usize = 0;
  /** @internal */
  numEnd: usize = 0;
  /** @internal a string's UTF-8 (unescaped): address and byte length. */
  strAt: usize = 0;
  /** @internal */
  strLen: usize = 0;
  /** @internal the buffer holding the string's bytes when they are not a range of the input. */
  sbuf: ArrayBuffer | null = null;
  /** The first element / member of an array / object (null when empty or another kind). */
  first: JsonValue | null = null;
  /** The next element / member of the containing array / object (null at the end). */
  next: JsonValue | null = null;
  /** @internal the number of elements / members (see `length`). */
  count: i32 = 0;
  /** @internal this value's key in its object as UTF-8 (keyAt 0 in an array / at the root). */
  keyAt: usize = 0;
  /** @internal */
  keyLen: usize = 0;
  /** @internal the buffer of an unescaped key. */
  kbuf: ArrayBuffer | null = null;
  /** @internal set when a read asked for this member (unknown-key checks). */
  used: bool = false;
  /** @internal set when an object was reached through the typed API (unknown-key checks). */
  visited: bool = false;
  /** @internal the containing array/object (null for the root) and the index in it. */
  parent: JsonValue | null = null;
  /** @internal */
  index: i32 = 0;

  /** @internal */
  constructor(public doc: JsonDoc) {}

  /**
   * @internal A value as the parser makes it: one fill with zeros sets every default (Null,
   * false, 0, null; the minimal runtime's `__new` does not clear), then only the links are
   * stored (smaller than the constructor's field-by-field initialisation).
   */
  static make(doc: JsonDoc, parent: JsonValue | null, index: i32, isMember: bool): JsonValue {
    let p = __new(offsetof<JsonValue>(), idof<JsonValue>());
    memory.fill(p, 0, offsetof<JsonValue>());
    let v = changetype<JsonValue>(p);
    v.doc = doc;
    v.parent = parent;
    v.index = index;
    if (isMember) { // its key: the string the parser read last
      v.keyAt = sAt;
      v.keyLen = sLen;
      v.kbuf = sBuf;
    }
    return v;
  }

  /** The value of a number (0 for other kinds); read from the input on use. */
  get numValue(): f64 {
    return this.kind == JsonKind.Number ? numberValue(this.numAt, this.numEnd) : 0;
  }

  /** The value of a string ("" for other kinds), decoded from UTF-8 on use (see `asBytes`). */
  get strValue(): string {
    return decodeUtf8(this.strAt, this.strLen);
  }

  /** The length of a string value in UTF-16 code units (as `strValue.length`), counted without decoding. */
  get strLength(): i32 {
    let n = 0;
    for (let p = this.strAt, e = p + this.strLen; p < e; p++) {
      let c = <u32>load<u8>(p);
      if (c - 0x80 >= 0x40) n += c >= 0xF0 ? 2 : 1; // not a continuation byte; 4-byte sequences are pairs
    }
    return n;
  }

  /** The path of this value for messages: `config.request.set[0].name`. */
  get path(): string {
    msgStart();
    putPath(this);
    let b = msgEnd();
    return decodeUtf8(changetype<usize>(b), <usize>b.byteLength);
  }

  /** True once any parse or read error was recorded (anywhere in the document). */
  hasError(): bool { return this.doc.err !== null; }
  /** The first error message, or "". */
  error(): string {
    let e = this.doc.err;
    return e === null ? "" : decodeUtf8(changetype<usize>(e), <usize>e.byteLength);
  }
  /** The first error message as UTF-8 bytes (what `error()` decodes), or null; e.g. for `logBytes`. */
  errorBytes(): ArrayBuffer | null { return this.doc.err; }
  /**
   * Records a custom validation error at this value's path (first error wins):
   * `<path>: <message><more>` (`more` spares a concatenation, e.g. `fail(op, ": too long")`).
   */
  fail(message: string, more: string = ""): void {
    if (!begin(this)) return;
    msgStr(message);
    msgStr(more);
    finish(this);
  }
  /**
   * Records `<path>: <before><this string value><after>` (first error wins): a message that
   * quotes the offending value without decoding it, e.g.
   * `at.failWith("invalid header name ")`.
   */
  failWith(before: string, after: string = ""): void {
    if (!begin(this)) return;
    msgStr(before);
    msgPut(this.strAt, this.strLen);
    msgStr(after);
    finish(this);
  }

  get isNull(): bool { return this.kind == JsonKind.Null; }
  get length(): i32 { return this.count; }

  /** True when this value is of `kind`; otherwise records `expected <what>, got <kind>`. */
  private expect(kind: JsonKind, what: i32): bool { // what: a text id, or -1 for the kind name
    if (this.kind == kind) return true;
    if (begin(this)) {
      putText(T.EXPECTED);
      putText(what < 0 ? kindText(kind) : what);
      putText(T.GOT);
      putText(kindText(this.kind));
      finish(this);
    }
    return false;
  }

  /** This value as a string (error + "" otherwise). */
  asString(): string { return this.expect(JsonKind.String, -1) ? this.strValue : ""; }
  /**
   * This string value as its unescaped UTF-8 bytes, without decoding (error + an empty buffer
   * otherwise). The buffer is shared with the tree (made once, on the first call): copy it
   * before modifying it.
   */
  asBytes(): ArrayBuffer {
    if (!this.expect(JsonKind.String, -1)) return new ArrayBuffer(0);
    let b = this.sbuf;
    if (b === null) {
      b = new ArrayBuffer(<i32>this.strLen);
      memory.copy(changetype<usize>(b), this.strAt, this.strLen);
      this.sbuf = b;
      this.strAt = changetype<usize>(b);
    }
    return b;
  }
  asBool(): bool { return this.expect(JsonKind.Bool, -1) ? this.boolValue : false; }
  asNumber(): f64 { return this.expect(JsonKind.Number, -1) ? this.numValue : 0; }
  /** An integer within [min, max] (error otherwise). */
  asInt(min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    if (!this.expect(JsonKind.Number, T.INTEGER)) return 0;
    let v = this.numValue;
    if (v != Math.floor(v) || Math.abs(v) > 9007199254740991) {
      if (begin(this)) {
        putText(T.EXPECTED);
        putText(T.INTEGER);
        putText(T.GOT);
        let n = v != v || Math.abs(v) > 9007199254740991 ? N.OUT_OF_RANGE : N.FRACTION;
        msgPut(ntextPtr(n), ntextLen(n));
        finish(this);
      }
      return 0;
    }
    let i = <i64>v;
    if (i < min || i > max) {
      if (begin(this)) {
        msgPut(ntextPtr(N.INTEGER_IN), ntextLen(N.INTEGER_IN));
        msgInt(min);
        msgByte(0x2C);
        msgByte(0x20);
        msgInt(max);
        msgPut(ntextPtr(N.RANGE_GOT), ntextLen(N.RANGE_GOT));
        msgInt(i);
        finish(this);
      }
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

  /**
   * Member `key` of an object (marks it as known), or null when absent / not an object. The key
   * is matched as UTF-8 bytes against the members' keys (nothing is decoded).
   */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    this.visited = true;
    let k = encodeScratch(key, 3);
    let kl = argLen;
    let c = this.first;
    while (c !== null) {
      if (sameBytes(c.keyAt, c.keyLen, k, kl)) {
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
      unchecked(out[c.index] = decodeUtf8(c.keyAt, c.keyLen));
      c = c.next;
    }
    return out;
  }

  private need(key: string): JsonValue | null {
    if (!this.expect(JsonKind.Object, -1)) return null;
    let v = this.get(key);
    if (v === null) {
      let k = encodeScratch(key, 3);
      failKey(this, T.MISSING_KEY, k, argLen);
    }
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
  /** Required string member as UTF-8 bytes (see `asBytes`; error + an empty buffer otherwise). */
  bytes(key: string): ArrayBuffer {
    let v = this.need(key);
    return v === null ? new ArrayBuffer(0) : v.asBytes();
  }
  /** Optional string member as UTF-8 bytes (see `asBytes`): null when absent, error + empty buffer for another type. */
  optBytes(key: string): ArrayBuffer | null {
    let v = this.get(key);
    return v === null ? null : v.asBytes();
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
    if (this.doc.err !== null || this.kind < JsonKind.Array) return;
    if (this.kind == JsonKind.Object) {
      if (!this.visited) return;
      let c = this.first;
      while (c !== null) {
        if (!c.used) {
          failKey(this, T.UNKNOWN_KEY, c.keyAt, c.keyLen);
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

/** Records `<root>: invalid JSON at line L, column C: <what>` for the current position; `c` >= 0 adds `'<c>'`. */
function syntaxError(doc: JsonDoc, what: i32, c: i32): void {
  if (doc.err !== null) return;
  let line = 1, col = 1;
  for (let p = pStart; p < pos; p++) {
    if (load<u8>(p) == 0x0A) { line++; col = 1; } else col++;
  }
  msgStart();
  putRoot(doc);
  putText(T.INVALID_JSON);
  msgInt(line);
  putText(T.COLUMN);
  msgInt(col);
  msgByte(0x3A);
  msgByte(0x20);
  putText(what);
  if (c >= 0) { // the byte as the character U+00XX, then the closing quote
    if (c >= 0x80) {
      msgByte(0xC0 | (c >> 6));
      c = 0x80 | (c & 0x3F);
    }
    msgByte(c);
    msgByte(0x27);
  }
  doc.err = msgEnd();
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

function parseValue(doc: JsonDoc, parent: JsonValue | null, index: i32, depth: i32, isMember: bool): JsonValue {
  let v = JsonValue.make(doc, parent, index, isMember);
  if (depth > MAX_DEPTH) { syntaxError(doc, T.DEPTH, -1); return v; }
  let c = ws();
  if (c == 0x7B || c == 0x5B) { // { or [
    let isObject = c == 0x7B;
    let close = c + 2; // } or ]
    pos++;
    v.kind = isObject ? JsonKind.Object : JsonKind.Array;
    let last: JsonValue | null = null;
    if (ws() != close) {
      while (true) {
        if (isObject) { // the key stays in sAt / sLen / sBuf for the member's JsonValue.make
          if (ws() != 0x22) { syntaxError(doc, T.KEY_QUOTE, -1); return v; }
          if (!parseString(doc)) return v;
          let e = v.first;
          while (e !== null) {
            if (sameBytes(e.keyAt, e.keyLen, sAt, sLen)) { failKey(v, T.DUPLICATE_KEY, sAt, sLen); return v; }
            e = e.next;
          }
          if (ws() != 0x3A) { syntaxError(doc, T.KEY_COLON, -1); return v; }
          pos++;
        }
        let item = parseValue(doc, v, v.count++, depth + 1, isObject);
        if (last === null) v.first = item; else last.next = item;
        last = item;
        if (doc.err !== null) return v;
        let d = ws();
        if (d == close) break;
        if (d != 0x2C) { syntaxError(doc, isObject ? T.OBJECT_SEP : T.ARRAY_SEP, -1); return v; }
        pos++;
      }
    }
    pos++;
    return v;
  }
  if (c == 0x22) {
    v.kind = JsonKind.String;
    parseString(doc);
    v.strAt = sAt;
    v.strLen = sLen;
    v.sbuf = sBuf;
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
  else if (c < 0) syntaxError(doc, T.END, -1);
  else syntaxError(doc, T.CHARACTER, c);
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
      if (<u32>(d - 10) > 5) { syntaxError(doc, T.U_ESCAPE, -1); return -1; }
    }
    r = (r << 4) | d;
    pos++;
  }
  return r;
}

/** The last string read by parseString: its unescaped UTF-8, and the buffer holding it (null: a range of the input). */
let sAt: usize = 0;
let sLen: usize = 0;
let sBuf: ArrayBuffer | null = null;

/**
 * Reads a string at its opening quote into sAt / sLen / sBuf (false on a syntax error, recorded).
 * Escapes are decoded straight to UTF-8; a lone surrogate escape reads as U+FFFD.
 */
function parseString(doc: JsonDoc): bool {
  let s = ++pos;
  sAt = s;
  sLen = 0;
  sBuf = null;
  // fast path: no escapes, decode straight from the input
  while (pos < pEnd) {
    let c = load<u8>(pos);
    if (c == 0x22) {
      sLen = pos++ - s;
      return true;
    }
    if (c == 0x5C) break;
    if (c < 0x20) { syntaxError(doc, T.CONTROL, -1); return false; }
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
    if (c == 0x22) { // the exact size: the buffer is the string's bytes
      let b = __renew(buf, o - buf);
      sAt = b;
      sLen = o - buf;
      sBuf = changetype<ArrayBuffer>(b);
      return true;
    }
    if (c < 0x20) { pos--; syntaxError(doc, T.CONTROL, -1); return false; }
    if (c == 0x5C) {
      let e = peek();
      pos++;
      if (e == 0x75) { // \uXXXX; a pair is joined, a lone surrogate reads as U+FFFD
        let u = hex4(doc);
        if (u < 0) return false;
        let n: usize = 1;
        store<u16>(UNITS, <u16>u);
        if (<u32>(u - 0xD800) < 0x400 && pos + 1 < pEnd && load<u16>(pos) == 0x755C) { // "\u"
          pos += 2;
          let lo = hex4(doc);
          if (lo < 0) return false;
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
      else { pos--; syntaxError(doc, T.ESCAPE, -1); return false; }
    }
    store<u8>(o++, <u8>c);
  }
  syntaxError(doc, T.UNTERMINATED, -1);
  return false;
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
  if (bad) syntaxError(doc, T.BAD_NUMBER, -1);
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

/** @internal parseJson over raw bytes; `rootName` is UTF-8 (null: "config"). */
export function parseJsonAt(ptr: usize, len: usize, rootName: ArrayBuffer | null, src: ArrayBuffer | null): JsonValue {
  let doc = new JsonDoc();
  doc.rootName = rootName;
  doc.src = src;
  pStart = pos = ptr;
  pEnd = ptr + len;
  let v: JsonValue;
  if (ws() < 0) {
    v = JsonValue.make(doc, null, 0, false);
    v.kind = JsonKind.Object;
  } else {
    v = parseValue(doc, null, 0, 0, false);
    if (doc.err === null && ws() >= 0) syntaxError(doc, T.TRAILING, -1);
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
  return parseJsonAt(src.dataStart, <usize>src.length, utf8Bytes(rootName), src.buffer);
}

/** parseJson of a string. */
export function parseJsonString(s: string, rootName: string = "config"): JsonValue {
  let b = utf8Bytes(s);
  return parseJsonAt(changetype<usize>(b), <usize>b.byteLength, utf8Bytes(rootName), b);
}
