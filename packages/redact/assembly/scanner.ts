// The redaction scanner: one object per configuration, owned by the root context, reused for
// every body (its buffers only grow). A scan reads a complete body and writes the redacted copy
// to `output` when something was masked.
//
// A body is read in two steps:
//   1. spans found by their own passes: jsonField values (json.ts, following the JSON tokens) and
//      pattern matches (nfa.ts);
//   2. one pass over the raw bytes in which a 256-entry trigger table sends each byte that can
//      start a marker or a detector to it (detectors.ts); the spans of step 1 are masked as the
//      pass reaches them. A byte that starts nothing costs one load and one branch.
// Form bodies are read field by field: the field's key decides a jsonField match; any other field
// is percent-decoded and scanned as text by a second scanner, and re-encoded when masked.
import { ByteSink, addressOf, byteAt, bytesEqual, entry8, skipUntil } from "./bytes";
import { tryBearer, tryCard, tryCloudKey, tryEmail, tryJwt, tryMarkers } from "./detectors";
import { formDecode, isEncoded } from "./form";
import { JsonFields } from "./json";
import { Matcher } from "./nfa";
import { MaskKind, RangeList } from "./ranges";
import { BodyMode, Rules, Trigger } from "./rules";
import { ScanState } from "./state";

const AMPERSAND: u32 = 0x26;
const SEMICOLON: u32 = 0x3b;
const EQUALS: u32 = 0x3d;
const OPEN_BRACKET: u32 = 0x5b;
const CLOSE_BRACKET: u32 = 0x5d;
/** The span list of the jsonField pass; pattern k uses list PATTERN_LISTS + k. */
const FIELD_LIST = 0;
const PATTERN_LISTS = 1;

export class Scanner extends ScanState {
  private fields: JsonFields;
  private matcher: Matcher = new Matcher();
  private lists: RangeList[] = [];
  /** The list holding the next span to mask (set by nextSpan()). */
  private nextList: i32 = 0;
  /** Form fields: the decoded field and its key, and the scanner reading decoded fields. */
  private decoded: ByteSink = new ByteSink(256);
  private key: ByteSink = new ByteSink(64);
  private fieldScanner: Scanner | null = null;

  constructor(rules: Rules) {
    super(rules);
    this.hits = new StaticArray<u32>(rules.ruleCount);
    this.fields = new JsonFields(rules);
    for (let k = 0; k < PATTERN_LISTS + rules.patterns.length; k++) this.lists.push(new RangeList());
  }

  /** Scans a whole body. Returns the number of masks (0: leave the body as it is). */
  scanBody(body: ArrayBuffer, mode: BodyMode): i32 {
    return this.scan(addressOf(body), body.byteLength, mode);
  }

  /** Scans [start, start+length) as a whole body. */
  scan(start: usize, length: i32, mode: BodyMode): i32 {
    let hits = this.hits;
    for (let k = 0; k < hits.length; k++) unchecked(hits[k] = 0);
    this.inForm = mode == BodyMode.Form;
    this.scanPart(start, length, mode);
    return this.masks;
  }

  /** Scans [start, start+length) without resetting the counts per rule. */
  scanPart(start: usize, length: i32, mode: BodyMode): void {
    this.begin(start, length, mode);
    if (mode == BodyMode.Form) this.scanForm();
    else this.scanText();
    this.end();
  }

  // ---- JSON and text ----

  private findSpans(): void {
    let rules = this.rules;
    let lists = this.lists;
    for (let k = 0; k < lists.length; k++) unchecked(lists[k]).clear();
    if (rules.fields.length > 0) this.fields.find(this.start, this.length, unchecked(lists[FIELD_LIST]));
    let patterns = rules.patterns;
    for (let k = 0; k < patterns.length; k++) {
      let pr = unchecked(patterns[k]);
      this.matcher.findAll(pr.pattern, this.start, this.length, unchecked(lists[PATTERN_LISTS + k]), pr.rule);
    }
  }

  /** Start of the earliest span not masked yet (i32.MAX_VALUE when none); sets nextList. */
  private nextSpan(): i32 {
    let lists = this.lists;
    let best = i32.MAX_VALUE;
    for (let k = 0; k < lists.length; k++) {
      let s = unchecked(lists[k]).nextStart();
      if (s < best) { best = s; this.nextList = k; }
    }
    return best;
  }

  /** Masks the span nextSpan() found; returns the index to continue at. */
  private maskSpan(i: i32): i32 {
    let list = unchecked(this.lists[this.nextList]);
    let c = list.cursor++;
    let kind = <MaskKind>list.kinds.get(c);
    let rules = this.rules;
    let mask = kind == MaskKind.Plain ? rules.mask : kind == MaskKind.Quoted ? rules.quotedMask : rules.escapedQuotedMask;
    let end = list.ends.get(c);
    this.replace(list.starts.get(c), end, mask, list.rules.get(c));
    return max(i, end);
  }

