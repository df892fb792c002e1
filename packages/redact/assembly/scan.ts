// The redaction scanner: one pass over a complete body, no regex engine, no allocation once the
// output buffer has grown. Bytes are never decoded, so any input (binary, invalid UTF-8) is safe.
//
// Rules prepared at configure time (Rules) are dispatched by a 256-entry trigger table: a byte
// that can start nothing costs one load and one branch.

import { utf8Bytes } from "as-proxy-wasm";

export const DET_EMAIL: i32 = 0;
export const DET_CARD: i32 = 1;
export const DET_BEARER: i32 = 2;
export const DET_JWT: i32 = 3;
export const DET_CLOUD: i32 = 4;
export const DETECTOR_NAMES = ["email", "credit_card", "bearer_token", "jwt", "cloud_key"];

const T_MARKER: u8 = 1;
const T_QUOTE: u8 = 2; // '"' and '\\': JSON string tracking for json fields
const T_EMAIL: u8 = 4;
const T_DIGIT: u8 = 8;
const T_BEARER: u8 = 16;
const T_JWT: u8 = 32;
const T_CLOUD: u8 = 64;
const T_FORM: u8 = 128; // '=' in form bodies

/** Body flavour: decides JSON escapes/keys vs form keys. */
export const MODE_JSON: i32 = 1;
export const MODE_TEXT: i32 = 2;
export const MODE_FORM: i32 = 3;

// Byte classes
const C_ALNUM: u8 = 1;
const C_B64URL: u8 = 2; // A-Z a-z 0-9 - _
const C_LOCAL: u8 = 4; // email local part
const C_DOMAIN: u8 = 8; // A-Z a-z 0-9 - .
const C_TOKEN: u8 = 16; // bearer token chars: b64url + . ~ + / =
const C_UPPERNUM: u8 = 32; // A-Z 0-9
const C_ALPHA: u8 = 64;

// @ts-ignore: decorator
@lazy const CLASS: StaticArray<u8> = buildClasses();

function buildClasses(): StaticArray<u8> {
  let t = new StaticArray<u8>(256);
  for (let c = 0; c < 256; c++) {
    let v: u8 = 0;
    let upper = c >= 0x41 && c <= 0x5a, lower = c >= 0x61 && c <= 0x7a, digit = c >= 0x30 && c <= 0x39;
    if (upper || lower || digit) v |= C_ALNUM | C_B64URL | C_LOCAL | C_DOMAIN | C_TOKEN;
    if (upper || lower) v |= C_ALPHA;
    if (upper || digit) v |= C_UPPERNUM;
    if (c == 0x2d || c == 0x5f) v |= C_B64URL | C_TOKEN;
    if (c == 0x2d || c == 0x2e) v |= C_DOMAIN;
    if (c == 0x2e || c == 0x5f || c == 0x25 || c == 0x2b || c == 0x2d) v |= C_LOCAL;
    if (c == 0x2e || c == 0x7e || c == 0x2b || c == 0x2f || c == 0x3d) v |= C_TOKEN;
    unchecked(t[c] = v);
  }
  return t;
}

// @ts-ignore: decorator
@inline function cls(b: u32): u8 {
  return unchecked(CLASS[b]);
}

/** One literal marker rule, with its delimiter tables (256 bytes each, raw). */
export class Marker {
  ptr: usize;
  len: i32;
  textTable: usize;
  jsonTable: usize;
  private tables: ArrayBuffer = new ArrayBuffer(512); // zeroed; kept alive (and freed) with the marker
  constructor(public bytes: ArrayBuffer, delims: string, public rule: i32) {
    this.ptr = changetype<usize>(bytes);
    this.len = bytes.byteLength;
    this.textTable = changetype<usize>(this.tables);
    this.jsonTable = this.textTable + 256;
    for (let i = 0; i < delims.length; i++) {
      let c = <usize>delims.charCodeAt(i) & 0xff;
      store<u8>(this.textTable + c, 1);
      store<u8>(this.jsonTable + c, 1);
    }
    store<u8>(this.jsonTable + 0x22, 1);
    store<u8>(this.jsonTable + 0x5c, 2);
  }
}

