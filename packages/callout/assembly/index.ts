// callout: enrich each request from a metadata service (course Labs 3 and 4).
//
// on_request_headers: strip client copies of the enrichment headers, answer from the cache when
// the key is fresh, else dispatch the callout and pause. The answer (or failure) arrives in
// onHttpCallResponse on this stream (the SDK sets the effective context): set the headers and
// resume, or apply the failure mode. Every paused request is resumed or answered: the timeout is
// mandatory, so Envoy always delivers an answer (a 504 on timeout, a reset as a failed call).

import {
  RootContext, HttpContext, HttpCallResponse, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus,
  Pairs, Bytes, Status, log, registerRootContext, Counter, monotonicNanos, JsonValue, JsonKind,
  parseJson, getCallStatus, requestHeaders, statusName, httpCallResponseBody,
} from "as-proxy-wasm";
import { formatInt, utf8Bytes } from "as-proxy-wasm";
// Only the callbacks this filter uses (Envoy: a missing callback = Continue).
export * from "as-proxy-wasm/assembly/core";
export {
  proxy_on_request_headers, proxy_on_request_body, proxy_on_request_trailers, proxy_on_http_call_response,
} from "as-proxy-wasm/assembly/exports";

// ---- outcomes (bounded metric label values) ----
const OK = 0, ERROR = 1, TIMEOUT = 2, CACHE_HIT = 3, OVERFLOW = 4, TOO_LARGE = 5;
const OUTCOMES: string[] = ["ok", "error", "timeout", "cache_hit", "overflow", "too_large"];
/** Counts the answer values a mapping dropped (too long, or with control characters). */
const VALUE_DROPPED_METRIC = "callout_value_dropped_total";

// ---- limits on the answer ----
/** Default and largest `maxAnswerBytes`: a larger answer body is a failure (outcome too_large), never read. */
const DEFAULT_MAX_ANSWER_BYTES = 65536;
const MAX_ANSWER_BYTES_LIMIT = 16777216;
/** Default and largest `maxValueBytes`: a longer value from the answer is dropped (header left absent). */
const DEFAULT_MAX_VALUE_BYTES = 8192;
const MAX_VALUE_BYTES_LIMIT = 65536;

// ---- sources and path template parts ----
const SRC_BODY = 0, SRC_HEADER = 1, SRC_JSON = 2;
const PART_TEXT = 0, PART_HEADER = 1, PART_PATH = 2, PART_METHOD = 3;

class Mapping {
  constructor(public header: Bytes, public source: i32, public value: Bytes | null, public name: Bytes | null, public path: string[]) {}
}

class PathPart {
  constructor(public kind: i32, public text: string, public header: Bytes | null) {}
}

class CacheEntry {
  constructor(public key: string, public values: Array<ArrayBuffer | null>, public expires: u64) {}
}

/** FNV-1a over the UTF-16 units of `k`. */
function keyHash(k: string): u32 {
  let h: u32 = 2166136261;
  let p = changetype<usize>(k);
  let end = p + (<usize>k.length << 1);
  for (; p < end; p += 2) h = (h ^ <u32>load<u16>(p)) * 16777619;
  return h;
}

class Config {
  cluster: string = "";
  authority: string = "";
  method: string = "GET";
  parts: PathPart[] = [];
  forward: Bytes[] = [];
  timeoutMs: u32 = 1000;
  mappings: Mapping[] = [];
  expectJson: bool = true;
  needJson: bool = false;
  failOpen: bool = false;
  failStatus: u32 = 503;
  failBody: string = "metadata service unavailable\n";
  failHeader: Bytes = Bytes.of("x-callout-error");
  cacheKey: Bytes | null = null;
  cacheTtlNs: u64 = 0;
  cacheMax: i32 = 1024;
  cacheMaxKey: i32 = 256;
  maxConcurrent: i32 = 100;
  maxAnswerBytes: i32 = DEFAULT_MAX_ANSWER_BYTES;
  maxValueBytes: i32 = DEFAULT_MAX_VALUE_BYTES;
  labels: bool = true;
  /** Prebuilt callout headers when nothing depends on the request. */
  staticPairs: Pairs | null = null;
}

