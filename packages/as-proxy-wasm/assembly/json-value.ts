// The JSON tree and its typed reads (see ./json for the overview). A read that fails records the
// FIRST error of the document, rendered here with the value's path.

import { decodeUtf8, sameBytes } from "./utf8";
import { encodeScratch, argLen } from "./args";
import { msgStart, msgPut, msgByte, msgStr, msgInt, msgEnd } from "./format";
import { N, T, ntextPtr, ntextLen, text, textPtr, textLen } from "./text";
import { numberValue } from "./json-number";

export enum JsonKind { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

export function jsonKindName(k: JsonKind): string {
  return text(kindText(k));
}

/** @internal One parsed document: its first error and the memory its values point into. */
export class JsonDoc {
  /** The first error, rendered as UTF-8 (null while there is none). */
  err: ArrayBuffer | null = null;
  /** The parser's copy of the input: the numbers' text and the (unescaped) strings and keys. */
  src: ArrayBuffer | null = null;
  /** The UTF-8 of the root name (null: the static "config"). */
  rootName: ArrayBuffer | null = null;
}

/** What the kinds are called in messages (text ids of group T, by JsonKind). */
// @ts-ignore: decorator
@lazy const KIND_TEXT: usize = memory.data<i32>([T.NULL, T.BOOLEAN, T.NUMBER, T.STRING, T.ARRAY, T.OBJECT]);

function kindText(k: JsonKind): i32 {
  return load<i32>(KIND_TEXT + (<usize>k << 2));
}

// ---- error rendering: parts appended to the message builder of ./format (also used by ./json-parse) ----

/** Appends text `id` of group T. */
export function putText(id: i32): void {
  msgPut(textPtr(id), textLen(id));
}

/** Appends `: ` (the start of a text of group T). */
export function putColon(): void {
  msgPut(textPtr(T.INVALID_JSON), 2);
}

export function putRoot(doc: JsonDoc): void {
  let r = doc.rootName;
  if (r === null) putText(T.CONFIG);
  else msgPut(changetype<usize>(r), <usize>r.byteLength);
}

/** Appends the path of `v`: `config.request.set[0].name`. */
function putPath(v: JsonValue): void {
  let p = v.parent;
  if (p === null) { putRoot(v.doc); return; }
  putPath(p);
  if (p.kind == JsonKind.Object) {
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
  putColon();
  return true;
}

/** Records the message built since `begin` as the document's error. */
function finish(v: JsonValue): void {
  v.doc.err = msgEnd();
}

/** `<path>: <text a><bytes p, n>"` (missing / unknown / duplicate key). */
export function failKey(v: JsonValue, a: i32, p: usize, n: usize): void {
  if (!begin(v)) return;
  putText(a);
  msgPut(p, n);
  msgByte(0x22);
  finish(v);
}

/**
 * @internal A new Null value of `doc`, with no parent: one fill sets every default (Null, false,
 * 0, null; the minimal runtime's __new does not clear), smaller than the field-by-field
 * constructor. The parser's values start as this; so does the stand-in of a missing member.
 */
export function blankValue(doc: JsonDoc): JsonValue {
  let v = changetype<JsonValue>(__new(offsetof<JsonValue>(), idof<JsonValue>()));
  memory.fill(changetype<usize>(v), 0, offsetof<JsonValue>());
  v.doc = doc;
  return v;
}

/** A parsed JSON value with its path (for messages). */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  /** @internal a number's text (checked by the parser), read when `numValue` is asked for. */
  numAt: usize = 0;
  /** @internal */
  numEnd: usize = 0;
  /** @internal a string's UTF-8 (unescaped): address and byte length (0 for other kinds). */
  strAt: usize = 0;
  /** @internal */
  strLen: usize = 0;
  /** @internal a string's length in UTF-16 code units (counted by the parser, see `strLength`). */
  strUnits: i32 = 0;
  /** The first element / member of an array / object (null when empty or another kind). */
  first: JsonValue | null = null;
  /** The next element / member of the containing array / object (null at the end). */
  next: JsonValue | null = null;
  /** @internal the number of elements / members (see `length`). */
  count: i32 = 0;
  /** @internal this value's key as UTF-8, when its parent is an object. */
  keyAt: usize = 0;
  /** @internal */
  keyLen: usize = 0;
  /** @internal set when a read asked for this member (unknown-key checks). */
  used: bool = false;
  /** @internal set when an object was reached through the typed API (unknown-key checks). */
  visited: bool = false;
  /** @internal the containing array/object (null for the root) and the index in it. */
  parent: JsonValue | null = null;
  /** @internal */
  index: i32 = 0;

  /** @internal (the parser makes values without it, see parseValue) */
  constructor(public doc: JsonDoc) {}

  /** The value of a number (0 for other kinds); read from the input on use. */
  get numValue(): f64 {
    return numberValue(this.numAt, this.numEnd); // an empty text (other kinds) reads as 0
  }

  /** The value of a string ("" for other kinds), decoded from UTF-8 on use (see `asBytes`). */
  get strValue(): string {
    return decodeUtf8(this.strAt, this.strLen);
  }

  /** The length of a string value in UTF-16 code units (as `strValue.length`), counted without decoding. */
  get strLength(): i32 {
    return this.strUnits;
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

  /** `<path>: expected <text what>, got <this kind>` (first error wins). */
  private mismatch(what: i32): void {
    if (!begin(this)) return;
    putText(T.EXPECTED);
    putText(what);
    putText(T.GOT);
    putText(kindText(this.kind));
    finish(this);
  }

  /** True when this value is of `kind`; otherwise records `expected <kind>, got <kind>`. */
  private expect(kind: JsonKind): bool {
    if (this.kind == kind) return true;
    this.mismatch(kindText(kind));
    return false;
  }

  // The readers below rely on the fields of another kind being empty: a string's strLen, a
  // number's text, boolValue are 0 / false for any other kind.

  /** This value as a string (error + "" otherwise). */
  asString(): string {
    this.expect(JsonKind.String);
    return this.strValue;
  }
  /**
   * This string value as its unescaped UTF-8 bytes, without decoding (error + an empty buffer
   * otherwise): a new buffer on each call, yours to modify.
   */
  asBytes(): ArrayBuffer {
    this.expect(JsonKind.String);
    let n = this.strLen;
    let b = new ArrayBuffer(<i32>n);
    memory.copy(changetype<usize>(b), this.strAt, n);
    return b;
  }
  asBool(): bool {
    this.expect(JsonKind.Bool);
    return this.boolValue;
  }
  asNumber(): f64 {
    this.expect(JsonKind.Number);
    return this.numValue;
  }
  /** An integer within [min, max] (error otherwise). */
  asInt(min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    if (this.kind != JsonKind.Number) {
      this.mismatch(T.INTEGER);
      return 0;
    }
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
    if (!this.expect(JsonKind.Array)) return [];
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
    if (!this.expect(JsonKind.Object)) return null;
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

  /**
   * Required member `key`: the member itself, or, when it is missing (or this is not an object),
   * a Null value of the same document after recording `missing required key "<key>"` (or
   * `expected object, got <kind>`): its reads return their fallbacks and record nothing more (the
   * first error wins). Never null, so a member known to exist needs no cast:
   * `item.member("name").fail(...)`.
   */
  member(key: string): JsonValue {
    let v = this.need(key);
    return v === null ? blankValue(this.doc) : v; // (made only on the error path)
  }

  /**
   * The index of this string value in `names` (an enum written as a string), or -1 after
   * recording `expected "a", "b" or "c", got "x"` (or `expected string, got <kind>`). The names
   * are matched as UTF-8 bytes (nothing is decoded).
   */
  asChoice(names: string[]): i32 {
    if (!this.expect(JsonKind.String)) return -1;
    let n = names.length;
    for (let i = 0; i < n; i++) {
      let k = encodeScratch(unchecked(names[i]), 3);
      if (sameBytes(this.strAt, this.strLen, k, argLen)) return i;
    }
    if (begin(this)) {
      putText(T.EXPECTED);
      for (let i = 0; i < n; i++) {
        if (i > 0) msgStr(i == n - 1 ? " or " : ", ");
        msgByte(0x22);
        msgStr(unchecked(names[i]));
        msgByte(0x22);
      }
      putText(T.GOT);
      msgByte(0x22);
      msgPut(this.strAt, this.strLen);
      msgByte(0x22);
      finish(this);
    }
    return -1;
  }

  /**
   * Optional enum member: the index in `names` of the string value of `key`, `fallback` when the
   * key is absent, or `fallback` after recording an error naming the allowed values (see
   * `asChoice`). E.g. `cfg.optChoice("direction", ["auto", "inbound", "outbound"], 0)`.
   */
  optChoice(key: string, names: string[], fallback: i32): i32 {
    let v = this.get(key);
    if (v === null) return fallback;
    let i = v.asChoice(names);
    return i < 0 ? fallback : i;
  }

  /** Required enum member: as `optChoice`, with a missing key an error; -1 after an error. */
  choice(key: string, names: string[]): i32 {
    let v = this.need(key);
    return v === null ? -1 : v.asChoice(names);
  }

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
    if (!this.expect(JsonKind.Object)) return null;
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
  /**
   * Optional integer member in [min, max]: `fallback` when absent; for a value that is not an
   * integer in range, an error naming the range (`expected integer in [1, 100], got 0`) and 0 (as
   * `asInt`). The one integer read for filters: its messages are formatted without
   * f64.toString, so no dtoa is linked (it costs about 120 bytes in a filter).
   */
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
    return v !== null && v.expect(JsonKind.Array) ? v : null;
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
   * Objects never read (free-form values) are not checked. Own keys come
   * before those of nested objects; only the first error is kept.
   */
  rejectUnknownKeys(): void {
    let c = this.first;
    if (this.visited) { // only objects are marked
      while (c !== null) {
        if (!c.used) failKey(this, T.UNKNOWN_KEY, c.keyAt, c.keyLen);
        c = c.next;
      }
      c = this.first;
    }
    while (c !== null) {
      c.rejectUnknownKeys();
      c = c.next;
    }
  }
}