/** Everything the scanner needs, built once per configuration. */
export class Rules {
  markers: Marker[] = [];
  /** JSON/form field names, ASCII lower-cased, and their rule indexes. */
  fields: ArrayBuffer[] = [];
  fieldRules: i32[] = [];
  maxField: i32 = 0;
  /** detector -> rule index (-1 when disabled). */
  detectors: StaticArray<i32> = new StaticArray<i32>(5);
  mask: ArrayBuffer = new ArrayBuffer(0);
  quotedMask: ArrayBuffer = new ArrayBuffer(0);
  trigText: StaticArray<u8> = new StaticArray<u8>(256);
  trigForm: StaticArray<u8> = new StaticArray<u8>(256);
  /** Distinct non-digit trigger bytes of each table, padded to 8 (for the SIMD prefilter). */
  bytesText: StaticArray<u8> = new StaticArray<u8>(8);
  bytesForm: StaticArray<u8> = new StaticArray<u8>(8);
  /** The prefilter applies: at most 8 such bytes, and at least one trigger. */
  simdText: bool = false;
  simdForm: bool = false;
  /** Masks per rule during the last scan. */
  hits: StaticArray<u32> = new StaticArray<u32>(0);

  constructor() {
    for (let i = 0; i < 5; i++) unchecked(this.detectors[i] = -1);
  }

  maskPtr: usize = 0;
  maskLen: i32 = 0;

  setMask(mask: string): void {
    this.mask = utf8Bytes(mask);
    this.maskPtr = changetype<usize>(this.mask);
    this.maskLen = this.mask.byteLength;
    this.quotedMask = utf8Bytes("\"" + mask + "\"");
  }

  /** Builds the trigger tables; call after adding every rule. */
  finish(ruleCount: i32): void {
    this.hits = new StaticArray<u32>(ruleCount);
    let t = this.trigText;
    for (let i = 0; i < this.markers.length; i++) trig(t, load<u8>(changetype<usize>(unchecked(this.markers[i]).bytes)), T_MARKER);
    if (this.fields.length > 0) { trig(t, 0x22, T_QUOTE); trig(t, 0x5c, T_QUOTE); }
    let d = this.detectors;
    if (unchecked(d[DET_EMAIL]) >= 0) trig(t, 0x40, T_EMAIL);
    if (unchecked(d[DET_CARD]) >= 0) for (let c = 0x30; c <= 0x39; c++) trig(t, c, T_DIGIT);
    if (unchecked(d[DET_BEARER]) >= 0) { trig(t, 0x42, T_BEARER); trig(t, 0x62, T_BEARER); }
    if (unchecked(d[DET_JWT]) >= 0) trig(t, 0x65, T_JWT);
    if (unchecked(d[DET_CLOUD]) >= 0) trig(t, 0x41, T_CLOUD);
    // form bodies: same markers and detectors, form keys instead of JSON keys
    let f = this.trigForm;
    for (let c = 0; c < 256; c++) unchecked(f[c] = unchecked(t[c]) & ~T_QUOTE);
    if (this.fields.length > 0) trig(f, 0x3d, T_FORM);
    this.simdText = triggerBytes(t, this.bytesText);
    this.simdForm = triggerBytes(f, this.bytesForm);
  }
}

/**
 * Writes the distinct trigger bytes of a table (digits excluded: they are tested as a range) into
 * `out`, padded with the first one; true when the SIMD prefilter can use them (1..8 bytes, or
 * digits only, the padding then being NUL, which is no trigger).
 */
function triggerBytes(t: StaticArray<u8>, out: StaticArray<u8>): bool {
  let n = 0;
  for (let c = 0; c < 256; c++) {
    if (unchecked(t[c]) == 0 || (c >= 0x30 && c <= 0x39)) continue;
    if (n == 8) return false;
    unchecked(out[n++] = <u8>c);
  }
  for (let k = n; k < 8; k++) unchecked(out[k] = out[0]);
  return n > 0 || unchecked(t[0x30]) != 0;
}

function trig(t: StaticArray<u8>, c: i32, bit: u8): void {
  unchecked(t[c] = unchecked(t[c]) | bit);
}