// ---- validation helpers ----
// Values known to be non-null (a key just read, the fields of a mapping's source kind) are cast
// with changetype instead of `!`: the assertion's message would stay in the data section.
function isToken(s: string): bool {
  if (s.length == 0 || s.length > 256) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) ||
      c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D || c == 0x2E ||
      c == 0x5E || c == 0x5F || c == 0x60 || c == 0x7C || c == 0x7E;
    if (!ok) return false;
  }
  return true;
}

/** No control characters (CR, LF, NUL...); tab is allowed. */
function isSafeValue(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7F) return false;
  }
  return true;
}

function safeBytes(b: ArrayBuffer): bool {
  let p = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    let c = load<u8>(p + <usize>i);
    if ((c < 0x20 && c != 0x09) || c == 0x7F) return false;
  }
  return true;
}

/**
 * Optional integer member in [min, max]; `required` reports a missing key. (Reads the number
 * itself: the SDK's asInt formats a non-integer with f64.toString, which links ~3.5 KB of dtoa.)
 */
function intField(o: JsonValue, key: string, fallback: i32, min: i32, max: i32, required: bool = false): i32 {
  let v = o.get(key);
  if (v === null) {
    if (required) o.num(key);
    return fallback;
  }
  let n = v.asNumber();
  if (o.hasError()) return fallback;
  if (n != Math.floor(n) || n < <f64>min || n > <f64>max) {
    v.fail("expected an integer in [" + formatInt(min) + ", " + formatInt(max) + "]");
    return fallback;
  }
  return <i32>n;
}

function headerName(v: JsonValue | null): Bytes | null {
  if (v === null) return null;
  let s = v.asString();
  if (v.hasError()) return null;
  if (!isToken(s)) {
    v.fail("expected an HTTP header name (RFC 9110 token, no pseudo-header), got \"" + s + "\"");
    return null;
  }
  return Bytes.lower(s);
}

const METHODS: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

function parsePath(v: JsonValue, cfg: Config): void {
  let s = v.asString();
  if (v.hasError()) return;
  if (s.length == 0 || s.charCodeAt(0) != 0x2F || s.length > 2048) {
    v.fail("expected a path starting with '/' (at most 2048 characters)");
    return;
  }
  let text = "";
  let from = 0; // start of the literal run not yet in `text`
  let i = 0;
  let n = s.length;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c <= 0x20 || c == 0x7F) {
      v.fail("whitespace or control character at offset " + formatInt(i));
      return;
    }
    if (c == 0x7B /* { */ || c == 0x7D /* } */) {
      if (i + 1 < n && s.charCodeAt(i + 1) == c) { // "{{" / "}}": one literal brace
        text += s.substring(from, i + 1);
        i += 2;
        from = i;
        continue;
      }
      if (c == 0x7D) {
        v.fail("unmatched '}' at offset " + formatInt(i) + " (use '}}' for a literal brace)");
        return;
      }
      let end = s.indexOf("}", i);
      if (end < 0) { v.fail("unclosed '{' at offset " + formatInt(i)); return; }
      text += s.substring(from, i);
      let name = s.substring(i + 1, end);
      if (text.length > 0) { cfg.parts.push(new PathPart(PART_TEXT, text, null)); text = ""; }
      if (name == "path") cfg.parts.push(new PathPart(PART_PATH, "", null));
      else if (name == "method") cfg.parts.push(new PathPart(PART_METHOD, "", null));
      else if (name.startsWith("header.") && isToken(name.substring(7))) {
        cfg.parts.push(new PathPart(PART_HEADER, "", Bytes.lower(name.substring(7))));
      } else {
        v.fail("unknown placeholder {" + name + "} (use {header.<name>}, {path} or {method})");
        return;
      }
      i = end + 1;
      from = i;
      continue;
    }
    i++;
  }
  text += s.substring(from, n);
  if (text.length > 0) cfg.parts.push(new PathPart(PART_TEXT, text, null));
}

