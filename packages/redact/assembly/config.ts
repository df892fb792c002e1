// Reading and checking the plugin configuration (schema.json says the same).
import { JsonValue, asciiLower, hasControlChars, utf8Bytes } from "as-proxy-wasm";
import { addressOf } from "./bytes";
import { Matcher } from "./nfa";
import { PatternCompiler } from "./pattern";
import { RangeList } from "./ranges";
import { DETECTOR_NAMES, Field, Marker, PatternRule, Rules } from "./rules";

export const DEFAULT_DELIMITERS = " \t\r\n\"'&;,<>)]}";
export const DEFAULT_MASK = "[REDACTED]";
export const DEFAULT_MAX_BODY: u32 = 1048576;
const MAX_BODY: i64 = 16777216;
const MAX_RULES: i32 = 64;

/** Bits of the `directions` list. */
export enum Directions {
  Request = 1,
  Response = 2,
  Both = 3,
}

/** Bits of the `contentTypes` list. */
export enum ContentTypes {
  Json = 1,
  Text = 2,
  Form = 4,
  All = 7,
}

/** The whole configuration, checked. */
export class RedactConfig {
  rules: Rules = new Rules();
  directions: Directions = Directions.Both;
  contentTypes: ContentTypes = ContentTypes.All;
  maxBodyBytes: u32 = DEFAULT_MAX_BODY;
  /** Past maxBodyBytes: reject (true) or pass unredacted. */
  rejectOversize: bool = true;
  /** Ask upstreams for identity encoding when responses are scanned. */
  askIdentity: bool = true;
  /** A body without content-type is scanned as text (true) or skipped. */
  scanMissingType: bool = true;
  /** A body of any other content type is scanned as text (true) or skipped. */
  scanOtherTypes: bool = false;
}

/** Bit set of the names listed in the optional array `key`; `all` when absent. */
function readEnumList(cfg: JsonValue, key: string, names: string[], all: i32): i32 {
  let v = cfg.get(key);
  if (v === null) return all;
  let items = v.asArray();
  if (items.length == 0) v.fail("expected a non-empty list");
  let bits = 0;
  for (let i = 0; i < items.length; i++) {
    let it = unchecked(items[i]);
    let k = it.asChoice(names);
    if (k < 0) break;
    // the schema says uniqueItems: a repeated value is refused the same way here
    if (bits & (1 << k)) { it.fail("repeated value"); break; }
    bits |= 1 << k;
  }
  return bits;
}

/** An optional string that must be `a` (true, the default when `aIsDefault`) or `b` (false). */
function readChoice(cfg: JsonValue, key: string, a: string, b: string, aIsDefault: bool): bool {
  return cfg.optChoice(key, [a, b], aIsDefault ? 0 : 1) == 0;
}

/** True when a string contains '"', '\\' or a control character (it could not go into JSON as it is). */
function hasUnsafe(s: string): bool {
  return s.includes("\"") || s.includes("\\") || hasControlChars(s, false);
}

/** Reads the configuration; null after reporting the first error on `cfg`. */
export function readConfig(cfg: JsonValue): RedactConfig | null {
  let c = new RedactConfig();
  let rules = c.rules;
  let mask = cfg.optStr("mask", DEFAULT_MASK);
  if (!cfg.hasError() && (mask.length == 0 || mask.length > 64 || hasUnsafe(mask))) {
    cfg.member("mask").fail("expected 1..64 characters, no quote, backslash or control");
  }
  rules.setMask(mask);
  let list = cfg.arr("rules");
  if (!cfg.hasError() && (list.length == 0 || list.length > MAX_RULES)) cfg.member("rules").fail("expected 1..64 rules");
  let reader = new RuleReader(rules, mask);
  for (let i = 0; i < list.length && !cfg.hasError(); i++) reader.read(unchecked(list[i]), i);
  if (!cfg.hasError()) c.directions = <Directions>readEnumList(cfg, "directions", ["request", "response"], Directions.Both);
  if (!cfg.hasError()) c.contentTypes = <ContentTypes>readEnumList(cfg, "contentTypes", ["json", "text", "form"], ContentTypes.All);
  c.maxBodyBytes = <u32>cfg.optInt("maxBodyBytes", DEFAULT_MAX_BODY, 1, MAX_BODY);
  c.rejectOversize = readChoice(cfg, "onOversize", "reject", "pass", true);
  c.askIdentity = readChoice(cfg, "compressed", "identity", "skip", true);
  c.scanMissingType = readChoice(cfg, "missingContentType", "scan", "skip", true);
  c.scanOtherTypes = readChoice(cfg, "otherContentTypes", "scan", "skip", false);
  if (cfg.hasError()) return null;
  rules.finish(list.length);
  return c;
}

