// redact: masks secrets in request and response bodies (course Lab 2, without the course's bugs:
// every chunk is covered, and the value is replaced rather than followed by the mask).
//
// Design: the body is buffered (StopIterationAndBuffer) up to maxBodyBytes and scanned once at
// end of stream (or at the trailers). Detectors need look-behind and look-ahead (an email's local
// part, a card number's Luhn sum, a JWT's three segments) and values have no bounded length, so
// a streaming carry-over window would have to be as large as the largest value anyway; buffering
// keeps one simple pass correct whatever the chunking. Envoy forwards headers before the body, so
// content-length is removed from scanned bodies (the upstream/client sees chunked framing).
export * from "as-proxy-wasm/assembly/exports";
import {
  BufferType, Counter, FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, HeaderMap,
  HttpContext, JsonValue, RootContext, asciiLower, log, registerRootContext,
} from "as-proxy-wasm";
import { formatInt, utf8Bytes } from "as-proxy-wasm";
import { proxy_set_buffer_bytes } from "as-proxy-wasm/assembly/imports";
import {
  DETECTOR_NAMES, MODE_FORM, MODE_JSON, MODE_TEXT, Marker, Rules, outLen, outPtr, scan,
} from "./scan";

const DEFAULT_DELIMITERS = " \t\r\n\"'&;,<>)]}";
const MAX_RULES: i32 = 64;
const REASON_CONTENT_TYPE: i32 = 0;
const REASON_ENCODED: i32 = 1;
const REASON_TOO_LARGE: i32 = 2;

// stream states
const IDLE: u8 = 0; // not scanning this direction (nothing to do, or skipped)
const BUFFERING: u8 = 1;
const DONE: u8 = 2;

// body kinds (bit per contentTypes entry)
const CT_JSON: i32 = 1;
const CT_TEXT: i32 = 2;
const CT_FORM: i32 = 4;

/** Per-direction counters, defined once at configure time (bounded: rules x 2 + 4 x 2). */
class DirMetrics {
  redactions: Counter[] = [];
  skipped: Counter[] = [];
  rejected: Counter;
  constructor(dir: string, ruleCount: i32) {
    let d = "direction=.=" + dir + ";.;";
    this.rejected = new Counter(d + "redact_rejected_total");
    for (let i = 0; i < ruleCount; i++) this.redactions.push(new Counter(d + "rule=.=" + formatInt(i) + ";.;redact_redactions_total"));
    let reasons = ["content_type", "encoded", "too_large"];
    for (let i = 0; i < 3; i++) this.skipped.push(new Counter(d + "reason=.=" + unchecked(reasons[i]) + ";.;redact_skipped_total"));
  }
}

/** Bit set of the names (from `names`) listed in the optional array `key`; `all` when absent. */
function readEnumList(cfg: JsonValue, key: string, names: string[], all: i32): i32 {
  let v = cfg.get(key);
  if (v === null) return all;
  let items = v.asArray();
  if (items.length == 0) v.fail("expected a non-empty list");
  let bits = 0;
  for (let i = 0; i < items.length; i++) {
    let it = unchecked(items[i]);
    let k = indexIn(names, it.asString());
    if (k < 0) { it.fail("unexpected value"); break; }
    bits |= 1 << k;
  }
  return bits;
}

function indexIn(names: string[], s: string): i32 {
  for (let i = 0; i < names.length; i++) if (unchecked(names[i]) == s) return i;
  return -1;
}

/** True when a string contains '"', '\\' or a control character. */
function hasUnsafe(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c || c < 0x20) return true;
  }
  return false;
}

