// A `json` mapping's path into the answer: "user.tier", "user.roles.0".

import { JsonValue, JsonKind, formatInt, utf8Bytes } from "as-proxy-wasm";

/** Longest path a mapping may name, in characters. */
const MAX_PATH_LENGTH = 256;
const DOT = ".";

/**
 * A dotted path into a JSON document: each segment is an object key, or an array index when the
 * value reached so far is an array ("roles.0" is the first role).
 */
export class JsonPath {
  constructor(public segments: string[]) {}

  /** Splits "user.tier" at its dots; null when empty, longer than 256 or with an empty segment ("a..b"). */
  static parse(text: string): JsonPath | null {
    if (text.length == 0 || text.length > MAX_PATH_LENGTH) return null;
    let segments = new Array<string>();
    let from = 0;
    while (true) {
      let dot = text.indexOf(DOT, from);
      let end = dot < 0 ? text.length : dot;
      if (end == from) return null; // an empty segment
      segments.push(text.substring(from, end));
      if (dot < 0) return new JsonPath(segments);
      from = dot + 1;
    }
  }

  /**
   * The scalar at this path in `doc`, as the bytes of a header value: a string as is, `true` /
   * `false`, a number as `formatNumber` writes it. Null when the path leads nowhere, or to null,
   * an object, an array or a number too large or too precise to write exactly.
   */
  lookup(doc: JsonValue): ArrayBuffer | null {
    let cur: JsonValue | null = doc;
    for (let i = 0; i < this.segments.length && cur !== null; i++) {
      cur = child(cur, unchecked(this.segments[i]));
    }
    if (cur === null) return null;
    if (cur.kind == JsonKind.String) return utf8Bytes(cur.strValue);
    if (cur.kind == JsonKind.Bool) return utf8Bytes(cur.boolValue ? "true" : "false");
    if (cur.kind == JsonKind.Number) {
      let text = formatNumber(cur.numValue);
      return text === null ? null : utf8Bytes(text);
    }
    return null;
  }
}

/** The member `segment` of an object, the element `segment` of an array, or null. */
function child(v: JsonValue, segment: string): JsonValue | null {
  if (v.kind == JsonKind.Object) return v.get(segment);
  if (v.kind == JsonKind.Array) {
    let index = parseIndex(segment);
    return index >= 0 ? v.at(index) : null;
  }
  return null;
}

/** A canonical decimal array index ("0", "12", not "012"), or -1. */
function parseIndex(s: string): i32 {
  if (s.length == 0 || s.length > 9 || (s.length > 1 && s.charCodeAt(0) == 0x30 /* 0 */)) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Largest integer a double holds exactly (2^53 - 1). */
const MAX_EXACT_INTEGER: f64 = 9007199254740991;
/** Significant digits written for a number with a fraction (what a double keeps exactly). */
const SIGNIFICANT_DIGITS = 15;

/**
 * A JSON number as text: integers up to 2^53 exactly, other numbers with at most 15 significant
 * digits (exactly what a JSON text of <= 15 digits said). Beyond that range (|n| >= 1e15 with a
 * fraction, |n| < 1e-6, or > 2^53): null, the mapping counts as absent. (No f64.toString: that
 * links ~3.5 KB of dtoa.)
 */
export function formatNumber(n: f64): string | null {
  let a = Math.abs(n);
  if (a == Math.floor(a) && a <= MAX_EXACT_INTEGER) return formatInt(<i64>n);
  if (!(a < 1e15) || a < 1e-6) return null;
  let ip = Math.floor(a);
  let intText = formatInt(<i64>ip);
  let fracDigits = ip == 0 ? SIGNIFICANT_DIGITS : SIGNIFICANT_DIGITS - intText.length;
  let scale: f64 = 1;
  for (let i = 0; i < fracDigits; i++) scale *= 10; // exact up to 1e22
  let frac = <i64>Math.round((a - ip) * scale);
  if (<f64>frac >= scale) return null; // rounds up to the next integer: not worth a carry
  let ft = formatInt(frac);
  while (ft.length < fracDigits) ft = "0" + ft;
  let end = ft.length;
  while (end > 0 && ft.charCodeAt(end - 1) == 0x30 /* 0 */) end--;
  let sign: string = n < 0 ? "-" : "";
  if (end == 0) return sign + intText;
  return sign + intText + "." + ft.substring(0, end);
}
