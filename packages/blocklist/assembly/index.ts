// blocklist: deny or allow requests by their normalised :authority (course Lab 2, without the
// course's bug: Envoy never passes a `host` header to filters, only `:authority`).
//
// Config (schema.json): {"mode": "deny"|"allow", "deny": [...], "allow": [...], "methods": [...],
// "pathPrefixes": [...], "response": {"status", "body", "headers"}, "dryRun", "dryRunHeader"}.
// Entries: "example.com" exact, ".example.com" domain + subdomains, "*.example.com" subdomains.
// Everything is prepared at configure time; a request costs a few host calls and one trie walk.
export * from "as-proxy-wasm/assembly/exports";
import {
  Bytes, Counter, FilterHeadersStatus, HttpContext, JsonValue, LogLevel, Pairs, RootContext, decodeUtf8, log,
  registerRootContext,
} from "as-proxy-wasm";
import { formatInt, utf8Bytes } from "as-proxy-wasm";
import { HostTrie, normalizeHost, outPtr, outLen, hadPort, isIpv6, emptyLabel } from "./host";

const MAX_ENTRIES: i32 = 100000;

const DECISION_BLOCKED: i32 = 0;
const DECISION_ALLOWED: i32 = 1;
const DECISION_DRY_RUN: i32 = 2;
const LIST_DENY: i32 = 0;
const LIST_ALLOW: i32 = 1;
const LIST_NONE: i32 = 2;

/** RFC 9110 token (header names, methods) of 1..maxLen characters: a 128-bit set, no table. */
function isToken(s: string, maxLen: i32): bool {
  if (s.length == 0 || s.length > maxLen) return false;
  for (let i = 0; i < s.length; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c > 127) return false;
    let bits: u64 = c < 64 ? 0x03ff6cfa00000000 : 0x57ffffffc7fffffe;
    if (!((bits >> <u64>(c & 63)) & 1)) return false;
  }
  return true;
}

/** An optional non-empty array member, or null (error recorded when empty or not an array). */
function optList(cfg: JsonValue, key: string, maxItems: i32): JsonValue[] | null {
  let v = cfg.get(key);
  if (v === null || cfg.hasError()) return null;
  let items = v.asArray();
  if (!cfg.hasError() && (items.length == 0 || items.length > maxItems)) v.fail("expected a non-empty list of at most " + formatInt(maxItems) + " entries");
  return cfg.hasError() ? null : items;
}

/** Reads one host list into `trie`; records the first problem on the config. */
function readList(cfg: JsonValue, key: string, trie: HostTrie): void {
  let items = optList(cfg, key, MAX_ENTRIES);
  if (items === null) return;
  for (let i = 0; i < items.length; i++) {
    let at = unchecked(items[i]);
    let s = at.asString();
    if (at.hasError()) return;
    let b = utf8Bytes(s);
    let p = changetype<usize>(b);
    let n = b.byteLength;
    let kind = 0;
    if (n > 1 && load<u8>(p) == 0x2a && load<u8>(p + 1) == 0x2e) { kind = 2; p += 2; n -= 2; }
    else if (n > 0 && load<u8>(p) == 0x2e) { kind = 1; p++; n--; }
    let bad = n == 0 || n > 1024;
    for (let j = 0; j < n; j++) {
      let c = load<u8>(p + <usize>j);
      if (c == 0x2a || c == 0x2f || c == 0x40 || c <= 0x20 || c == 0x7f) bad = true;
    }
    let why: string | null = null;
    if (bad) why = "expected \"name\", \".name\" or \"*.name\" (no '*' inside, no '/', '@', spaces)";
    else {
      normalizeHost(p, n);
      if (hadPort) why = "a port is not part of a host entry";
      else if (isIpv6 && kind != 0) why = "IPv6 literals only match exactly";
      else if (emptyLabel || outLen == 0) why = "empty label";
    }
    if (why !== null) { at.fail("\"" + s + "\": " + why); return; }
    trie.insert(outPtr(), outLen, kind, i);
  }
}

/** Printable copy of the normalised host for log lines (no control characters). */
function hostForLog(): string {
  let n = min(outLen, 256);
  let b = new ArrayBuffer(n);
  for (let i = 0; i < n; i++) {
    let c = load<u8>(outPtr() + <usize>i);
    store<u8>(changetype<usize>(b) + <usize>i, c < 0x20 || c >= 0x7f ? 0x3f : c);
  }
  return decodeUtf8(changetype<usize>(b), n);
}