function parseConfig(root: JsonValue): Config | null {
  let cfg = new Config();
  if (root.asObject() === null) return null;
  let v = root.get("cluster");
  if (v === null) { root.str("cluster"); return null; }
  cfg.cluster = v.asString();
  if (!root.hasError() && (cfg.cluster.length == 0 || cfg.cluster.length > 256 || !isSafeValue(cfg.cluster))) {
    v.fail("expected a non-empty cluster name without control characters");
  }
  v = root.get("authority");
  if (v === null) { root.str("authority"); return null; }
  cfg.authority = v.asString();
  if (!root.hasError()) {
    let ok = cfg.authority.length > 0 && cfg.authority.length <= 256;
    for (let i = 0; ok && i < cfg.authority.length; i++) if (cfg.authority.charCodeAt(i) <= 0x20) ok = false;
    if (!ok) v.fail("expected a non-empty authority without whitespace");
  }
  v = root.get("method");
  if (v !== null) {
    cfg.method = v.asString();
    if (!root.hasError() && !METHODS.includes(cfg.method)) v.fail("expected one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, got \"" + cfg.method + "\"");
  }
  v = root.get("path");
  if (v === null) { root.str("path"); return null; }
  parsePath(v, cfg);
  let fw = root.optArr("forwardHeaders");
  if (fw.length > 32) changetype<JsonValue>(root.get("forwardHeaders")).fail("at most 32 headers");
  for (let i = 0; i < fw.length && !root.hasError(); i++) {
    let n = headerName(unchecked(fw[i]));
    // schema.json: uniqueItems
    for (let j = 0; j < i && n !== null && !root.hasError(); j++) if (unchecked(fw[j]).asString() == unchecked(fw[i]).asString()) unchecked(fw[i]).fail("\"" + unchecked(fw[i]).asString() + "\" is listed twice");
    if (n !== null && !root.hasError()) cfg.forward.push(n);
  }
  cfg.timeoutMs = <u32>intField(root, "timeoutMs", 1000, 1, 60000);

  let ms = root.arr("mappings");
  if (!root.hasError() && (ms.length == 0 || ms.length > 32)) changetype<JsonValue>(root.get("mappings")).fail("expected 1 to 32 mappings");
  for (let i = 0; i < ms.length && !root.hasError(); i++) {
    let m = unchecked(ms[i]);
    if (m.asObject() === null) break;
    let h = headerName(m.get("header"));
    if (h === null) { if (!m.hasError()) m.str("header"); break; }
    let src = m.str("source");
    if (m.hasError()) break;
    if (src == "bodyNonEmpty") {
      let val = m.str("value");
      if (!m.hasError() && (!isSafeValue(val) || val.length > 8192)) changetype<JsonValue>(m.get("value")).fail("expected a header value without control characters (at most 8192)");
      cfg.mappings.push(new Mapping(h, SRC_BODY, Bytes.of(val), null, []));
    } else if (src == "header") {
      let nv = m.get("name");
      if (nv === null) { m.str("name"); break; }
      let n = headerName(nv);
      cfg.mappings.push(new Mapping(h, SRC_HEADER, null, n, []));
    } else if (src == "json") {
      let p = m.str("path");
      if (m.hasError()) break;
      let segs = new Array<string>();
      let ok = p.length > 0 && p.length <= 256;
      for (let from = 0; ok;) {
        let dot = p.indexOf(".", from);
        let end = dot < 0 ? p.length : dot;
        if (end == from) ok = false;
        else segs.push(p.substring(from, end));
        if (dot < 0) break;
        from = dot + 1;
      }
      if (!ok) { changetype<JsonValue>(m.get("path")).fail("expected a dotted path like \"user.tier\" (no empty segment)"); break; }
      cfg.mappings.push(new Mapping(h, SRC_JSON, null, null, segs));
      cfg.needJson = true;
    } else {
      changetype<JsonValue>(m.get("source")).fail("expected \"bodyNonEmpty\", \"header\" or \"json\", got \"" + src + "\"");
    }
  }
  cfg.expectJson = root.optBool("expectJson", true) || cfg.needJson;

  let f = root.optObj("onFailure");
  if (f !== null) {
    let mv = f.get("mode");
    if (mv !== null) {
      let mode = mv.asString();
      if (!f.hasError()) {
        if (mode == "open") cfg.failOpen = true;
        else if (mode != "closed") mv.fail("expected \"open\" or \"closed\", got \"" + mode + "\"");
      }
    }
    cfg.failStatus = <u32>intField(f, "status", 503, 200, 599);
    let bv = f.get("body");
    if (bv !== null) {
      cfg.failBody = bv.asString();
      if (!f.hasError() && cfg.failBody.length > 4096) bv.fail("at most 4096 characters");
    }
    let hv = f.get("header");
    if (hv !== null) {
      let n = headerName(hv);
      if (n !== null) cfg.failHeader = n;
    }
  }

  let c = root.optObj("cache");
  if (c !== null) {
    let kv = c.get("keyHeader");
    if (kv === null) c.str("keyHeader");
    else cfg.cacheKey = headerName(kv);
    cfg.cacheTtlNs = <u64>intField(c, "ttlMs", 1, 1, 86400000, true) * 1000000;
    cfg.cacheMax = intField(c, "maxEntries", 1024, 1, 65536);
    cfg.cacheMaxKey = intField(c, "maxKeyLength", 256, 1, 4096);
  }
  cfg.maxConcurrent = intField(root, "maxConcurrent", 100, 1, 100000);
  cfg.maxAnswerBytes = intField(root, "maxAnswerBytes", DEFAULT_MAX_ANSWER_BYTES, 1, MAX_ANSWER_BYTES_LIMIT);
  cfg.maxValueBytes = intField(root, "maxValueBytes", DEFAULT_MAX_VALUE_BYTES, 1, MAX_VALUE_BYTES_LIMIT);
  let sv = root.get("metricStyle");
  if (sv !== null) {
    let style = sv.asString();
    if (!root.hasError()) {
      if (style == "flat") cfg.labels = false;
      else if (style != "labels") sv.fail("expected \"labels\" or \"flat\", got \"" + style + "\"");
    }
  }
  if (root.hasError()) return null;

  // Nothing request-dependent: build the callout headers once.
  let dynamic = cfg.forward.length > 0;
  for (let i = 0; i < cfg.parts.length; i++) if (unchecked(cfg.parts[i]).kind != PART_TEXT) dynamic = true;
  if (!dynamic) cfg.staticPairs = basePairs(cfg, cfg.parts.length > 0 ? unchecked(cfg.parts[0]).text : "/");
  return cfg;
}

