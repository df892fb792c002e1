// A small JSON reader for plugin configuration: one pass into a compact tree,
// then typed reads that record the FIRST error with its exact path, e.g.
//   config.request.set[0].name: expected string, got number
// Nothing throws or traps; after an error every read returns its fallback.
//
// Byte path: strings and keys stay UTF-8 (ranges of the parser's copy of the
// input, unescaped in place) and are decoded to AssemblyScript
// strings only when asked for (asString, strValue, keyList); keys are matched
// as bytes; the first error is rendered once, straight to UTF-8 (errorBytes),
// so a filter that reads with asBytes and logs through configJson/configOk
// links neither the UTF-8 decoder nor String concatenation.
//
// Size notes: values keep a parent link and their index instead of a path
// (paths are only rendered for an error message), numbers are read as
// mantissa + decimal exponent with one scaling step, and the parser passes no
// results up: the first syntax error ends the input (see the parser below).

import { decodeUtf8, utf8Bytes, utf8Encode, encodeScratch, argLen, sameBytes, msgStart, msgPut, msgByte, msgStr, msgInt, msgEnd } from "./mem";
import { N, T, ntextPtr, ntextLen, text, textPtr, textLen } from "./text";

export enum JsonKind { Null = 0, Bool = 1, Number = 2, String = 3, Array = 4, Object = 5 }

export function jsonKindName(k: JsonKind): string {
  return text(kindText(k));
}