  private scanText(): void {
    this.findSpans();
    let triggers = this.rules.triggers;
    let p = this.start;
    let n = this.length;
    let span = this.nextSpan();
    let i = 0;
    while (i < n) {
      if (i >= span) {
        i = this.maskSpan(i);
        span = this.nextSpan();
        continue;
      }
      let limit = min(n, span);
      i = skipUntil(triggers, p, i, limit);
      if (i < limit) i = this.step(i, <u8>entry8(triggers.table, byteAt(p, i)));
    }
    while (span < n) { // spans inside the last match
      this.maskSpan(i);
      span = this.nextSpan();
    }
  }

  /** Tries every rule the byte at i triggers; returns the index to continue at. */
  private step(i: i32, t: u8): i32 {
    let r = -1;
    if (t & Trigger.Marker) r = tryMarkers(this, i);
    if (r < 0 && (t & Trigger.Email)) r = tryEmail(this, i);
    if (r < 0 && (t & Trigger.Digit)) r = tryCard(this, i);
    if (r < 0 && (t & Trigger.Bearer)) r = tryBearer(this, i);
    if (r < 0 && (t & Trigger.Jwt)) r = tryJwt(this, i);
    if (r < 0 && (t & Trigger.CloudKey)) r = tryCloudKey(this, i);
    return r < 0 ? i + 1 : r;
  }

  // ---- application/x-www-form-urlencoded ----

  private scanForm(): void {
    let n = this.length;
    let from = 0;
    while (from < n) {
      let to = from;
      while (to < n && this.at(to) != AMPERSAND) to++;
      if (to > from) this.formField(from, to);
      from = to + 1;
    }
  }

  /**
   * One `&`-separated field. Keys are read at its start and after each `;` (`a=1;password=x`);
   * a masked key's value runs to the next `&`, so a `;` inside a secret hides nothing.
   */
  private formField(from: i32, to: i32): void {
    let k = from;
    while (k < to) {
      let e = k;
      while (e < to && this.at(e) != EQUALS && this.at(e) != SEMICOLON) e++;
      if (e < to && this.at(e) == EQUALS) {
        let rule = this.formKeyRule(k, e);
        if (rule >= 0) {
          this.maskFormValue(e + 1, to, rule);
          return;
        }
        while (e < to && this.at(e) != SEMICOLON) e++;
      }
      k = e + 1;
    }
    this.scanFormField(from, to);
  }

  /**
   * The jsonField rule a form key names, or -1. The key is percent-decoded; `password[]`,
   * `password[0]` and `user[password]` all name `password` (each bracket part is a name).
   */
  private formKeyRule(from: i32, to: i32): i32 {
    let key = this.key;
    formDecode(this.start, from, to, key);
    let p = key.start;
    let n = key.length;
    let s = 0;
    while (s <= n) {
      let e = s;
      while (e < n && byteAt(p, e) != OPEN_BRACKET && byteAt(p, e) != CLOSE_BRACKET) e++;
      let rule = this.rules.fieldRule(p + <usize>s, e - s);
      if (rule >= 0) return rule;
      s = e + 1;
      while (s < n && (byteAt(p, s) == OPEN_BRACKET || byteAt(p, s) == CLOSE_BRACKET)) s++;
    }
    return -1;
  }

  private maskFormValue(from: i32, to: i32, rule: i32): void {
    if (to <= from) return;
    let value = this.decoded;
    formDecode(this.start, from, to, value);
    let mask = this.rules.mask;
    if (bytesEqual(value.start, value.length, mask)) return; // masked before
    this.replace(from, to, mask, rule);
  }

  /** Markers, detectors, patterns and JSON in the decoded text of a field. */
  private scanFormField(from: i32, to: i32): void {
    let inner = this.fieldScanner;
    if (inner === null) {
      inner = new Scanner(this.rules);
      inner.hits = this.hits;
      inner.inForm = true;
      this.fieldScanner = inner;
    }
    if (isEncoded(this.start, from, to)) {
      let d = this.decoded;
      inner.rawIndex = formDecode(this.start, from, to, d);
      inner.encodeForm = true;
      inner.scanPart(d.start, d.length, BodyMode.Text);
    } else {
      inner.encodeForm = false;
      inner.scanPart(this.start + <usize>from, to - from, BodyMode.Text);
    }
    if (inner.masks == 0) return;
    this.masks += inner.masks;
    this.replaceWith(from, to, inner.output);
    this.lastMaskEnd = -1;
  }
}