class BlocklistRoot extends RootContext {
  denyMode: bool = true;
  deny: HostTrie = new HostTrie();
  allow: HostTrie = new HostTrie();
  methods: Bytes[] = [];
  prefixes: Bytes[] = [];
  status: u32 = 451;
  body: Bytes = Bytes.of("blocked by wasm");
  headers: Pairs | null = null;
  dryRun: bool = false;
  dryRunHeader: Bytes = Bytes.of("x-blocklist-dry-run");
  /** Counters by (list * 3 + decision), then rule index; defined on first use, bounded by the config. */
  private counters: Array<Array<Counter | null> | null> = new Array<Array<Counter | null> | null>(9);

  onConfigure(configSize: u32): bool {
    // An empty or blank configuration (Istio: a WasmPlugin without pluginConfig) reads as {}: refused
    // like {}, naming the missing list (`deny mode needs a non-empty "deny" list`).
    let cfg = this.configJson();
    if (cfg === null) return false;
    cfg.asObject();
    let mode = cfg.optStr("mode", "deny");
    if (!cfg.hasError() && mode != "deny" && mode != "allow") cfg.get("mode")!.fail("expected \"deny\" or \"allow\"");
    let deny = new HostTrie();
    let allow = new HostTrie();
    readList(cfg, "deny", deny);
    readList(cfg, "allow", allow);
    if (!cfg.hasError() && (mode == "deny" ? deny.size : allow.size) == 0) {
      cfg.fail(mode + " mode needs a non-empty \"" + mode + "\" list (empty rules)");
    }
    let methods = new Array<Bytes>();
    let ms = optList(cfg, "methods", 16);
    if (ms !== null) for (let i = 0; i < ms.length && !cfg.hasError(); i++) {
      let m = unchecked(ms[i]).asString();
      if (!cfg.hasError() && !isToken(m, 32)) unchecked(ms[i]).fail("\"" + m + "\" is not an HTTP method token");
      // schema.json: uniqueItems
      for (let j = 0; j < i && !cfg.hasError(); j++) if (unchecked(ms[j]).asString() == m) unchecked(ms[i]).fail("\"" + m + "\" is listed twice");
      methods.push(Bytes.of(m));
    }
    let prefixes = new Array<Bytes>();
    let ps = optList(cfg, "pathPrefixes", 64);
    if (ps !== null) for (let i = 0; i < ps.length && !cfg.hasError(); i++) {
      let p = unchecked(ps[i]).asString();
      if (!cfg.hasError() && (p.length == 0 || p.charCodeAt(0) != 0x2f || p.length > 1024)) unchecked(ps[i]).fail("expected a path prefix starting with '/'");
      prefixes.push(Bytes.of(p));
    }
    let status: f64 = 451;
    let body = "blocked by wasm";
    let headers: Pairs | null = null;
    let rv: JsonValue | null = null;
    if (!cfg.hasError()) rv = cfg.optObj("response");
    if (rv !== null && !cfg.hasError()) {
      status = rv.optNum("status", 451);
      if (!cfg.hasError() && (status != Math.floor(status) || status < 200 || status > 599)) rv.get("status")!.fail("expected integer in [200, 599]");
      body = rv.optStr("body", body);
      if (!cfg.hasError() && body.length > 4096) rv.get("body")!.fail("longer than 4096 characters");
      let hs = rv.optArr("headers");
      if (hs.length > 16) rv.get("headers")!.fail("more than 16 headers");
      for (let i = 0; i < hs.length && !cfg.hasError(); i++) {
        let h = unchecked(hs[i]);
        let name = h.str("name");
        let value = h.str("value");
        if (cfg.hasError()) break;
        if (!isToken(name, 256)) { h.get("name")!.fail("\"" + name + "\" is not a valid header name"); break; }
        for (let j = 0; j < value.length; j++) {
          let c = value.charCodeAt(j);
          if (c == 0x0d || c == 0x0a || c == 0) { h.get("value")!.fail("header value contains CR, LF or NUL"); break; }
        }
        if (headers === null) headers = new Pairs();
        headers.add(Bytes.lower(name), value);
      }
    }
    let dryRun = cfg.optBool("dryRun", false);
    let drh = cfg.optStr("dryRunHeader", "x-blocklist-dry-run");
    if (!cfg.hasError() && !isToken(drh, 256)) cfg.get("dryRunHeader")!.fail("\"" + drh + "\" is not a valid header name");
    if (!this.configOk(cfg)) return false;

    this.denyMode = mode == "deny";
    this.deny = deny;
    this.allow = allow;
    this.methods = methods;
    this.prefixes = prefixes;
    this.status = <u32>status;
    this.body = Bytes.of(body);
    this.headers = headers;
    this.dryRun = dryRun;
    this.dryRunHeader = Bytes.lower(drh);
    this.counters = new Array<Array<Counter | null> | null>(9);
    log.info("blocklist: " + mode + " mode, " + formatInt(deny.size) + " deny and " + formatInt(allow.size) +
      " allow entries" + (dryRun ? ", dry run" : ""));
    return true;
  }