class RedactRoot extends RootContext {
  rules: Rules = new Rules();
  request: bool = true;
  response: bool = true;
  types: i32 = 7;
  maxBody: u32 = 1048576;
  reject: bool = true;
  identity: bool = true;
  req: DirMetrics | null = null;
  res: DirMetrics | null = null;

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson(); // empty or blank (Istio: no pluginConfig) reads as {}: missing "rules"
    if (cfg === null) return false;
    cfg.asObject();
    let rules = new Rules();
    let mask = cfg.optStr("mask", "[REDACTED]");
    if (!cfg.hasError() && (mask.length == 0 || mask.length > 64 || hasUnsafe(mask))) {
      cfg.get("mask")!.fail("expected 1..64 characters, no quote, backslash or control");
    }
    rules.setMask(mask);
    let list = cfg.arr("rules");
    if (!cfg.hasError() && (list.length == 0 || list.length > MAX_RULES)) cfg.get("rules")!.fail("expected 1..64 rules");
    for (let i = 0; i < list.length && !cfg.hasError(); i++) readRule(unchecked(list[i]), i, rules, mask);
    let dirs = cfg.hasError() ? 0 : readEnumList(cfg, "directions", ["request", "response"], 3);
    let types = cfg.hasError() ? 0 : readEnumList(cfg, "contentTypes", ["json", "text", "form"], 7);
    let maxBody = cfg.optNum("maxBodyBytes", 1048576);
    if (!cfg.hasError() && (maxBody != Math.floor(maxBody) || maxBody < 1 || maxBody > 16777216)) {
      cfg.get("maxBodyBytes")!.fail("expected an integer in [1, 16777216]");
    }
    let reject = readChoice(cfg, "onOversize", "reject", "pass");
    let identity = readChoice(cfg, "compressed", "identity", "skip");
    if (!this.configOk(cfg)) return false;

    rules.finish(list.length);
    this.rules = rules;
    this.request = (dirs & 1) != 0;
    this.response = (dirs & 2) != 0;
    this.types = types;
    this.maxBody = <u32>maxBody;
    this.reject = reject;
    this.identity = identity;
    this.req = this.request ? new DirMetrics("request", list.length) : null;
    this.res = this.response ? new DirMetrics("response", list.length) : null;
    log.info("redact: " + formatInt(list.length) + " rule(s)");
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new RedactFilter(contextId, this);
  }
}

/** An optional string that must be `a` (true, the default) or `b` (false). */
function readChoice(cfg: JsonValue, key: string, a: string, b: string): bool {
  let s = cfg.optStr(key, a);
  if (cfg.hasError()) return true;
  if (s != a && s != b) cfg.get(key)!.fail("expected \"" + a + "\" or \"" + b + "\"");
  return s == a;
}

function readRule(r: JsonValue, index: i32, rules: Rules, mask: string): void {
  if (r.asObject() === null) return;
  let mv = r.get("marker"), fv = r.get("jsonField"), dv = r.get("detector");
  let kinds = 0;
  if (mv !== null) kinds++;
  if (fv !== null) kinds++;
  if (dv !== null) kinds++;
  if (kinds != 1) {
    r.fail("expected exactly one of marker, jsonField, detector");
    return;
  }
  if (mv !== null) {
    let m = mv.asString();
    let delims = r.optStr("delimiters", DEFAULT_DELIMITERS);
    if (r.hasError()) return;
    let mb = utf8Bytes(m);
    if (mb.byteLength == 0 || mb.byteLength > 256) { mv.fail("expected non-empty string (max 256 bytes)"); return; }
    if (contains(mask, m)) { mv.fail("the mask contains the marker"); return; }
    if (delims.length == 0 || delims.length > 64) { r.get("delimiters")!.fail("expected 1..64 ASCII characters"); return; }
    for (let i = 0; i < delims.length; i++) {
      if (delims.charCodeAt(i) > 0x7f) { r.get("delimiters")!.fail("expected 1..64 ASCII characters"); return; }
    }
    rules.markers.push(new Marker(mb, delims, index));
  } else if (fv !== null) {
    let f = fv.asString();
    if (r.hasError()) return;
    let fb = utf8Bytes(asciiLower(f));
    if (fb.byteLength == 0 || fb.byteLength > 256 || hasUnsafe(f)) { fv.fail("expected 1..256 bytes, no quote, backslash or control"); return; }
    rules.fields.push(fb);
    rules.fieldRules.push(index);
    rules.maxField = max(rules.maxField, fb.byteLength);
  } else {
    let k = indexIn(DETECTOR_NAMES, dv!.asString());
    if (r.hasError()) return;
    if (k < 0) { dv!.fail("unknown detector"); return; }
    if (unchecked(rules.detectors[k]) >= 0) { dv!.fail("listed twice"); return; }
    unchecked(rules.detectors[k] = index);
  }
}