class JsonDoc {
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

// ---- error rendering: parts appended to the mem.ts message builder ----

/** Appends text `id` of group T. */
function putText(id: i32): void {
  msgPut(textPtr(id), textLen(id));
}

/** Appends `: ` (the start of a text of group T). */
function putColon(): void {
  msgPut(textPtr(T.INVALID_JSON), 2);
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
    return v === null ? new JsonValue(this.doc) : v; // (made only on the error path)
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

// ---- the parser: module state (parsing never re-enters) ----
// The parser reads a private copy of the input and unescapes each string in place (an escape is
// never shorter than what it stands for), so every string and key is a range of that copy and
// no string is allocated. Raw line feeds occur only in white space (a string may not hold one),
// so `ws` counts the lines for the error positions. After a syntax error the input ends at the
// error (pEnd = pos): every loop then meets the end and returns, no result is passed up.
// @ts-ignore: decorator
@inline const MAX_DEPTH = 64;
/** The document being parsed (a plain address: no managed global; nothing collects while parsing). */
let pDoc: usize = 0;
/** Current position and end (in the copy). */
let pos: usize = 0;
let pEnd: usize = 0;
/** The current line (from 1) and the address where it starts. */
let line = 0;
let lineAt: usize = 0;
/** UTF-16 units of a \u escape, for utf8Encode. */
// @ts-ignore: decorator
@lazy const UNITS: usize = memory.data(4);
/** The one-letter escapes: the letter, then the byte it stands for. */
// @ts-ignore: decorator
@lazy const ESCAPES: usize = memory.data<u8>([0x22, 0x22, 0x5C, 0x5C, 0x2F, 0x2F, 0x62, 0x08, 0x66, 0x0C, 0x6E, 0x0A, 0x72, 0x0D, 0x74, 0x09]);

/**
 * Records `<root>: invalid JSON at line L, column C: <what>` for the current position (for an
 * unexpected character, the character and the closing quote), then ends the input there.
 */
function syntaxError(what: i32): void {
  let doc = changetype<JsonDoc>(pDoc);
  if (doc.err !== null) return;
  msgStart();
  putRoot(doc);
  putText(T.INVALID_JSON);
  msgInt(line);
  putText(T.COLUMN);
  msgInt(pos - lineAt + 1);
  putColon();
  putText(what);
  if (what == T.CHARACTER) { // the byte as the character U+00XX (at most 2 bytes of UTF-8)
    store<u16>(UNITS, load<u8>(pos));
    msgPut(UNITS + 2, utf8Encode(UNITS, 1, UNITS + 2));
    msgByte(0x27);
  }
  doc.err = msgEnd();
  pEnd = pos;
}

/** The byte at the current position, or -1 at the end. */
function peek(): i32 {
  return pos < pEnd ? <i32>load<u8>(pos) : -1;
}

/** The byte at the current position (-1 at the end), moving past it (past the end too). */
function read(): i32 {
  let c = peek();
  pos++;
  return c;
}

/** Skips white space (counting lines); returns the next byte (or -1). */
function ws(): i32 {
  while (true) {
    let c = peek();
    if (c == 0x0A) {
      line++;
      lineAt = pos + 1;
    } else if (c != 0x20 && c != 0x0D && c != 0x09) return c;
    pos++;
  }
}

/**
 * The keys of every object of the document being parsed, for the duplicate-key check: one
 * lookup per key, so parsing stays linear however many keys an object has (comparing each key
 * with the object's previous keys made a 100,000-key object take seconds). A key belongs to its
 * object, so one set serves the whole document. Open addressing with linear probing, at most
 * half full; each slot holds the object's address, the key's address in the parser's copy and
 * its length (0 in the object word: an empty slot). The table is raw SDK heap memory that lives
 * for one parse (parseJsonAt frees it), so no collector or arena ever sees it.
 */
// @ts-ignore: decorator
@inline const KEY_AT: usize = sizeof<usize>();
// @ts-ignore: decorator
@inline const KEY_LEN: usize = 2 * sizeof<usize>();
// @ts-ignore: decorator
@inline const SLOT_BYTES: usize = 3 * sizeof<usize>();
// @ts-ignore: decorator
@inline const FIRST_SLOTS: usize = 16;
// @ts-ignore: decorator
@inline const FNV_OFFSET: u32 = 2166136261;
// @ts-ignore: decorator
@inline const FNV_PRIME: u32 = 16777619;
/** The slots (SLOT_BYTES each; 0 before the first key), their number minus 1, the keys in them. */
let keyTable: usize = 0;
let keyMask: u32 = 0;
let keyCount: u32 = 0;

/** FNV-1a over the key's bytes, started from the object's address (the same key hashes apart in two objects). */
function keyHash(obj: usize, p: usize, n: usize): u32 {
  let h = FNV_OFFSET ^ <u32>obj;
  for (let end = p + n; p < end; p++) h = (h ^ <u32>load<u8>(p)) * FNV_PRIME;
  return h;
}

/** The slot of `table` holding key [p, p + n) of the object at `obj`, or the empty slot where it goes. */
function keySlot(table: usize, mask: u32, obj: usize, p: usize, n: usize): usize {
  let i = keyHash(obj, p, n);
  while (true) {
    let slot = table + <usize>(i & mask) * SLOT_BYTES;
    let owner = load<usize>(slot);
    if (owner == 0 || (owner == obj && sameBytes(load<usize>(slot, KEY_AT), load<usize>(slot, KEY_LEN), p, n))) return slot;
    i++;
  }
}

/** Adds key [p, p + n) of the object at `obj`; false when that object has the key already. */
function addKey(obj: usize, p: usize, n: usize): bool {
  if (keyCount >= (keyMask + 1) >> 1) growKeys();
  let slot = keySlot(keyTable, keyMask, obj, p, n);
  if (load<usize>(slot) != 0) return false;
  store<usize>(slot, obj);
  store<usize>(slot, p, KEY_AT);
  store<usize>(slot, n, KEY_LEN);
  keyCount++;
  return true;
}

/** Doubles the table (FIRST_SLOTS at first), moving every key to its slot in the new one. */
function growKeys(): void {
  let old = keyTable;
  let oldSlots: usize = old == 0 ? 0 : <usize>keyMask + 1;
  let slots = oldSlots == 0 ? FIRST_SLOTS : oldSlots << 1;
  let table = __alloc(slots * SLOT_BYTES);
  memory.fill(table, 0, slots * SLOT_BYTES);
  let mask = <u32>slots - 1;
  for (let s = old, end = old + oldSlots * SLOT_BYTES; s < end; s += SLOT_BYTES) {
    let obj = load<usize>(s);
    if (obj == 0) continue;
    let p = load<usize>(s, KEY_AT), n = load<usize>(s, KEY_LEN);
    memory.copy(keySlot(table, mask, obj, p, n), s, SLOT_BYTES);
  }
  if (old != 0) __free(old);
  keyTable = table;
  keyMask = mask;
}

/** Forgets every key and gives the table back to the heap (at the end of each parse). */
function clearKeys(): void {
  if (keyTable != 0) __free(keyTable);
  keyTable = 0;
  keyMask = 0;
  keyCount = 0;
}

/**
 * Parses the value at the position. Its key, for an object member, is the string the parser
 * read last (sAt / sLen); keys are read as a member's value is made, so the value keeps them.
 */
function parseValue(parent: JsonValue | null, index: i32, depth: i32): JsonValue {
  let v = changetype<JsonValue>(__new(offsetof<JsonValue>(), idof<JsonValue>()));
  // one fill sets every default (Null, false, 0, null; the minimal runtime's __new does not
  // clear), then only the links are stored (smaller than a constructor)
  memory.fill(changetype<usize>(v), 0, offsetof<JsonValue>());
  v.doc = changetype<JsonDoc>(pDoc);
  v.parent = parent;
  v.index = index;
  v.keyAt = sAt; // meaningful in an object only (see putPath)
  v.keyLen = sLen;
  if (depth > MAX_DEPTH) syntaxError(T.DEPTH);
  let c = ws();
  if ((c | 0x20) == 0x7B) { // { or [
    let isObject = c == 0x7B;
    v.kind = isObject ? JsonKind.Object : JsonKind.Array;
    pos++;
    let last: JsonValue | null = null;
    if (ws() != c + 2) { // not empty: } or ]
      while (true) {
        if (isObject) {
          if (ws() != 0x22) syntaxError(T.KEY_QUOTE);
          parseString();
          if (!addKey(changetype<usize>(v), sAt, sLen)) failKey(v, T.DUPLICATE_KEY, sAt, sLen);
          if (ws() != 0x3A) syntaxError(T.KEY_COLON);
          pos++;
        }
        let item = parseValue(v, v.count++, depth + 1);
        if (last === null) v.first = item; else last.next = item;
        last = item;
        let d = ws();
        if (d == c + 2) break;
        if (d != 0x2C) {
          syntaxError(isObject ? T.OBJECT_SEP : T.ARRAY_SEP);
          break;
        }
        pos++;
      }
    }
    pos++;
  } else if (c == 0x22) {
    v.kind = JsonKind.String;
    parseString();
    v.strAt = sAt;
    v.strLen = sLen;
    v.strUnits = sUnits;
  } else if (c == 0x2D || <u32>(c - 0x30) < 10) {
    v.kind = JsonKind.Number;
    v.numAt = pos;
    skipNumber();
    v.numEnd = pos;
  } else if (c < 0) {
    if (depth == 0) v.kind = JsonKind.Object; // an empty input reads as {}
    else syntaxError(T.END);
  } else {
    // true / false / null: the next 4 bytes as one little-endian word ("true", "fals", "null");
    // the copy has 4 bytes of padding, and c >= 0 means pos < pEnd
    let w = load<u32>(pos);
    let isFalse = w == 0x736C6166 && load<u8>(pos, 4) == 0x65;
    if (isFalse || w == 0x65757274 || w == 0x6C6C756E) {
      pos += 4 + <usize>isFalse;
      if (c != 0x6E) v.kind = JsonKind.Bool; // not null
      v.boolValue = c == 0x74;
    } else syntaxError(T.CHARACTER);
  }
  return v;
}

/** Reads 4 hex digits (a syntax error otherwise). */
function hex4(): u32 {
  let r: u32 = 0;
  for (let i = 0; i < 4; i++) {
    let c = peek();
    let d = <u32>(c - 0x30);
    if (d > 9) {
      d = <u32>((c | 0x20) - 0x61); // a-f / A-F
      if (d > 5) {
        syntaxError(T.U_ESCAPE);
        break;
      }
      d += 10;
    }
    r = (r << 4) | d;
    pos++;
  }
  return r;
}

/** The last string read by parseString: its unescaped UTF-8 (a range of the copy) and its UTF-16 length. */
let sAt: usize = 0;
let sLen: usize = 0;
let sUnits = 0;

/**
 * Reads a string at its opening quote into sAt / sLen, unescaping it in place: each escape is
 * written where it starts, as UTF-8 (never longer than the escape, even when the escape is cut
 * short by an error). A surrogate pair is joined; a lone surrogate escape reads as U+FFFD.
 */
function parseString(): void {
  let o = ++pos;
  sAt = o;
  let units = 0;
  while (true) {
    let c = read();
    if (c == 0x22) break;
    if (c < 0x20) {
      pos--;
      syntaxError(c < 0 ? T.UNTERMINATED : T.CONTROL);
      break;
    }
    if (c == 0x5C) {
      let e = read();
      if (e == 0x75) { // \uXXXX
        let u = hex4();
        let n: usize = 1;
        store<u16>(UNITS, <u16>u);
        if (u - 0xD800 < 0x400 && load<u16>(pos) == 0x755C) { // "\u" (pos <= pEnd: padding)
          pos += 2;
          let lo = hex4();
          if (lo - 0xDC00 < 0x400) {
            store<u16>(UNITS + 2, <u16>lo);
            n = 2;
          } else pos -= 6; // not a low surrogate: read it on its own next
        }
        if (n == 1 && u - 0xD800 < 0x800) store<u16>(UNITS, 0xFFFD);
        o += utf8Encode(UNITS, n, o);
        units += <i32>n;
        continue;
      }
      let i: usize = 0;
      while (i < 16 && <i32>load<u8>(ESCAPES + i) != e) i += 2;
      if (i == 16) {
        pos--;
        syntaxError(T.ESCAPE);
        break;
      }
      c = <i32>load<u8>(ESCAPES + i, 1);
    }
    // UTF-16 units: one per byte that starts a sequence, two for a 4-byte one
    units += <i32>(<u32>(c - 0x80) >= 0x40) + <i32>(c >= 0xF0);
    store<u8>(o++, <u8>c);
  }
  sLen = o - sAt;
  sUnits = units;
}

/** Moves past the byte `c` when it is next; true when it was. */
function eat(c: i32): bool {
  if (peek() != c) return false;
  pos++;
  return true;
}

/** Skips one or more digits (an invalid number without one); returns how many. */
function digits(): i32 {
  let n = 0;
  while (<u32>(peek() - 0x30) <= 9) { pos++; n++; }
  if (n == 0) syntaxError(T.BAD_NUMBER);
  return n;
}

/**
 * Checks the number at the position (JSON grammar) and moves past it. An error ends the input
 * where it is found, so the parts after it read nothing.
 */
function skipNumber(): void {
  eat(0x2D); // -
  let zero = peek() == 0x30;
  if (digits() > 1 && zero) syntaxError(T.BAD_NUMBER); // a leading zero
  if (eat(0x2E)) digits(); // .
  if ((peek() | 0x20) == 0x65) { // e / E
    pos++;
    if (!eat(0x2B)) eat(0x2D);
    digits();
  }
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

/**
 * @internal parseJson over raw bytes; `rootName` is UTF-8 (null: "config"). The bytes are
 * copied (`src`, the buffer holding them, need not stay alive).
 */
export function parseJsonAt(ptr: usize, len: usize, rootName: ArrayBuffer | null, src: ArrayBuffer | null): JsonValue {
  // every field is stored (smaller than `new`, which first stores the defaults)
  let doc = changetype<JsonDoc>(__new(offsetof<JsonDoc>(), idof<JsonDoc>()));
  doc.err = null;
  doc.rootName = rootName;
  let copy = new ArrayBuffer(<i32>len + 4); // zero padding: see the literals in parseValue
  doc.src = copy;
  pDoc = changetype<usize>(doc);
  pos = lineAt = changetype<usize>(copy);
  memory.copy(pos, ptr, len);
  pEnd = pos + len;
  line = 1;
  let v = parseValue(null, 0, 0);
  clearKeys();
  if (ws() >= 0) syntaxError(T.TRAILING);
  v.visited = v.kind == JsonKind.Object;
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