function basePairs(cfg: Config, path: string): Pairs {
  return new Pairs().add(":method", cfg.method).add(":path", path).add(":authority", cfg.authority);
}

// ---- request-dependent parts ----
/** Percent-encodes every byte outside RFC 3986 unreserved characters. */
function percentEncode(b: ArrayBuffer): string {
  let n = <usize>b.byteLength;
  let p = changetype<usize>(b);
  let out = __new(n * 6, idof<String>()); // at most 3 UTF-16 units per byte
  let o = out;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    let l = c | 0x20;
    if (c - 0x30 < 10 || l - 0x61 < 26 || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x7E) {
      store<u16>(o, <u16>c);
      o += 2;
    } else {
      let h = c >> 4, d = c & 15;
      store<u16>(o, 0x25);
      store<u16>(o, <u16>(h + (h < 10 ? 0x30 : 0x37)), 2);
      store<u16>(o, <u16>(d + (d < 10 ? 0x30 : 0x37)), 4);
      o += 6;
    }
  }
  return changetype<string>(__renew(out, o - out));
}

const DOT: u8 = 0x2E;
const ESCAPED_DOT = "%2E";

/**
 * True for a value made only of dots. Percent-encoding leaves `.` as is (an unreserved
 * character) and turns `/` into %2F, so a header value always lies inside one path segment:
 * only a value of dots alone can make that segment `.` or `..` (`/users/../profile`).
 */
function isOnlyDots(v: ArrayBuffer): bool {
  let b = Uint8Array.wrap(v);
  if (b.length == 0) return false;
  for (let i = 0; i < b.length; i++) if (unchecked(b[i]) != DOT) return false;
  return true;
}

/** A request header's value as path text: percent-encoded, a value of dots alone as %2E each. */
function pathValue(v: ArrayBuffer): string {
  return isOnlyDots(v) ? ESCAPED_DOT.repeat(v.byteLength) : percentEncode(v);
}

