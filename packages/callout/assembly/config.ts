// The filter's configuration (pluginConfig, see schema.json and the README's Configuration), read
// and checked once in on_configure. Reads go in the order of the README's table, so the first
// error found is the one logged.

import { Bytes, JsonValue, Pairs, requestHeaders, isToken, hasControlChars } from "as-proxy-wasm";
import { Mapping, Body, Header, Json } from "./mapping";
import { JsonPath } from "./jsonpath";
import { PathTemplate } from "./template";

// Values written as strings in the configuration, and their names there (in enum order).
/** What a failed callout does to the request (`onFailure.mode`). */
export enum FailureMode { Open, Closed }
const FAILURE_MODES: string[] = ["open", "closed"];
/** How the metrics are named (`metricStyle`). */
export enum MetricStyle { Labels, Flat }
const METRIC_STYLES: string[] = ["labels", "flat"];
/** Where a mapping finds its value (`mappings[].source`). */
enum Source { BodyNonEmpty, Header, Json }
const SOURCES: string[] = ["bodyNonEmpty", "header", "json"];
/** The callout's method (`method`), GET by default. */
const METHODS: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
const GET = 0;

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
  let cluster = root.member("cluster");
  cfg.cluster = cluster.asString();
  if (!root.hasError() && (cfg.cluster.length == 0 || cfg.cluster.length > MAX_NAME_LENGTH || hasControlChars(cfg.cluster))) {
    cluster.fail("expected a non-empty cluster name without control characters");
  }
  let authority = root.member("authority");
  cfg.authority = authority.asString();
  if (!root.hasError() && !isAuthority(cfg.authority)) authority.fail("expected a non-empty authority without whitespace");
  cfg.method = unchecked(METHODS[root.optChoice("method", METHODS, GET)]);
  let path = PathTemplate.parse(root.member("path"));
  if (path !== null) cfg.path = path;
  readForwardHeaders(root, cfg);
  cfg.timeoutMs = <u32>root.optInt("timeoutMs", 1000, 1, 60000);

  let mappings = root.arr("mappings");
  if (!root.hasError() && (mappings.length == 0 || mappings.length > MAX_HEADERS)) root.member("mappings").fail("expected 1 to 32 mappings");
  let needJson = false;
  for (let i = 0; i < mappings.length && !root.hasError(); i++) {
    let m = readMapping(unchecked(mappings[i]));
    if (m === null) break;
    cfg.mappings.push(m);
    if (m instanceof Json) needJson = true;
  }
  cfg.expectJson = root.optBool("expectJson", true) || needJson;

  let onFailure = root.optObj("onFailure");
  if (onFailure !== null) readOnFailure(onFailure, cfg.onFailure);
  let cache = root.optObj("cache");
  if (cache !== null) cfg.cache = readCache(cache);
  cfg.maxConcurrent = <i32>root.optInt("maxConcurrent", 100, 1, 100000);
  cfg.maxAnswerBytes = <i32>root.optInt("maxAnswerBytes", DEFAULT_MAX_ANSWER_BYTES, 1, MAX_ANSWER_BYTES_LIMIT);
  cfg.maxValueBytes = <i32>root.optInt("maxValueBytes", DEFAULT_MAX_VALUE_BYTES, 1, MAX_VALUE_BYTES_LIMIT);
  cfg.metricStyle = <MetricStyle>root.optChoice("metricStyle", METRIC_STYLES, MetricStyle.Labels);
  if (root.hasError()) return null;
  cfg.freeze();
  return cfg;
}

/** `forwardHeaders`: distinct header names, at most 32. */
function readForwardHeaders(root: JsonValue, cfg: Config): void {
  let names = root.optArr("forwardHeaders");
  if (names.length > MAX_HEADERS) root.member("forwardHeaders").fail("at most 32 headers");
  for (let i = 0; i < names.length && !root.hasError(); i++) {
    let item = unchecked(names[i]);
    let name = headerName(item);
    // schema.json: uniqueItems
    for (let j = 0; j < i && name !== null && !root.hasError(); j++) {
      if (unchecked(names[j]).asString() == item.asString()) item.fail("\"" + item.asString() + "\" is listed twice");
    }
    if (name !== null && !root.hasError()) cfg.forwardHeaders.push(name);
  }
}

/** One entry of `mappings`, or null after recording an error in `m`. */
function readMapping(m: JsonValue): Mapping | null {
  if (m.asObject() === null) return null;
  let header = headerName(m.member("header"));
  if (header === null) return null;
  let source = m.choice("source", SOURCES);
  if (source == Source.BodyNonEmpty) {
    let v = m.member("value");
    let value = v.asString();
    if (m.hasError()) return null;
    if (hasControlChars(value) || value.length > MAX_CONFIGURED_VALUE) {
      v.fail("expected a header value without control characters (at most 8192)");
      return null;
    }
    return new Body(header, Bytes.of(value));
  }
  if (source == Source.Header) {
    let name = headerName(m.member("name"));
    return name === null ? null : new Header(header, name);
  }
  if (source == Source.Json) {
    let v = m.member("path");
    let text = v.asString();
    if (m.hasError()) return null;
    let path = JsonPath.parse(text);
    if (path === null) {
      v.fail("expected a dotted path like \"user.tier\" (no empty segment)");
      return null;
    }
    return new Json(header, path);
  }
  return null; // choice recorded the error
}

function readOnFailure(f: JsonValue, out: OnFailure): void {
  out.mode = <FailureMode>f.optChoice("mode", FAILURE_MODES, FailureMode.Closed);
  out.status = <u32>f.optInt("status", 503, 200, 599);
  let body = f.get("body");
  if (body !== null) {
    out.body = body.asString();
    if (!f.hasError() && out.body.length > MAX_FAILURE_BODY) body.fail("at most 4096 characters");
  }
  let header = f.get("header");
  if (header !== null) {
    let name = headerName(header);
    if (name !== null) out.header = name;
  }
}

/** `cache`, or null after recording an error in `c`. */
function readCache(c: JsonValue): CacheConfig | null {
  let key = headerName(c.member("keyHeader"));
  let ttlNs = <u64>c.int("ttlMs", 1, 86400000) * NANOS_PER_MILLI;
  let maxEntries = <i32>c.optInt("maxEntries", 1024, 1, 65536);
  let maxKeyLength = <i32>c.optInt("maxKeyLength", 256, 1, 4096);
  return key === null ? null : new CacheConfig(key, ttlNs, maxEntries, maxKeyLength);
}

/** A header name (an RFC 9110 token, lower-cased), or null after recording an error in `v`. */
function headerName(v: JsonValue): Bytes | null {
  let s = v.asString();
  if (v.hasError()) return null;
  if (!isToken(s, MAX_NAME_LENGTH)) {
    v.fail("expected an HTTP header name (RFC 9110 token, no pseudo-header), got \"" + s + "\"");
    return null;
  }
  return Bytes.lower(s);
}

/** 1 to 256 characters, none of them whitespace or a control character below space. */
function isAuthority(s: string): bool {
  if (s.length == 0 || s.length > MAX_NAME_LENGTH) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) <= 0x20 /* space */) return false;
  return true;
}