// ---- output buffer (grown, kept across requests) ----
let out = new ArrayBuffer(4096);
/** Bytes written by the last scan (valid when it returned true). */
export let outLen: i32 = 0;

export function outPtr(): usize {
  return changetype<usize>(out);
}

function reserve(extra: i32): void {
  let need = outLen + extra;
  if (need <= out.byteLength) return;
  let cap = out.byteLength;
  while (cap < need) cap <<= 1;
  let nb = new ArrayBuffer(cap);
  memory.copy(changetype<usize>(nb), changetype<usize>(out), <usize>outLen);
  out = nb;
}

function emit(src: usize, n: i32): void {
  if (n <= 0) return;
  reserve(n);
  memory.copy(changetype<usize>(out) + <usize>outLen, src, <usize>n);
  outLen += n;
}

// scan state (module globals: one scan at a time, no allocation)
let P: usize = 0;
let N: i32 = 0;
let copied: i32 = 0;
let masks: i32 = 0;
let R: Rules = new Rules();

/** Replaces input [from, to) by `m`: copies the pending input before it, then the mask. */
function replace(from: i32, to: i32, m: ArrayBuffer, rule: i32): void {
  emit(P + <usize>copied, from - copied);
  emit(changetype<usize>(m), m.byteLength);
  copied = to;
  masks++;
  let h = R.hits;
  unchecked(h[rule] = h[rule] + 1);
}

// @ts-ignore: decorator
@inline function at(i: i32): u32 {
  return <u32>load<u8>(P + <usize>i);
}

/** First index >= i that is not JSON whitespace. */
function skipWs(i: i32): i32 {
  while (i < N) {
    let b = at(i);
    if (b != 0x20 && b != 0x09 && b != 0x0a && b != 0x0d) break;
    i++;
  }
  return i;
}

function lowerEq(p: usize, q: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    let a = <u32>load<u8>(p + <usize>i);
    if (a - 0x41 < 26) a |= 0x20;
    if (a != <u32>load<u8>(q + <usize>i)) return false;
  }
  return true;
}

/** Index of the field named by input [s, e) (ASCII case-insensitive), or -1. */
function fieldIndex(s: i32, e: i32): i32 {
  let n = e - s;
  if (n <= 0 || n > R.maxField) return -1;
  let fs = R.fields;
  for (let k = 0; k < fs.length; k++) {
    let f = unchecked(fs[k]);
    if (f.byteLength == n && lowerEq(P + <usize>s, changetype<usize>(f), n)) return k;
  }
  return -1;
}

/** The character a JSON escape `\c` stands for, or -1 for `\u` (judged as part of a value). */
function decodedEscape(c: u32): i32 {
  switch (c) {
    case 0x6e: return 0x0a; // \n
    case 0x72: return 0x0d; // \r
    case 0x74: return 0x09; // \t
    case 0x62: return 0x08; // \b
    case 0x66: return 0x0c; // \f
    case 0x75: return -1; // \uXXXX
  }
  return <i32>c; // \" \\ \/ (and anything else) stand for themselves
}

/** Marker at i: masks its value; returns the index to continue at, or -1. */
function tryMarkers(i: i32, mode: i32): i32 {
  let ms = R.markers;
  let c = at(i);
  for (let k = 0, nm = ms.length; k < nm; k++) {
    let m = unchecked(ms[k]);
    let len = m.len;
    let mp = m.ptr;
    if (<u32>load<u8>(mp) != c || i + len > N || memory.compare(P + <usize>i, mp, <usize>len) != 0) continue;
    let vs = i + len;
    // already masked (e.g. an upstream echoing a redacted request): leave it, so masking is idempotent
    let ml = R.maskLen;
    if (vs + ml <= N && memory.compare(P + <usize>vs, R.maskPtr, <usize>ml) == 0) return vs + ml;
    // delimiter table: 0 = part of the value, 1 = ends it, 2 = escape (JSON). An escape is judged
    // by the character it stands for: `\"` inside a JSON string (e.g. JSON nested in a JSON
    // string) is a quote, which ends the value like a raw quote in text; `\\`, `\/` and `\uXXXX`
    // are part of it. The mask never splits an escape, so the JSON stays valid.
    let dt = mode == MODE_JSON ? m.jsonTable : m.textTable;
    let e = vs;
    while (e < N) {
      let d = load<u8>(dt + <usize>at(e));
      if (d == 0) { e++; continue; }
      if (d == 2) {
        if (e + 1 >= N) break;
        let x = decodedEscape(at(e + 1));
        if (x >= 0 && load<u8>(m.textTable + <usize>x) == 1) break;
        e = min(e + (at(e + 1) == 0x75 ? 6 : 2), N);
        continue;
      }
      break;
    }
    if (e == vs) return vs; // marker without a value: nothing to mask
    replace(vs, e, R.mask, m.rule);
    return e;
  }
  return -1;
}