/** s contains t (UTF-16 code unit comparison, no library search). */
function contains(s: string, t: string): bool {
  let n = s.length, m = t.length;
  for (let i = 0; i + m <= n; i++) {
    let j = 0;
    while (j < m && s.charCodeAt(i + j) == t.charCodeAt(j)) j++;
    if (j == m) return true;
  }
  return false;
}

/** Lower-cased bytes of buf starting (after spaces) with `lit`, then end, ';' or space. */
function mediaIs(b: ArrayBuffer, lit: string, prefixOnly: bool): bool {
  let p = changetype<usize>(b);
  let n = b.byteLength;
  let i = 0;
  while (i < n && load<u8>(p + <usize>i) == 0x20) i++;
  let m = lit.length;
  if (i + m > n) return false;
  for (let j = 0; j < m; j++) {
    let c = <u32>load<u8>(p + <usize>(i + j));
    if (c - 0x41 < 26) c |= 0x20;
    if (c != <u32>lit.charCodeAt(j)) return false;
  }
  if (prefixOnly || i + m == n) return true;
  let c = load<u8>(p + <usize>(i + m));
  return c == 0x3b || c == 0x20 || c == 0x09;
}

/** application/<anything>+json */
function isPlusJson(b: ArrayBuffer): bool {
  if (!mediaIs(b, "application/", true)) return false;
  let p = changetype<usize>(b);
  let e = b.byteLength;
  for (let i = 0; i < e; i++) if (load<u8>(p + <usize>i) == 0x3b) { e = i; break; }
  while (e > 0 && load<u8>(p + <usize>(e - 1)) == 0x20) e--;
  return e >= 5 && load<u8>(p + <usize>(e - 5)) == 0x2b && (load<u32>(p + <usize>(e - 4)) | 0x20202020) == 0x6e6f736a; // "json"
}

/** Decimal value of a content-length (u32.MAX_VALUE when not a plain number or too large). */
function parseLength(b: ArrayBuffer): u32 {
  let n = b.byteLength;
  if (n == 0 || n > 10) return u32.MAX_VALUE;
  let v: u64 = 0;
  for (let i = 0; i < n; i++) {
    let d = <u32>load<u8>(changetype<usize>(b) + <usize>i) - 0x30;
    if (d > 9) return u32.MAX_VALUE;
    v = v * 10 + d;
  }
  return v > <u64>u32.MAX_VALUE ? u32.MAX_VALUE : <u32>v;
}

class RedactFilter extends HttpContext {
  reqState: u8 = IDLE;
  resState: u8 = IDLE;
  reqMode: i32 = 0;
  resMode: i32 = 0;
  /** This filter answered with a local reply: its own reply passes untouched. */
  replied: bool = false;

  /** Scan mode for a body, or 0 when it must be skipped (counted). */
  private modeFor(headers: HeaderMap, m: DirMetrics): i32 {
    let types = (this.root as RedactRoot).types;
    let enc = headers.getBytes("content-encoding");
    if (enc !== null && enc.byteLength > 0 && !mediaIs(enc, "identity", false)) {
      unchecked(m.skipped[REASON_ENCODED]).increment(1);
      return 0;
    }
    let ct = headers.getBytes("content-type");
    let mode = 0;
    if (ct !== null) {
      if (mediaIs(ct, "application/x-www-form-urlencoded", false)) { if (types & CT_FORM) mode = MODE_FORM; }
      else if (mediaIs(ct, "text/", true)) { if (types & CT_TEXT) mode = MODE_TEXT; }
      else if (mediaIs(ct, "application/json", false) || isPlusJson(ct)) { if (types & CT_JSON) mode = MODE_JSON; }
    }
    if (mode == 0) unchecked(m.skipped[REASON_CONTENT_TYPE]).increment(1);
    return mode;
  }