function buildPairs(cfg: Config): Pairs {
  let sp = cfg.staticPairs;
  if (sp !== null) return sp;
  let path = "";
  for (let i = 0; i < cfg.parts.length; i++) {
    let part = unchecked(cfg.parts[i]);
    if (part.kind == PART_TEXT) path += part.text;
    else if (part.kind == PART_HEADER) {
      let v = requestHeaders.getBytes<Bytes>(changetype<Bytes>(part.header));
      if (v !== null) path += pathValue(v);
    } else if (part.kind == PART_PATH) {
      let v = requestHeaders.get<string>(":path");
      if (v !== null) path += v;
    } else {
      let v = requestHeaders.get<string>(":method");
      if (v !== null) path += v;
    }
  }
  let pairs = basePairs(cfg, path.length > 0 ? path : "/");
  for (let i = 0; i < cfg.forward.length; i++) {
    let n = unchecked(cfg.forward[i]);
    let v = requestHeaders.getBytes<Bytes>(n);
    if (v !== null) pairs.add<Bytes, ArrayBuffer>(n, v);
  }
  return pairs;
}

/**
 * A JSON number as text: integers up to 2^53 exactly, other numbers with at most 15 significant
 * digits (exactly what a JSON text of <= 15 digits said). Beyond that range (|n| >= 1e15 with a
 * fraction, |n| < 1e-6, or > 2^53): null, the mapping counts as absent. (No f64.toString: that
 * links ~3.5 KB of dtoa.)
 */
function formatNumber(n: f64): string | null {
  let a = Math.abs(n);
  if (a == Math.floor(a) && a <= 9007199254740991) return formatInt(<i64>n);
  if (!(a < 1e15) || a < 1e-6) return null;
  let ip = Math.floor(a);
  let intText = formatInt(<i64>ip);
  let fracDigits = ip == 0 ? 15 : 15 - intText.length;
  let scale: f64 = 1;
  for (let i = 0; i < fracDigits; i++) scale *= 10; // exact up to 1e22
  let frac = <i64>Math.round((a - ip) * scale);
  if (<f64>frac >= scale) return null; // rounds up to the next integer: not worth a carry
  let ft = formatInt(frac);
  while (ft.length < fracDigits) ft = "0" + ft;
  let end = ft.length;
  while (end > 0 && ft.charCodeAt(end - 1) == 0x30) end--;
  let sign: string = n < 0 ? "-" : "";
  if (end == 0) return sign + intText;
  return sign + intText + "." + ft.substring(0, end);
}