/** JSON value at v (after "key":) masked; returns the index to continue at. */
function maskJsonValue(v: i32, rule: i32): i32 {
  v = skipWs(v);
  if (v >= N) return v;
  let c = at(v);
  if (c == 0x22) {
    let k = v + 1;
    while (k < N) {
      let b = at(k);
      if (b == 0x5c) { k += 2; continue; }
      if (b == 0x22) break;
      k++;
    }
    if (k > N) k = N;
    if (k > v + 1) replace(v + 1, k, R.mask, rule);
    return k < N ? k + 1 : N; // past the closing quote
  }
  let e = v;
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    let inStr = false;
    while (e < N) {
      let b = at(e++);
      if (inStr) {
        if (b == 0x5c) e++;
        else if (b == 0x22) inStr = false;
      } else if (b == 0x22) inStr = true;
      else if (b == 0x7b || b == 0x5b) depth++;
      else if (b == 0x7d || b == 0x5d) { if (--depth == 0) break; }
    }
    if (e > N) e = N;
  } else {
    while (e < N) {
      let b = at(e);
      if (b == 0x2c || b == 0x7d || b == 0x5d || b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09) break;
      e++;
    }
    // null hides nothing
    if (e - v == 4 && c == 0x6e && at(v + 1) == 0x75 && at(v + 2) == 0x6c && at(v + 3) == 0x6c) return e;
  }
  if (e > v) replace(v, e, R.quotedMask, rule);
  return e;
}

/** Closing quote of a string that started at keyStart: if it is a key of a masked field, mask its value. */
function afterKey(keyStart: i32, q: i32): i32 {
  let j = skipWs(q + 1);
  if (j >= N || at(j) != 0x3a) return -1;
  let f = fieldIndex(keyStart, q);
  if (f < 0) return -1;
  return maskJsonValue(j + 1, unchecked(R.fieldRules[f]));
}

/** Form "key=value": at '=' (index i). */
function tryFormField(i: i32): i32 {
  let s = i;
  let lim = max(0, i - R.maxField - 1);
  while (s > lim && at(s - 1) != 0x26) s--;
  if (s > 0 && at(s - 1) != 0x26) return -1;
  let f = fieldIndex(s, i);
  if (f < 0) return -1;
  let e = i + 1;
  while (e < N && at(e) != 0x26) e++;
  if (e == i + 1) return e;
  replace(i + 1, e, R.mask, unchecked(R.fieldRules[f]));
  return e;
}

function tryEmail(i: i32): i32 {
  let ls = i;
  let lim = max(copied, i - 64);
  while (ls > lim && (cls(at(ls - 1)) & C_LOCAL)) ls--;
  if (ls == i) return -1;
  let e = i + 1;
  let lim2 = min(N, i + 256);
  while (e < lim2 && (cls(at(e)) & C_DOMAIN)) e++;
  while (e > i + 1 && (at(e - 1) == 0x2e || at(e - 1) == 0x2d)) e--;
  // a TLD of two or more letters after the last dot
  let d = e;
  while (d > i + 1 && at(d - 1) != 0x2e) {
    if (!(cls(at(d - 1)) & C_ALPHA)) return -1;
    d--;
  }
  if (d <= i + 2 || e - d < 2) return -1;
  replace(ls, e, R.mask, unchecked(R.detectors[DET_EMAIL]));
  return e;
}

