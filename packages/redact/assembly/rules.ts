// The configured rules, prepared once at configure time for the scanner.
import { utf8Bytes } from "as-proxy-wasm";
import { ByteSet, addressOf, entry8, lowerEquals } from "./bytes";
import { formMaskOf } from "./form";
import { Pattern } from "./pattern";

/** The built-in detectors, in the order of DETECTOR_NAMES. */
export enum Detector {
  Email = 0,
  Card = 1,
  Bearer = 2,
  Jwt = 3,
  CloudKey = 4,
}
export const DETECTOR_COUNT = 5;
export const DETECTOR_NAMES = ["email", "credit_card", "bearer_token", "jwt", "cloud_key"];

/** How a body is read: JSON tokens, plain text, or form fields. */
export enum BodyMode {
  Skip = 0,
  Json = 1,
  Text = 2,
  Form = 3,
}

/** What a rule listens for, as bits of the 256-entry trigger table. */
export enum Trigger {
  Marker = 1,
  Email = 2,
  Digit = 4,
  Bearer = 8,
  Jwt = 16,
  CloudKey = 32,
}

/** What a marker's delimiter table says about a byte. */
export enum Delim {
  Value = 0,
  End = 1,
  /** A backslash in a JSON body: judged by the character the escape stands for. */
  Escape = 2,
}

/** Byte classes (bits of CLASS). */
export enum ByteClass {
  Alnum = 1,
  /** A-Z a-z 0-9 - _ */
  Base64Url = 2,
  /** e-mail local part; non-ASCII bytes too (internationalized addresses) */
  Local = 4,
  /** A-Z a-z 0-9 - . and non-ASCII bytes (IDN labels) */
  Domain = 8,
  /** bearer token: base64url + . ~ + / = */
  Token = 16,
  /** A-Z 0-9 */
  UpperNum = 32,
  Alpha = 64,
}

function buildClasses(): StaticArray<u8> {
  let t = new StaticArray<u8>(256);
  for (let c = 0; c < 256; c++) {
    let v = 0;
    let upper = c >= 0x41 && c <= 0x5a, lower = c >= 0x61 && c <= 0x7a, digit = c >= 0x30 && c <= 0x39;
    if (upper || lower || digit) v |= ByteClass.Alnum | ByteClass.Base64Url | ByteClass.Local | ByteClass.Domain | ByteClass.Token;
    if (upper || lower) v |= ByteClass.Alpha;
    if (upper || digit) v |= ByteClass.UpperNum;
    if (c == 0x2d || c == 0x5f) v |= ByteClass.Base64Url | ByteClass.Token; // - _
    if (c == 0x2d || c == 0x2e || c >= 0x80) v |= ByteClass.Domain; // - .
    if (c == 0x2e || c == 0x5f || c == 0x25 || c == 0x2b || c == 0x2d || c >= 0x80) v |= ByteClass.Local; // . _ % + -
    if (c == 0x2e || c == 0x7e || c == 0x2b || c == 0x2f || c == 0x3d) v |= ByteClass.Token; // . ~ + / =
    unchecked(t[c] = <u8>v);
  }
  return t;
}

// @ts-ignore: decorator
@lazy const CLASS: StaticArray<u8> = buildClasses();

/** True when byte b is in class k. */
// @ts-ignore: decorator
@inline export function isClass(b: u32, k: ByteClass): bool {
  return (entry8(CLASS, b) & <u32>k) != 0;
}

/** One literal marker rule and its delimiter tables (256 entries each, a Delim per byte). */
export class Marker {
  textEnds: StaticArray<u8> = new StaticArray<u8>(256);
  jsonEnds: StaticArray<u8> = new StaticArray<u8>(256);