/** A canonical decimal array index ("0", "12"), or -1. */
function parseIndex(s: string): i32 {
  if (s.length == 0 || s.length > 9 || (s.length > 1 && s.charCodeAt(0) == 0x30)) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function jsonLookup(doc: JsonValue, path: string[]): ArrayBuffer | null {
  let cur: JsonValue | null = doc;
  for (let i = 0; i < path.length && cur !== null; i++) {
    let seg = unchecked(path[i]);
    if (cur.kind == JsonKind.Object) cur = cur.get(seg);
    else if (cur.kind == JsonKind.Array) {
      let idx = parseIndex(seg);
      cur = idx >= 0 ? cur.at(idx) : null;
    } else cur = null;
  }
  if (cur === null) return null;
  if (cur.kind == JsonKind.String) return utf8Bytes(cur.strValue);
  if (cur.kind == JsonKind.Bool) return utf8Bytes(cur.boolValue ? "true" : "false");
  if (cur.kind == JsonKind.Number) {
    let t = formatNumber(cur.numValue);
    return t === null ? null : utf8Bytes(t);
  }
  return null; // null, objects and arrays count as absent
}

// ---- root: config, metrics, cache, concurrency ----
class CalloutRoot extends RootContext {
  cfg: Config = new Config();
  counters: Counter[] = [];
  valueDropped: Counter | null = null;
  inflight: i32 = 0;
  /** The cache: open addressing (linear probing, at most half full), keyed by keyHash. */
  slots: StaticArray<CacheEntry | null> = new StaticArray<CacheEntry | null>(1);
  mask: u32 = 0;
  ring: StaticArray<string | null> = new StaticArray<string | null>(0);
  ringHead: i32 = 0;

  onConfigure(size: u32): bool {
    // An empty or blank configuration (Istio: a WasmPlugin without pluginConfig) reads as {}: it is
    // refused like {}, naming the first missing field (`cluster`).
    let json = this.configJson();
    if (json === null) return false;
    // parseConfig records its first error in `json` (null then); configOk logs it, or an unknown key
    let cfg = parseConfig(json);
    if (!this.configOk(json) || cfg === null) return false;
    this.cfg = cfg;
    if (this.counters.length == 0) {
      for (let i = 0; i < OUTCOMES.length; i++) {
        let o = unchecked(OUTCOMES[i]);
        // Label in Istio's extractable encoding (see the README for the stats_tags).
        this.counters.push(new Counter(cfg.labels ? "outcome=.=" + o + ";.;callout_total" : "callout_total_" + o));
      }
      this.valueDropped = new Counter(VALUE_DROPPED_METRIC);
    }
    let max = cfg.cacheKey !== null ? cfg.cacheMax : 0;
    let cap = 1;
    while (cap < max * 2) cap <<= 1;
    this.slots = new StaticArray<CacheEntry | null>(cap);
    this.mask = <u32>cap - 1;
    this.ring = new StaticArray<string | null>(max);
    this.ringHead = 0;
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    return new CalloutStream(id, this);
  }

  count(outcome: i32): void {
    unchecked(this.counters[outcome]).increment(1);
  }

  /** `v` when it may become a header value: at most maxValueBytes, no control character; else null, counted. */
  keptValue(v: ArrayBuffer): ArrayBuffer | null {
    if (v.byteLength <= this.cfg.maxValueBytes && safeBytes(v)) return v;
    let dropped = this.valueDropped;
    if (dropped !== null) dropped.increment(1);
    return null;
  }

  /** The slot of `key`, or of the empty slot ending its probe chain. */
  slotOf(key: string): u32 {
    let i = keyHash(key) & this.mask;
    while (true) {
      let e = unchecked(this.slots[i]);
      if (e === null || e.key == key) return i;
      i = (i + 1) & this.mask;
    }
  }

  lookup(key: string): CacheEntry | null {
    let e = unchecked(this.slots[this.slotOf(key)]);
    return e !== null && e.expires > monotonicNanos() ? e : null;
  }

  /** Removes `key` (backward-shift deletion: probe chains stay intact without tombstones). */
  remove(key: string): void {
    let slots = this.slots, mask = this.mask;
    let i = this.slotOf(key);
    if (unchecked(slots[i]) === null) return;
    let j = i;
    while (true) {
      unchecked(slots[i] = null);
      while (true) {
        j = (j + 1) & mask;
        let e = unchecked(slots[j]);
        if (e === null) return;
        let home = keyHash(e.key) & mask;
        // move e back to i unless its home is in the cyclic range (i, j]
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
          unchecked(slots[i] = e);
          i = j;
          break;
        }
      }
    }
  }

  store(key: string, values: Array<ArrayBuffer | null>): void {
    let expires = monotonicNanos() + this.cfg.cacheTtlNs;
    let e = unchecked(this.slots[this.slotOf(key)]);
    if (e !== null) {
      e.values = values;
      e.expires = expires;
      return;
    }
    // FIFO eviction: the ring slot at head holds the oldest key (or null while filling).
    let old = unchecked(this.ring[this.ringHead]);
    if (old !== null) this.remove(old);
    unchecked(this.ring[this.ringHead] = key);
    this.ringHead = (this.ringHead + 1) % this.ring.length;
    unchecked(this.slots[this.slotOf(key)] = new CacheEntry(key, values, expires));
  }
}

class CalloutStream extends HttpContext {
  waiting: bool = false;
  cacheKey: string | null = null;

