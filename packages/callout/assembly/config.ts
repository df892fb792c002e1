// The filter's configuration (pluginConfig, see schema.json and the README's Configuration), read
// and checked once in on_configure. Reads go in the order of the README's table, so the first
// error found is the one logged.

import { Bytes, JsonValue, Pairs, formatInt, requestHeaders } from "as-proxy-wasm";
import { Mapping, Body, Header, Json } from "./mapping";
import { JsonPath } from "./jsonpath";
import { PathTemplate } from "./template";
import { isToken, isSafeValue } from "./checks";

/** What a failed callout does to the request (`onFailure.mode`). */
export enum FailureMode { Open, Closed }
/** How the metrics are named (`metricStyle`). */
export enum MetricStyle { Labels, Flat }

const METHODS: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/** Most `forwardHeaders` and most `mappings`. */
const MAX_HEADERS = 32;
/** Longest cluster or authority, and longest header name, in characters. */
const MAX_NAME_LENGTH = 256;
/** Longest `bodyNonEmpty` value and longest failure body, in characters. */
const MAX_CONFIGURED_VALUE = 8192;
const MAX_FAILURE_BODY = 4096;
/** Default and largest `maxAnswerBytes`: a larger answer body is a failure (outcome too_large), never read. */
const DEFAULT_MAX_ANSWER_BYTES = 65536;
const MAX_ANSWER_BYTES_LIMIT = 16777216;
/** Default and largest `maxValueBytes`: a longer value from the answer is dropped (header left absent). */
const DEFAULT_MAX_VALUE_BYTES = 8192;
const MAX_VALUE_BYTES_LIMIT = 65536;
const NANOS_PER_MILLI: u64 = 1000000;

/** `onFailure`: what happens to the request when the callout fails. */
export class OnFailure {
  mode: FailureMode = FailureMode.Closed;
  /** Closed: the local reply's status and body. */
  status: u32 = 503;
  body: string = "metadata service unavailable\n";
  /** Open: the request header that carries the outcome. */
  header: Bytes = Bytes.of("x-callout-error");
}

/** `cache`: successful answers kept per key (the value of a request header). */
export class CacheConfig {
  constructor(
    public keyHeader: Bytes,
    public ttlNs: u64,
    public maxEntries: i32,
    /** Longer keys bypass the cache. */
    public maxKeyLength: i32,
  ) {}
}

export class Config {
  /** The callout: cluster, and the request sent to it. */
  cluster: string = "";
  authority: string = "";
  method: string = "GET";
  path: PathTemplate = new PathTemplate();
  forwardHeaders: Bytes[] = [];
  timeoutMs: u32 = 1000;

  /** The request headers set from the answer. */
  mappings: Mapping[] = [];
  /** A non-empty answer body must be JSON (always, with a `json` mapping). */
  expectJson: bool = true;
  onFailure: OnFailure = new OnFailure();
  cache: CacheConfig | null = null;
  maxConcurrent: i32 = 100;
  maxAnswerBytes: i32 = DEFAULT_MAX_ANSWER_BYTES;
  maxValueBytes: i32 = DEFAULT_MAX_VALUE_BYTES;
  metricStyle: MetricStyle = MetricStyle.Labels;

  /** The callout's headers when nothing in them depends on the request (built once). */
  private fixedHeaders: Pairs | null = null;

  /** The headers of the callout for the current request: method, path, authority, forwarded headers. */
  calloutHeaders(): Pairs {
    let fixed = this.fixedHeaders;
    if (fixed !== null) return fixed;
    let pairs = this.basePairs(this.path.render());
    for (let i = 0; i < this.forwardHeaders.length; i++) {
      let name = unchecked(this.forwardHeaders[i]);
      let value = requestHeaders.getBytes<Bytes>(name);
      if (value !== null) pairs.add<Bytes, ArrayBuffer>(name, value);
    }
    return pairs;
  }

  private basePairs(path: string): Pairs {
    return new Pairs().add(":method", this.method).add(":path", path).add(":authority", this.authority);
  }

  /** Builds the callout's headers once when they do not depend on the request. */
  freeze(): void {
    if (!this.path.readsRequest && this.forwardHeaders.length == 0) this.fixedHeaders = this.basePairs(this.path.render());
  }
}

/**
 * Reads the configuration in `root`. On the first error, records it in `root` (see
 * `JsonValue.hasError`) and returns null.
 */