  /** Headers phase of one direction: decides whether its body is buffered and scanned. */
  private start(headers: HeaderMap, m: DirMetrics, request: bool): u8 {
    let mode = this.modeFor(headers, m);
    if (mode == 0) return IDLE;
    if (request) this.reqMode = mode; else this.resMode = mode;
    let cl = headers.getBytes("content-length");
    if (cl !== null) {
      let n = parseLength(cl);
      if (n > (this.root as RedactRoot).maxBody) return this.tooLarge(m, request, n, true) ? DONE : IDLE;
    }
    headers.remove("content-length");
    return BUFFERING;
  }

  /**
   * A body larger than maxBodyBytes. pass: counted, logged, let through unredacted (returns false).
   * reject: 413 for requests; for responses 502 while the headers can still be replaced, else the
   * stream is reset (returns true: the caller stops).
   */
  private tooLarge(m: DirMetrics, request: bool, size: u32, atHeaders: bool): bool {
    let r = this.root as RedactRoot;
    let what = (request ? "redact: request" : "redact: response") + " body of " + formatInt(size) +
      " bytes exceeds maxBodyBytes " + formatInt(r.maxBody) + "; ";
    if (!r.reject) {
      unchecked(m.skipped[REASON_TOO_LARGE]).increment(1);
      log.warn(what + "passed through unredacted");
      return false;
    }
    m.rejected.increment(1);
    this.replied = true;
    if (request || atHeaders) {
      log.warn(what + (request ? "rejected with 413" : "replaced with 502"));
      if (request) this.sendLocalResponse(413, "redact_body_too_large", "Payload Too Large");
      else this.sendLocalResponse(502, "redact_body_too_large", "Bad Gateway");
    } else {
      log.warn(what + "stream reset");
      this.closeResponse();
    }
    return true;
  }

  /** Scans the complete buffered body and replaces it when something was masked. */
  private finish(request: bool): void {
    let r = this.root as RedactRoot;
    let buf = (request ? this.requestBody : this.responseBody).get(0, u32.MAX_VALUE);
    if (buf === null || buf.byteLength == 0) return;
    let rules = r.rules;
    if (scan(rules, changetype<usize>(buf), buf.byteLength, request ? this.reqMode : this.resMode) == 0) return;
    proxy_set_buffer_bytes(request ? BufferType.HttpRequestBody : BufferType.HttpResponseBody, 0, u32.MAX_VALUE, outPtr(), outLen);
    let m = request ? r.req! : r.res!;
    let hits = rules.hits;
    for (let i = 0; i < hits.length; i++) {
      let h = unchecked(hits[i]);
      if (h > 0) unchecked(m.redactions[i]).increment(<i64>h);
    }
  }

  private body(request: bool, size: u32, eos: bool): FilterDataStatus {
    let r = this.root as RedactRoot;
    if (size > r.maxBody) {
      if (request) this.reqState = DONE; else this.resState = DONE;
      return this.tooLarge(request ? r.req! : r.res!, request, size, false)
        ? FilterDataStatus.StopIterationNoBuffer : FilterDataStatus.Continue;
    }
    if (!eos) return FilterDataStatus.StopIterationAndBuffer;
    if (request) this.reqState = DONE; else this.resState = DONE;
    this.finish(request);
    return FilterDataStatus.Continue;
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let r = this.root as RedactRoot;
    let headers = this.requestHeaders;
    if (r.response && r.identity) headers.set("accept-encoding", "identity");
    if (!r.request || endOfStream) return FilterHeadersStatus.Continue;
    this.reqState = this.start(headers, r.req!, true);
    return this.replied ? FilterHeadersStatus.StopIteration : FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.reqState == BUFFERING ? this.body(true, bodySize, endOfStream) : FilterDataStatus.Continue;
  }

  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    if (this.reqState == BUFFERING) {
      this.reqState = DONE;
      this.finish(true);
    }
    return FilterTrailersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let r = this.root as RedactRoot;
    if (!r.response || endOfStream || this.replied) return FilterHeadersStatus.Continue;
    this.resState = this.start(this.responseHeaders, r.res!, false);
    return this.replied ? FilterHeadersStatus.StopIteration : FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.resState == BUFFERING ? this.body(false, bodySize, endOfStream) : FilterDataStatus.Continue;
  }

  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    if (this.resState == BUFFERING) {
      this.resState = DONE;
      this.finish(false);
    }
    return FilterTrailersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new RedactRoot(id));
