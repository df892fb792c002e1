// http-timing: request duration histograms and response counters by status class, per traffic
// direction (course Lab 6).
//
// Everything is recorded in on_log: it is the one callback Envoy runs for every stream,
// including responses that another filter produced with a local reply (those streams never
// reach our request/response callbacks). Metrics are defined once at configure time; stream
// contexts are pooled, so a request costs no filter allocation (the host still allocates the
// few bytes it returns for `:status` and the direction property).

import {
  RootContext, HttpContext, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, LogLevel,
  log, registerRootContext, Counter, Histogram, monotonicNanos, nowNanos, getPropertyInt,
  requestHeaders, responseHeaders, JsonValue,
} from "as-proxy-wasm";
export * from "as-proxy-wasm/assembly/exports";

const DIRECTIONS: string[] = ["unknown", "inbound", "outbound"];
const CLASSES: string[] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const NCLASS = 6;

// Property paths, allocated once (array literals would allocate on every call).
const XDS_DIRECTION: string[] = ["xds", "listener_direction"];
const OLD_DIRECTION: string[] = ["listener_direction"];
const RESPONSE_CODE: string[] = ["response", "code"];
const REQUEST_TIME: string[] = ["request", "time"];

class Config {
  prefix: string = "wasm_http";
  /** false: the course's names (the default); true: one labelled family (needs stats_tags) */
  labels: bool = false;
  /** 0 = auto (listener direction), 1 inbound, 2 outbound */
  direction: i32 = 0;
  logEvery: i32 = 0;
  maxPath: i32 = 128;
  includeQuery: bool = false;
}