  /** Counts a decision under its (list, rule) labels; rule -1 = no rule matched. */
  count(decision: i32, list: i32, rule: i32): void {
    let k = list * 3 + decision;
    let row = unchecked(this.counters[k]);
    if (row === null) {
      row = new Array<Counter | null>(list == LIST_NONE ? 1 : (list == LIST_DENY ? this.deny : this.allow).size);
      unchecked(this.counters[k] = row);
    }
    let i = max(rule, 0);
    let c = unchecked(row[i]);
    if (c === null) {
      c = new Counter("decision=.=" + (decision == 0 ? "blocked" : decision == 1 ? "allowed" : "dry_run") +
        ";.;list=.=" + (list == 0 ? "deny" : list == 1 ? "allow" : "none") +
        ";.;rule=.=" + (rule < 0 ? "none" : formatInt(rule)) + ";.;blocklist_requests_total");
      unchecked(row[i] = c);
    }
    c.increment(1);
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new BlocklistFilter(contextId, this);
  }
}

function startsWith(b: ArrayBuffer, prefix: Bytes): bool {
  return b.byteLength >= prefix.length && memory.compare(changetype<usize>(b), prefix.ptr, <usize>prefix.length) == 0;
}

class BlocklistFilter extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let r = this.root as BlocklistRoot;
    let headers = this.requestHeaders;
    let ms = r.methods;
    if (ms.length > 0) {
      let m = headers.getBytes(":method");
      let hit = false;
      if (m !== null) for (let i = 0; i < ms.length && !hit; i++) hit = unchecked(ms[i]).equalsBuffer(m);
      if (!hit) { r.count(DECISION_ALLOWED, LIST_NONE, -1); return FilterHeadersStatus.Continue; }
    }
    let ps = r.prefixes;
    if (ps.length > 0) {
      let p = headers.getBytes(":path");
      let hit = false;
      if (p !== null) for (let i = 0; i < ps.length && !hit; i++) hit = startsWith(p, unchecked(ps[i]));
      if (!hit) { r.count(DECISION_ALLOWED, LIST_NONE, -1); return FilterHeadersStatus.Continue; }
    }
    let a = headers.getBytes(":authority");
    if (a === null) normalizeHost(0, 0);
    else normalizeHost(changetype<usize>(a), a.byteLength);
    let d = r.deny.lookup(outPtr(), outLen);
    let w = r.allow.lookup(outPtr(), outLen);
    let blocked: bool;
    let list = LIST_NONE;
    let rule = -1;
    if (r.denyMode) {
      blocked = d >= 0 && w < 0;
      if (w >= 0) { list = LIST_ALLOW; rule = w; } else if (d >= 0) { list = LIST_DENY; rule = d; }
    } else {
      blocked = w < 0 || d >= 0;
      if (d >= 0) { list = LIST_DENY; rule = d; } else if (w >= 0) { list = LIST_ALLOW; rule = w; }
    }
    if (!blocked) {
      r.count(DECISION_ALLOWED, list, rule);
      return FilterHeadersStatus.Continue;
    }
    let ruleName = rule < 0 ? "not-allowed" : (list == LIST_DENY ? "deny[" : "allow[") + formatInt(rule) + "]";
    if (r.dryRun) {
      r.count(DECISION_DRY_RUN, list, rule);
      log.info("blocklist dry run: would block host \"" + hostForLog() + "\" (" + ruleName + ")");
      headers.add(r.dryRunHeader, ruleName);
      return FilterHeadersStatus.Continue;
    }
    r.count(DECISION_BLOCKED, list, rule);
    if (log.enabled(LogLevel.Debug)) log.debug("blocklist: blocked host \"" + hostForLog() + "\" (" + ruleName + ")");
    this.sendLocalResponse(r.status, "blocklist_denied", r.body, r.headers);
    return FilterHeadersStatus.StopIteration;
  }
}

registerRootContext((id: u32): RootContext => new BlocklistRoot(id));