export function parseConfig(root: JsonValue): Config | null {
  let cfg = new Config();
  if (root.asObject() === null) return null;
  let v = root.get("cluster");
  if (v === null) { root.str("cluster"); return null; }
  cfg.cluster = v.asString();
  if (!root.hasError() && (cfg.cluster.length == 0 || cfg.cluster.length > MAX_NAME_LENGTH || !isSafeValue(cfg.cluster))) {
    v.fail("expected a non-empty cluster name without control characters");
  }
  v = root.get("authority");
  if (v === null) { root.str("authority"); return null; }
  cfg.authority = v.asString();
  if (!root.hasError()) {
    let ok = cfg.authority.length > 0 && cfg.authority.length <= MAX_NAME_LENGTH;
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
  let path = PathTemplate.parse(v);
  if (path !== null) cfg.path = path;
  readForwardHeaders(root, cfg);
  cfg.timeoutMs = <u32>intField(root, "timeoutMs", 1000, 1, 60000);

  let ms = root.arr("mappings");
  let needJson = false;
  if (!root.hasError() && (ms.length == 0 || ms.length > MAX_HEADERS)) changetype<JsonValue>(root.get("mappings")).fail("expected 1 to 32 mappings");
  for (let i = 0; i < ms.length && !root.hasError(); i++) {
    let m = readMapping(unchecked(ms[i]));
    if (m === null) break;
    cfg.mappings.push(m);
    if (m instanceof Json) needJson = true;
  }
  cfg.expectJson = root.optBool("expectJson", true) || needJson;

  let f = root.optObj("onFailure");
  if (f !== null) readOnFailure(f, cfg.onFailure);
  let c = root.optObj("cache");
  if (c !== null) cfg.cache = readCache(c);
  cfg.maxConcurrent = intField(root, "maxConcurrent", 100, 1, 100000);
  cfg.maxAnswerBytes = intField(root, "maxAnswerBytes", DEFAULT_MAX_ANSWER_BYTES, 1, MAX_ANSWER_BYTES_LIMIT);
  cfg.maxValueBytes = intField(root, "maxValueBytes", DEFAULT_MAX_VALUE_BYTES, 1, MAX_VALUE_BYTES_LIMIT);
  let sv = root.get("metricStyle");
  if (sv !== null) {
    let style = sv.asString();
    if (!root.hasError()) {
      if (style == "flat") cfg.metricStyle = MetricStyle.Flat;
      else if (style != "labels") sv.fail("expected \"labels\" or \"flat\", got \"" + style + "\"");
    }
  }
  if (root.hasError()) return null;
  cfg.freeze();
  return cfg;
}

/** `forwardHeaders`: distinct header names, at most 32. */
function readForwardHeaders(root: JsonValue, cfg: Config): void {
  let fw = root.optArr("forwardHeaders");
  if (fw.length > MAX_HEADERS) changetype<JsonValue>(root.get("forwardHeaders")).fail("at most 32 headers");
  for (let i = 0; i < fw.length && !root.hasError(); i++) {
    let item = unchecked(fw[i]);
    let n = headerName(item);
    // schema.json: uniqueItems
    for (let j = 0; j < i && n !== null && !root.hasError(); j++) {
      if (unchecked(fw[j]).asString() == item.asString()) item.fail("\"" + item.asString() + "\" is listed twice");
    }
    if (n !== null && !root.hasError()) cfg.forwardHeaders.push(n);
  }
}

/** One entry of `mappings`, or null after recording an error in `m`. */
function readMapping(m: JsonValue): Mapping | null {
  if (m.asObject() === null) return null;
  let header = headerName(m.get("header"));
  if (header === null) {
    if (!m.hasError()) m.str("header");
    return null;
  }
  let source = m.str("source");
  if (m.hasError()) return null;
  if (source == "bodyNonEmpty") {
    let value = m.str("value");
    if (m.hasError()) return null;
    if (!isSafeValue(value) || value.length > MAX_CONFIGURED_VALUE) {
      changetype<JsonValue>(m.get("value")).fail("expected a header value without control characters (at most 8192)");
      return null;
    }
    return new Body(header, Bytes.of(value));
  }
  if (source == "header") {
    let nv = m.get("name");
    if (nv === null) {
      m.str("name");
      return null;
    }
    let name = headerName(nv);
    return name === null ? null : new Header(header, name);
  }
  if (source == "json") {
    let text = m.str("path");
    if (m.hasError()) return null;
    let path = JsonPath.parse(text);
    if (path === null) {
      changetype<JsonValue>(m.get("path")).fail("expected a dotted path like \"user.tier\" (no empty segment)");
      return null;
    }
    return new Json(header, path);
  }
  changetype<JsonValue>(m.get("source")).fail("expected \"bodyNonEmpty\", \"header\" or \"json\", got \"" + source + "\"");
  return null;
}

function readOnFailure(f: JsonValue, out: OnFailure): void {
  let mv = f.get("mode");
  if (mv !== null) {
    let mode = mv.asString();
    if (!f.hasError()) {
      if (mode == "open") out.mode = FailureMode.Open;
      else if (mode != "closed") mv.fail("expected \"open\" or \"closed\", got \"" + mode + "\"");
    }
  }
  out.status = <u32>intField(f, "status", 503, 200, 599);
  let bv = f.get("body");
  if (bv !== null) {
    out.body = bv.asString();
    if (!f.hasError() && out.body.length > MAX_FAILURE_BODY) bv.fail("at most 4096 characters");
  }
  let hv = f.get("header");
  if (hv !== null) {
    let n = headerName(hv);
    if (n !== null) out.header = n;
  }
}

/** `cache`, or null after recording an error in `c`. */
function readCache(c: JsonValue): CacheConfig | null {
  let kv = c.get("keyHeader");
  if (kv === null) {
    c.str("keyHeader");
    return null;
  }
  let key = headerName(kv);
  if (key === null) return null;
  let ttlNs = <u64>intField(c, "ttlMs", 1, 1, 86400000, true) * NANOS_PER_MILLI;
  let maxEntries = intField(c, "maxEntries", 1024, 1, 65536);
  let maxKeyLength = intField(c, "maxKeyLength", 256, 1, 4096);
  return new CacheConfig(key, ttlNs, maxEntries, maxKeyLength);
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

/** A header name (an RFC 9110 token, lower-cased), or null after recording an error in `v`. */
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