function isMetricName(s: string): bool {
  if (s.length == 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    let ok = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return true;
}

/**
 * Optional integer member in [min, max]. (Reads the number itself: the SDK's asInt formats a
 * non-integer with f64.toString, which links ~3.5 KB of dtoa into the module.)
 */
function optInt(o: JsonValue, key: string, fallback: i32, min: i32, max: i32): i32 {
  let v = o.get(key);
  if (v === null) return fallback;
  let n = v.asNumber();
  if (o.hasError()) return fallback;
  if (n != Math.floor(n) || n < <f64>min || n > <f64>max) {
    v.fail("expected an integer in [" + min.toString() + ", " + max.toString() + "]");
    return fallback;
  }
  return <i32>n;
}

function parseConfig(root: JsonValue): Config | null {
  let cfg = new Config();
  if (root.asObject() === null) return null;
  let v = root.get("prefix");
  if (v !== null) {
    cfg.prefix = v.asString();
    if (!root.hasError() && !isMetricName(cfg.prefix)) v.fail("expected a metric name prefix matching [a-zA-Z_][a-zA-Z0-9_]* (at most 64), got \"" + cfg.prefix + "\"");
  }
  v = root.get("metricStyle");
  if (v !== null) {
    let s = v.asString();
    if (!root.hasError()) {
      if (s == "labels") cfg.labels = true;
      else if (s != "flat") v.fail("expected \"labels\" or \"flat\", got \"" + s + "\"");
    }
  }
  v = root.get("direction");
  if (v !== null) {
    let s = v.asString();
    if (!root.hasError()) {
      if (s == "inbound") cfg.direction = 1;
      else if (s == "outbound") cfg.direction = 2;
      else if (s != "auto") v.fail("expected \"auto\", \"inbound\" or \"outbound\", got \"" + s + "\"");
    }
  }
  let l = root.optObj("log");
  if (l !== null) {
    cfg.logEvery = optInt(l, "sampleEvery", 100, 1, 1000000);
    cfg.maxPath = optInt(l, "maxPathLength", 128, 1, 2048);
    cfg.includeQuery = l.optBool("includeQuery", false);
  }
  return root.hasError() ? null : cfg;
}

class TimingRoot extends RootContext {
  cfg: Config = new Config();
  /** per direction */
  histograms: Histogram[] = [];
  /** [direction * NCLASS + class] */
  counters: Counter[] = [];
  pool: TimingStream[] = [];
  sampleCountdown: i32 = 1;

  onConfigure(size: u32): bool {
    let json = this.configJson(true);
    if (json === null) return false;
    // parseConfig records its first error in `json` (null then); configOk logs it, or an unknown key
    let cfg = parseConfig(json);
    if (!this.configOk(json) || cfg === null) return false;
    this.cfg = cfg;
    // Defined once; a reconfiguration with other names defines the new ones (Envoy keeps stats).
    this.histograms = [];
    this.counters = [];
    for (let d = 0; d < DIRECTIONS.length; d++) {
      let dir = unchecked(DIRECTIONS[d]);
      this.histograms.push(new Histogram(cfg.prefix + "_" + dir + "_duration_ms"));
      for (let c = 0; c < NCLASS; c++) {
        let cls = unchecked(CLASSES[c]);
        // Labels in Istio's extractable encoding (see the README for the stats_tags).
        this.counters.push(new Counter(cfg.labels
          ? "direction=.=" + dir + ";.;response_class=.=" + cls + ";.;" + cfg.prefix + "_responses_total"
          : cfg.prefix + "_" + dir + "_responses_total_" + cls));
      }
    }
    this.sampleCountdown = 1;
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    let n = this.pool.length;
    if (n > 0) {
      let s = this.pool.pop();
      s.reuse(id);
      return s;
    }
    return new TimingStream(id, this);
  }

  /** True for one stream in `sampleEvery` (deterministic). */
  sampled(): bool {
    if (this.cfg.logEvery == 0) return false;
    if (--this.sampleCountdown > 0) return false;
    this.sampleCountdown = this.cfg.logEvery;
    return true;
  }
}

class TimingStream extends HttpContext {
  start: u64 = 0;
  end: u64 = 0;

  constructor(id: u32, public r: TimingRoot) {
    super(id, r);
  }

  /** Pool reuse: Envoy never reuses a context id, so the pooled object takes the new one. */
  reuse(id: u32): void {
    store<u32>(changetype<usize>(this) + offsetof<TimingStream>("id"), id);
    this.start = 0;
    this.end = 0;
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.start = monotonicNanos();
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    if (endOfStream) this.end = monotonicNanos();
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (endOfStream) this.end = monotonicNanos();
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    this.end = monotonicNanos();
    return FilterTrailersStatus.Continue;
  }

  onLog(): void {
    let r = this.r;
    let cfg = r.cfg;
    let end = this.end;
    if (end == 0) end = monotonicNanos();
    // Duration in ns; -1 when unknown.
    let ns: i64 = -1;
    if (this.start != 0) {
      ns = end >= this.start ? <i64>(end - this.start) : 0;
    } else {
      // Our request callbacks never ran (an earlier filter answered): Envoy's request start time.
      let t = getPropertyInt(REQUEST_TIME, -1);
      let now = <i64>nowNanos();
      if (t > 0 && now >= t) ns = now - t;
    }
    let dir = cfg.direction;
    if (dir == 0) {
      let d = getPropertyInt(XDS_DIRECTION, -1);
      if (d < 0) d = getPropertyInt(OLD_DIRECTION, -1);
      dir = d == 1 || d == 2 ? <i32>d : 0;
    }
    let status = responseStatus();
    let cls = status >= 100 && status <= 599 ? status / 100 - 1 : NCLASS - 1;
    unchecked(r.counters[dir * NCLASS + cls]).increment(1);
    if (ns >= 0) unchecked(r.histograms[dir]).record(<u64>((ns + 500000) / 1000000));
    if (r.sampled() && log.enabled(LogLevel.Info)) log.info(accessLine(cfg, dir, status, ns));
  }

  onDelete(): void {
    this.r.pool.push(this);
  }
}

/** `:status` of the response (access-log copy in on_log), else `response.code`, else 0. */
function responseStatus(): i32 {
  let b = responseHeaders.getBytes<string>(":status");
  if (b !== null && b.byteLength > 0 && b.byteLength <= 3) {
    let n = 0;
    let p = changetype<usize>(b);
    for (let i = 0; i < b.byteLength; i++) {
      let d = <i32>load<u8>(p + <usize>i) - 0x30;
      if (d < 0 || d > 9) return 0;
      n = n * 10 + d;
    }
    return n;
  }
  let c = getPropertyInt(RESPONSE_CODE, 0);
  return c > 0 && c < 1000 ? <i32>c : 0;
}

// ---- the sampled JSON access-log line ----
const HEXD = "0123456789abcdef";

function jsonString(s: string): string {
  let out = "\"";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5C || c < 0x20 || c == 0x7F) {
      out += s.substring(from, i);
      if (c == 0x22) out += "\\\"";
      else if (c == 0x5C) out += "\\\\";
      else out += "\\u00" + HEXD.charAt(c >> 4) + HEXD.charAt(c & 15);
      from = i + 1;
    }
  }
  return out + s.substring(from) + "\"";
}