  constructor(id: u32, public r: CalloutRoot) {
    super(id, r);
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let cfg = this.r.cfg;
    // A client must not forge the enrichment or the failure marker.
    for (let i = 0; i < cfg.mappings.length; i++) requestHeaders.remove<Bytes>(unchecked(cfg.mappings[i]).header);
    requestHeaders.remove<Bytes>(cfg.failHeader);

    let kh = cfg.cacheKey;
    if (kh !== null) {
      let k = requestHeaders.get<Bytes>(kh);
      if (k !== null && k.length <= cfg.cacheMaxKey) {
        let e = this.r.lookup(k);
        if (e !== null) {
          applyValues(cfg, e.values);
          this.r.count(CACHE_HIT);
          return FilterHeadersStatus.Continue;
        }
        this.cacheKey = k;
      }
    }
    if (this.r.inflight >= cfg.maxConcurrent) {
      log.warn("callout: " + formatInt(this.r.inflight) + " callouts in flight (maxConcurrent " + formatInt(cfg.maxConcurrent) + "): failure mode");
      return this.fail(OVERFLOW, false);
    }
    let s = this.dispatchHttpCall<string>(cfg.cluster, buildPairs(cfg), "", null, cfg.timeoutMs);
    if (s != Status.Ok) {
      log.warn("callout: dispatch to cluster \"" + cfg.cluster + "\" failed: " + statusName(s) + " (unknown cluster?)");
      return this.fail(ERROR, false);
    }
    this.waiting = true;
    this.r.inflight++;
    // Envoy keeps the headers writable and buffers the body until continueRequest().
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.waiting ? FilterDataStatus.StopIterationAndBuffer : FilterDataStatus.Continue;
  }

  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    return this.waiting ? FilterTrailersStatus.StopIteration : FilterTrailersStatus.Continue;
  }

  onHttpCallResponse(resp: HttpCallResponse): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.r.inflight--;
    let cfg = this.r.cfg;
    if (resp.failed) {
      let st = getCallStatus();
      let msg = st === null ? "unknown" : st.message;
      log.warn("callout: call to \"" + cfg.cluster + "\" failed: " + msg);
      this.fail(msg.includes("timeout") ? TIMEOUT : ERROR, true);
      return;
    }
    let status = resp.status;
    if (status < 200 || status > 299) {
      log.warn("callout: \"" + cfg.cluster + "\" answered " + formatInt(status));
      this.fail(status == 504 ? TIMEOUT : ERROR, true);
      return;
    }
    let size = resp.bodySize;
    if (size > <u32>cfg.maxAnswerBytes) {
      // never read: parsing a large answer would hold the worker (timeoutMs does not cover it)
      log.warn("callout: \"" + cfg.cluster + "\" answered " + formatInt(size) + " bytes, more than maxAnswerBytes " + formatInt(cfg.maxAnswerBytes));
      this.fail(TOO_LARGE, true);
      return;
    }
    let doc: JsonValue | null = null;
    if (size > 0 && cfg.expectJson) {
      let body = httpCallResponseBody.get();
      if (body === null) { this.fail(ERROR, true); return; }
      doc = parseJson(Uint8Array.wrap(body), "callout answer");
      if (doc.hasError()) {
        log.warn("callout: " + doc.error());
        this.fail(ERROR, true);
        return;
      }
    }
    let values = new Array<ArrayBuffer | null>(cfg.mappings.length);
    for (let i = 0; i < cfg.mappings.length; i++) {
      let m = unchecked(cfg.mappings[i]);
      let v: ArrayBuffer | null = null;
      if (m.source == SRC_BODY) {
        if (size > 0) v = changetype<Bytes>(m.value).buffer; // from the configuration: checked there
      } else {
        let answered = m.source == SRC_HEADER
          ? resp.headers.getBytes<Bytes>(changetype<Bytes>(m.name))
          : doc !== null ? jsonLookup(doc, m.path) : null;
        if (answered !== null) v = this.r.keptValue(answered);
      }
      unchecked(values[i] = v);
    }
    applyValues(cfg, values);
    let k = this.cacheKey;
    if (k !== null) this.r.store(k, values);
    this.r.count(OK);
    this.continueRequest();
  }

  /** Applies the failure mode. `resume`: the request is paused (callout answered). */
  fail(outcome: i32, resume: bool): FilterHeadersStatus {
    this.r.count(outcome);
    let cfg = this.r.cfg;
    if (cfg.failOpen) {
      requestHeaders.set<Bytes, string>(cfg.failHeader, unchecked(OUTCOMES[outcome]));
      if (resume) this.continueRequest();
      return FilterHeadersStatus.Continue;
    }
    this.sendLocalResponse<string>(cfg.failStatus, "callout_failed", cfg.failBody);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  onDelete(): void {
    // The stream ended while waiting (client gone): the SDK drops the late answer.
    if (this.waiting) {
      this.waiting = false;
      this.r.inflight--;
    }
  }
}

function applyValues(cfg: Config, values: Array<ArrayBuffer | null>): void {
  for (let i = 0; i < cfg.mappings.length; i++) {
    let v = unchecked(values[i]);
    if (v !== null) requestHeaders.set<Bytes, ArrayBuffer>(unchecked(cfg.mappings[i]).header, v);
  }
}

// The default registration serves any root_id (Envoy `root_id`, Istio `pluginName`).
registerRootContext((id: u32): RootContext => new CalloutRoot(id));