function tryCard(i: i32): i32 {
  if (i > 0 && (cls(at(i - 1)) & C_ALNUM)) return -1;
  let k = i;
  let digits = 0;
  let sum = 0;
  // collect up to 20 digits, single ' ' or '-' separators
  let end = i;
  while (k < N) {
    let b = at(k);
    if (b - 0x30 < 10) {
      if (++digits > 19) return -1;
      k++;
      end = k;
      continue;
    }
    if ((b == 0x20 || b == 0x2d) && k + 1 < N && at(k + 1) - 0x30 < 10 && k > i) { k++; continue; }
    break;
  }
  if (digits < 13) return -1;
  if (end < N && (cls(at(end)) & C_ALNUM)) return -1;
  // Luhn, from the rightmost digit
  let pos = 0;
  for (let j = end - 1; j >= i; j--) {
    let b = at(j);
    if (b - 0x30 >= 10) continue;
    let v = <i32>(b - 0x30);
    if (pos & 1) { v <<= 1; if (v > 9) v -= 9; }
    sum += v;
    pos++;
  }
  if (sum % 10 != 0) return -1;
  replace(i, end, R.mask, unchecked(R.detectors[DET_CARD]));
  return end;
}

function tryBearer(i: i32): i32 {
  if (i + 7 > N || (i > 0 && (cls(at(i - 1)) & C_ALNUM))) return -1;
  // "earer" after B/b, then blanks
  if ((load<u32>(P + <usize>i + 1) | 0x20202020) != 0x65726165 || (at(i + 5) | 0x20) != 0x72) return -1;
  let s = i + 6;
  while (s < N && (at(s) == 0x20 || at(s) == 0x09)) s++;
  if (s == i + 6) return -1;
  let e = s;
  let plain = true;
  while (e < N && (cls(at(e)) & C_TOKEN)) {
    if (!(cls(at(e)) & C_ALPHA)) plain = false;
    e++;
  }
  // "Bearer authentication" is prose, not a token: need 8+ chars, not only letters
  if (e - s < 8 || plain) return -1;
  replace(s, e, R.mask, unchecked(R.detectors[DET_BEARER]));
  return e;
}

function b64seg(k: i32): i32 {
  while (k < N && (cls(at(k)) & C_B64URL)) k++;
  return k;
}

/** "eyJ" (base64 of '{"') at k. */
// @ts-ignore: decorator
@inline function eyJ(k: i32): bool {
  return k + 3 <= N && load<u16>(P + <usize>k) == 0x7965 && at(k + 2) == 0x4a;
}

function tryJwt(i: i32): i32 {
  if (i > 0 && ((cls(at(i - 1)) & C_B64URL) || at(i - 1) == 0x2e)) return -1;
  if (!eyJ(i)) return -1;
  let a = b64seg(i + 3);
  if (a - i < 8 || a >= N || at(a) != 0x2e || !eyJ(a + 1)) return -1;
  let b = b64seg(a + 4);
  if (b - a < 8 || b >= N || at(b) != 0x2e) return -1;
  let c = b64seg(b + 1);
  if (c < N && at(c) == 0x2e) return -1;
  replace(i, c, R.mask, unchecked(R.detectors[DET_JWT]));
  return c;
}

/** AWS access key ids (AKIA/ASIA/ABIA/ACCA + 16 [A-Z0-9]) and Google API keys (AIza + 35 [A-Za-z0-9_-]). */
function tryCloud(i: i32): i32 {
  if (i + 20 > N || (i > 0 && (cls(at(i - 1)) & C_ALNUM))) return -1;
  let w = load<u32>(P + <usize>i);
  let len = 20;
  let klass = C_UPPERNUM;
  if (w == 0x617a4941) { len = 39; klass = C_B64URL; }
  else if (w != 0x41494b41 && w != 0x41495341 && w != 0x41494241 && w != 0x41434341) return -1;
  let e = i + len;
  if (e > N || (e < N && (cls(at(e)) & C_B64URL))) return -1;
  for (let k = i + 4; k < e; k++) if (!(cls(at(k)) & klass)) return -1;
  replace(i, e, R.mask, unchecked(R.detectors[DET_CLOUD]));
  return e;
}

/**
 * Scans [p, p+n). Returns the number of masks; when > 0 the redacted body is in
 * outPtr()/outLen. `rules.hits` holds the masks per rule.
 */