/** The kinds of rule, by the key that names them. */
enum RuleKind {
  Marker = 0,
  JsonField = 1,
  Detector = 2,
  Pattern = 3,
}
const RULE_KEYS: string[] = ["marker", "jsonField", "detector", "pattern"];

/** Reads one rule into Rules. */
class RuleReader {
  private compiler: PatternCompiler = new PatternCompiler();

  constructor(private rules: Rules, private mask: string) {}

  read(r: JsonValue, index: i32): void {
    if (r.asObject() === null) return;
    let kind = -1;
    for (let k = 0; k < RULE_KEYS.length; k++) {
      if (r.get(unchecked(RULE_KEYS[k])) === null) continue;
      if (kind >= 0) { kind = -2; break; }
      kind = k;
    }
    if (kind < 0) { r.fail("expected exactly one of marker, jsonField, detector, pattern"); return; }
    let v = r.member(unchecked(RULE_KEYS[kind]));
    if (kind == RuleKind.Marker) this.marker(r, v, index);
    else if (kind == RuleKind.JsonField) this.field(r, v, index);
    else if (kind == RuleKind.Detector) this.detector(r, v, index);
    else this.pattern(r, v, index);
  }

  private marker(r: JsonValue, v: JsonValue, index: i32): void {
    let m = v.asString();
    let delimiters = r.optStr("delimiters", DEFAULT_DELIMITERS);
    if (r.hasError()) return;
    let bytes = utf8Bytes(m);
    if (bytes.byteLength == 0 || bytes.byteLength > 256) { v.fail("expected non-empty string (max 256 bytes)"); return; }
    if (this.mask.includes(m)) { v.fail("the mask contains the marker"); return; }
    let ascii = delimiters.length > 0 && delimiters.length <= 64;
    for (let i = 0; i < delimiters.length; i++) if (delimiters.charCodeAt(i) > 0x7f) ascii = false;
    if (!ascii) { r.member("delimiters").fail("expected 1..64 ASCII characters"); return; }
    this.rules.markers.push(new Marker(bytes, delimiters, index));
  }

  private field(r: JsonValue, v: JsonValue, index: i32): void {
    let f = v.asString();
    if (r.hasError()) return;
    let name = utf8Bytes(asciiLower(f));
    if (name.byteLength == 0 || name.byteLength > 256 || hasUnsafe(f)) { v.fail("expected 1..256 bytes, no quote, backslash or control"); return; }
    this.rules.fields.push(new Field(name, index));
    this.rules.maxField = max(this.rules.maxField, name.byteLength);
  }

  private detector(r: JsonValue, v: JsonValue, index: i32): void {
    let k = DETECTOR_NAMES.indexOf(v.asString());
    if (r.hasError()) return;
    if (k < 0) { v.fail("unknown detector"); return; }
    if (this.rules.detectorRule(k) >= 0) { v.fail("listed twice"); return; }
    unchecked(this.rules.detectors[k] = index);
  }

  private pattern(r: JsonValue, v: JsonValue, index: i32): void {
    let source = v.asString();
    if (r.hasError()) return;
    let pat = this.compiler.compile(utf8Bytes(source));
    if (pat === null) { v.fail(this.compiler.error); return; }
    // The mask must not match, or masking an already masked body would change it again.
    let found = new RangeList();
    let mask = this.rules.mask;
    new Matcher().findAll(pat, addressOf(mask), mask.byteLength, found, index);
    if (found.length > 0) { v.fail("the mask matches the pattern"); return; }
    this.rules.patterns.push(new PatternRule(pat, index));
  }
}
