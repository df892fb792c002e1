// The JSON parser: one pass over a private copy of the input into JsonValue trees (./json-value).

import { utf8Bytes, utf8Encode, sameBytes } from "./utf8";
import { msgStart, msgPut, msgByte, msgInt, msgEnd } from "./format";
import { T } from "./text";
import { JsonValue, JsonDoc, JsonKind, blankValue, putText, putColon, putRoot, failKey } from "./json-value";

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
  let v = blankValue(changetype<JsonDoc>(pDoc)); // then only the links are stored
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