// JSON string tracking of the current scan
let inStr = false;
let keyStart = 0;

/** Tries every rule triggered by the byte at i (trigger bits t != 0); returns the next index. */
function step(i: i32, t: u8, mode: i32): i32 {
  let r = -1;
  if (t & T_MARKER) r = tryMarkers(i, mode);
  if (r < 0 && (t & T_QUOTE)) {
    if (at(i) == 0x5c) r = inStr ? i + 2 : i + 1;
    else if (!inStr) { inStr = true; keyStart = i + 1; r = i + 1; }
    else {
      inStr = false;
      r = afterKey(keyStart, i);
    }
  }
  if (r < 0 && (t & T_FORM)) r = tryFormField(i);
  if (r < 0 && (t & T_EMAIL)) r = tryEmail(i);
  if (r < 0 && (t & T_DIGIT)) r = tryCard(i);
  if (r < 0 && (t & T_BEARER)) r = tryBearer(i);
  if (r < 0 && (t & T_JWT)) r = tryJwt(i);
  if (r < 0 && (t & T_CLOUD)) r = tryCloud(i);
  return r < 0 ? i + 1 : r;
}

/**
 * Scans [p, p+n). Returns the number of masks; when > 0 the redacted body is in
 * outPtr()/outLen. `rules.hits` holds the masks per rule.
 */
export function scan(rules: Rules, p: usize, n: i32, mode: i32): i32 {
  R = rules;
  P = p;
  N = n;
  copied = 0;
  masks = 0;
  outLen = 0;
  inStr = false;
  keyStart = 0;
  let hits = rules.hits;
  for (let k = 0; k < hits.length; k++) unchecked(hits[k] = 0);
  let form = mode == MODE_FORM;
  let trig = form ? rules.trigForm : rules.trigText;
  let tp = changetype<usize>(trig);
  // SIMD prefilter: up to 8 distinct trigger bytes (plus the digit range) are tested 16 bytes at a
  // time; only the candidates of a block are looked at. Other sets use the table alone.
  let tb = changetype<usize>(form ? rules.bytesForm : rules.bytesText);
  let simd = form ? rules.simdForm : rules.simdText;
  let digits = unchecked(trig[0x30]) != 0;
  let s0 = i8x16.splat(load<u8>(tb)), s1 = i8x16.splat(load<u8>(tb, 1)), s2 = i8x16.splat(load<u8>(tb, 2)), s3 = i8x16.splat(load<u8>(tb, 3));
  let s4 = i8x16.splat(load<u8>(tb, 4)), s5 = i8x16.splat(load<u8>(tb, 5)), s6 = i8x16.splat(load<u8>(tb, 6)), s7 = i8x16.splat(load<u8>(tb, 7));
  let zero = i8x16.splat(0x30), ten = i8x16.splat(10);
  let i = 0;
  if (simd) {
    while (i + 16 <= n) {
      let v = v128.load(p + <usize>i);
      let m = v128.or(
        v128.or(v128.or(i8x16.eq(v, s0), i8x16.eq(v, s1)), v128.or(i8x16.eq(v, s2), i8x16.eq(v, s3))),
        v128.or(v128.or(i8x16.eq(v, s4), i8x16.eq(v, s5)), v128.or(i8x16.eq(v, s6), i8x16.eq(v, s7))),
      );
      if (digits) m = v128.or(m, i8x16.lt_u(i8x16.sub(v, zero), ten));
      let bits = i8x16.bitmask(m);
      let end = i + 16;
      while (bits != 0) {
        let pos = end - 16 + <i32>ctz(bits);
        bits &= bits - 1;
        if (pos < i) continue; // inside what a previous match consumed (i: next unscanned index)
        let t = load<u8>(tp + <usize>load<u8>(p + <usize>pos));
        i = t == 0 ? pos + 1 : step(pos, t, mode);
      }
      if (i < end) i = end;
    }
  }
  while (i < n) {
    let t = load<u8>(tp + <usize>load<u8>(p + <usize>i));
    i = t == 0 ? i + 1 : step(i, t, mode);
  }
  if (masks > 0) emit(p + <usize>copied, n - copied);
  return masks;
}