  constructor(public bytes: ArrayBuffer, delimiters: string, public rule: i32) {
    for (let i = 0; i < delimiters.length; i++) {
      let c = delimiters.charCodeAt(i) & 0xff;
      unchecked(this.textEnds[c] = <u8>Delim.End);
      unchecked(this.jsonEnds[c] = <u8>Delim.End);
    }
    unchecked(this.jsonEnds[0x22] = <u8>Delim.End); // "
    unchecked(this.jsonEnds[0x5c] = <u8>Delim.Escape); // \
  }
}

/** A JSON/form field name (ASCII lower-cased) and its rule. */
export class Field {
  constructor(public name: ArrayBuffer, public rule: i32) {}
}

/** A pattern rule: its compiled automaton and its rule index. */
export class PatternRule {
  constructor(public pattern: Pattern, public rule: i32) {}
}

/** Everything the scanner needs, built once per configuration. */
export class Rules {
  markers: Marker[] = [];
  fields: Field[] = [];
  maxField: i32 = 0;
  patterns: PatternRule[] = [];
  /** detector -> rule index, or -1 when the detector is off. */
  detectors: StaticArray<i32> = new StaticArray<i32>(DETECTOR_COUNT);
  ruleCount: i32 = 0;
  /** The mask as it replaces a string's content, a whole JSON value, and a value in JSON carried in a JSON string. */
  mask: ArrayBuffer = new ArrayBuffer(0);
  quotedMask: ArrayBuffer = new ArrayBuffer(0);
  escapedQuotedMask: ArrayBuffer = new ArrayBuffer(0);
  /** The mask as written into a form body (form-encoded). */
  formMask: ArrayBuffer = new ArrayBuffer(0);
  /** byte -> Trigger bits: what can start at that byte. */
  triggers: ByteSet = new ByteSet();

  constructor() {
    for (let i = 0; i < DETECTOR_COUNT; i++) unchecked(this.detectors[i] = -1);
  }

  setMask(mask: string): void {
    this.mask = utf8Bytes(mask);
    this.quotedMask = utf8Bytes("\"" + mask + "\"");
    this.escapedQuotedMask = utf8Bytes("\\\"" + mask + "\\\"");
    this.formMask = formMaskOf(this.mask);
  }

  /** The rule of the field named by the bytes [p, p+n) (ASCII case-insensitive), or -1. */
  fieldRule(p: usize, n: i32): i32 {
    if (n <= 0 || n > this.maxField) return -1;
    let fields = this.fields;
    for (let k = 0; k < fields.length; k++) {
      let f = unchecked(fields[k]);
      if (f.name.byteLength == n && lowerEquals(p, addressOf(f.name), n)) return f.rule;
    }
    return -1;
  }

  /** The rule index of a detector, or -1. */
  detectorRule(d: Detector): i32 {
    return unchecked(this.detectors[d]);
  }

  /** Builds the trigger table; call once every rule is added. */
  finish(ruleCount: i32): void {
    this.ruleCount = ruleCount;
    for (let i = 0; i < this.markers.length; i++) {
      let m = unchecked(this.markers[i]);
      this.trigger(<i32>Uint8Array.wrap(m.bytes)[0], Trigger.Marker);
    }
    if (this.detectorRule(Detector.Email) >= 0) this.trigger(0x40, Trigger.Email); // @
    if (this.detectorRule(Detector.Card) >= 0) for (let c = 0x30; c <= 0x39; c++) this.trigger(c, Trigger.Digit);
    if (this.detectorRule(Detector.Bearer) >= 0) { this.trigger(0x42, Trigger.Bearer); this.trigger(0x62, Trigger.Bearer); } // B b
    if (this.detectorRule(Detector.Jwt) >= 0) this.trigger(0x65, Trigger.Jwt); // e (eyJ)
    if (this.detectorRule(Detector.CloudKey) >= 0) this.trigger(0x41, Trigger.CloudKey); // A (AKIA, AIza)
    this.triggers.prepare();
  }

  private trigger(c: i32, bit: Trigger): void {
    let t = this.triggers.table;
    unchecked(t[c] = unchecked(t[c]) | <u8>bit);
  }
}