function orEmpty(s: string | null): string {
  return s === null ? "" : s;
}

/** `authority` without its userinfo (`user:password@`): credentials never reach the log. */
function withoutUserinfo(authority: string): string {
  return authority.substring(authority.lastIndexOf("@") + 1);
}

/**
 * `path` without the userinfo of an absolute-form target (`http://user:password@host/p`); an
 * origin-form path (`/p`) has none.
 */
function pathWithoutUserinfo(path: string): string {
  if (path.startsWith("/")) return path;
  let scheme = path.indexOf("://");
  if (scheme < 0) return path;
  let start = scheme + 3;
  let end = start;
  while (end < path.length && !isAuthorityEnd(path.charCodeAt(end))) end++;
  return path.substring(0, start) + withoutUserinfo(path.substring(start, end)) + path.substring(end);
}

const SLASH = 0x2F, QUESTION = 0x3F, HASH = 0x23;

/** True for the characters that end the authority of a URL: `/`, `?` and `#` (RFC 3986 3.2). */
function isAuthorityEnd(c: i32): bool {
  return c == SLASH || c == QUESTION || c == HASH;
}

/** `path` without its query and without path parameters (`/cart;jsessionid=ABC/x` -> `/cart/x`). */
function pathWithoutParameters(path: string): string {
  let q = path.indexOf("?");
  if (q >= 0) path = path.substring(0, q);
  let out = "";
  let from = 0;
  while (true) {
    let semi = path.indexOf(";", from);
    if (semi < 0) break;
    out += path.substring(from, semi);
    let slash = path.indexOf("/", semi); // a parameter runs to the end of its segment
    from = slash < 0 ? path.length : slash;
  }
  return out + path.substring(from);
}

function accessLine(cfg: Config, dir: i32, status: i32, ns: i64): string {
  let path = pathWithoutUserinfo(orEmpty(requestHeaders.get<string>(":path")));
  if (!cfg.includeQuery) path = pathWithoutParameters(path);
  if (path.length > cfg.maxPath) path = path.substring(0, cfg.maxPath) + "...";
  let dur = "null";
  if (ns >= 0) {
    let us = ns / 1000;
    let frac = (us % 1000).toString();
    while (frac.length < 3) frac = "0" + frac;
    dur = (us / 1000).toString() + "." + frac;
  }
  return "{\"direction\":\"" + unchecked(DIRECTIONS[dir]) + "\",\"method\":" + jsonString(orEmpty(requestHeaders.get<string>(":method"))) +
    ",\"path\":" + jsonString(path) + ",\"authority\":" + jsonString(withoutUserinfo(orEmpty(requestHeaders.get<string>(":authority")))) +
    ",\"status\":" + status.toString() + ",\"duration_ms\":" + dur + "}";
}

// The default registration serves any root_id (Envoy `root_id`, Istio `pluginName`).
registerRootContext((id: u32): RootContext => new TimingRoot(id));
