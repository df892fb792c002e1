// blocklist: deny or allow requests by their normalised :authority (course Lab 2, without the
// course's bug: Envoy never passes a `host` header to filters, only `:authority`).
//
// Config (schema.json): {"mode": "deny"|"allow", "deny": [...], "allow": [...], "methods": [...],
// "pathPrefixes": [...], "response": {"status", "body", "headers"}, "dryRun", "dryRunHeader"}.
// Entries: "example.com" exact, ".example.com" domain + subdomains, "*.example.com" subdomains.
// Everything is prepared at configure time; a request costs a few host calls and one trie walk.
export * from "as-proxy-wasm/assembly/exports";
import {
  Bytes, Counter, FilterHeadersStatus, HttpContext, HttpStream, JsonValue, LogLevel, Pairs, RootContext, isHeaderValue,
  isToken, log, registerRootContext,
} from "as-proxy-wasm";
import { formatInt, utf8Bytes } from "as-proxy-wasm";
import { startsWith } from "./bytes";
import { HostNormalizer } from "./normalize";
import { NormalizedHost } from "./normalized";
import { HostTrie, MatchKind } from "./trie";

const MAX_ENTRIES: i32 = 100000;
const MAX_ENTRY_BYTES: i32 = 1024;

/** What happened to a request: the `decision` label. */
enum Decision {
  Blocked = 0,
  Allowed = 1,
  DryRun = 2,
}
const DECISION_NAMES: string[] = ["blocked", "allowed", "dry_run"];

/** The list whose rule decided: the `list` label (None: no rule matched). */
enum List {
  Deny = 0,
  Allow = 1,
  None = 2,
}
const LIST_NAMES: string[] = ["deny", "allow", "none"];

/** The `mode` setting. */
const MODES: string[] = ["deny", "allow"];
const DENY_MODE = 0;

/** An optional non-empty array member, or null (error recorded when empty or not an array). */
function optList(cfg: JsonValue, key: string, maxItems: i32): JsonValue[] | null {
  let v = cfg.get(key);
  if (v === null || cfg.hasError()) return null;
  let items = v.asArray();
  if (!cfg.hasError() && (items.length == 0 || items.length > maxItems)) v.fail("expected a non-empty list of at most " + formatInt(maxItems) + " entries");
  return cfg.hasError() ? null : items;
}

/** True when `entry` holds a '*', '/', '@', a space or a control character from `from` on. */
function hasForbiddenChar(entry: string, from: i32): bool {
  for (let i = from; i < entry.length; i++) {
    let c = entry.charCodeAt(i);
    if (c == 0x2a || c == 0x2f || c == 0x40 || c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

/**
 * ASCII characters that are part of no host name and no IP address: the syntax of a regular
 * expression or a glob, written where a host was expected (`[a-z]+`).
 */
const NOT_IN_HOST = "[]?#^|\\{}<>\"`";

/** The index of the first character of `entry` that NOT_IN_HOST holds, or -1. */
function firstNotInHost(entry: string): i32 {
  for (let i = 0; i < entry.length; i++) {
    let c = entry.charCodeAt(i);
    for (let j = 0; j < NOT_IN_HOST.length; j++) if (NOT_IN_HOST.charCodeAt(j) == c) return i;
  }
  return -1;
}

/** Why the normalised `host` of `entry`, an entry of `kind`, cannot be an entry, or null. */
function entryProblem(entry: string, kind: MatchKind, host: NormalizedHost): string | null {
  let bad = host.ipv6 ? -1 : firstNotInHost(entry);
  if (bad >= 0) {
    return "'" + entry.charAt(bad) + "' cannot be part of a host name (entries are names or IP addresses, not patterns)";
  }
  if (host.hadPort) return "a port is not part of a host entry";
  if (host.ipv6 && kind != MatchKind.Exact) return "IPv6 literals only match exactly";
  if (host.emptyLabel || host.length == 0) return "empty label";
  return null;
}

/** The match kind an entry's prefix says ("*." wildcard, "." suffix, none exact). */
function kindOf(entry: string): MatchKind {
  if (entry.length > 1 && entry.charCodeAt(0) == 0x2a && entry.charCodeAt(1) == 0x2e) return MatchKind.Wildcard;
  if (entry.length > 0 && entry.charCodeAt(0) == 0x2e) return MatchKind.Suffix;
  return MatchKind.Exact;
}

/** Length of the prefix of an entry of `kind` ("*.", "." or nothing). */
function prefixLength(kind: MatchKind): i32 {
  return kind == MatchKind.Wildcard ? 2 : kind == MatchKind.Suffix ? 1 : 0;
}

/** Reads one host list into `trie`; records the first problem on the config. */
function readList(cfg: JsonValue, key: string, trie: HostTrie, normalizer: HostNormalizer): void {
  let items = optList(cfg, key, MAX_ENTRIES);
  if (items === null) return;
  for (let i = 0; i < items.length; i++) {
    let at = unchecked(items[i]);
    let entry = at.asString();
    if (at.hasError()) return;
    let kind = kindOf(entry);
    let from = prefixLength(kind);
    let bytes = utf8Bytes(entry);
    let n = bytes.byteLength - from;
    let why: string | null = null;
    if (n == 0 || n > MAX_ENTRY_BYTES || hasForbiddenChar(entry, from)) {
      why = "expected \"name\", \".name\" or \"*.name\" (no '*' inside, no '/', '@', spaces)";
    } else {
      let host = normalizer.normalize(bytes, from);
      why = entryProblem(entry, kind, host);
      if (why === null) trie.insert(host, kind, i);
    }
    if (why !== null) { at.fail("\"" + entry + "\": " + why); return; }
  }
}

/**
 * blocklist_requests_total by (decision, list, rule). Each counter is defined on first use; there
 * are at most (decisions x (rules + 1)) of them, bounded by the config.
 */
class DecisionCounters {
  /** By list * DECISION_NAMES.length + decision, then by rule. */
  private rows: Array<Array<Counter | null> | null> = new Array<Array<Counter | null> | null>(LIST_NAMES.length * DECISION_NAMES.length);

  constructor(private denyRules: i32, private allowRules: i32) {}

  /** Counts a decision under its (list, rule) labels; rule -1 = no rule matched. */
  count(decision: Decision, list: List, rule: i32): void {
    let k = <i32>list * DECISION_NAMES.length + <i32>decision;
    let row = unchecked(this.rows[k]);
    if (row === null) {
      row = new Array<Counter | null>(list == List.None ? 1 : list == List.Deny ? this.denyRules : this.allowRules);
      unchecked(this.rows[k] = row);
    }
    let i = max(rule, 0);
    let c = unchecked(row[i]);
    if (c === null) {
      c = new Counter("decision=.=" + unchecked(DECISION_NAMES[decision]) + ";.;list=.=" + unchecked(LIST_NAMES[list]) +
        ";.;rule=.=" + (rule < 0 ? "none" : formatInt(rule)) + ";.;blocklist_requests_total");
      unchecked(row[i] = c);
    }
    c.increment(1);
  }
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
  counters: DecisionCounters = new DecisionCounters(0, 0);
  /** Normalises every :authority (and the entries at configure time), reusing its buffers. */
  normalizer: HostNormalizer = new HostNormalizer();

  onConfigure(configSize: u32): bool {
    // An empty or blank configuration (Istio: a WasmPlugin without pluginConfig) reads as {}: refused
    // like {}, naming the missing list (`deny mode needs a non-empty "deny" list`).
    let cfg = this.configJson();
    if (cfg === null) return false;
    cfg.asObject();
    let denyMode = cfg.optChoice("mode", MODES, DENY_MODE) == DENY_MODE;
    let mode = denyMode ? "deny" : "allow";
    let deny = new HostTrie();
    let allow = new HostTrie();
    readList(cfg, "deny", deny, this.normalizer);
    readList(cfg, "allow", allow, this.normalizer);
    if (!cfg.hasError() && (denyMode ? deny.size : allow.size) == 0) {
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
    let status: i64 = 451;
    let body = "blocked by wasm";
    let headers: Pairs | null = null;
    let rv: JsonValue | null = null;
    if (!cfg.hasError()) rv = cfg.optObj("response");
    if (rv !== null && !cfg.hasError()) {
      status = rv.optInt("status", 451, 200, 599);
      body = rv.optStr("body", body);
      if (!cfg.hasError() && body.length > 4096) rv.member("body").fail("longer than 4096 characters");
      let hs = rv.optArr("headers");
      if (hs.length > 16) rv.member("headers").fail("more than 16 headers");
      for (let i = 0; i < hs.length && !cfg.hasError(); i++) {
        let h = unchecked(hs[i]);
        let name = h.str("name");
        let value = h.str("value");
        if (cfg.hasError()) break;
        if (!isToken(name, 256)) { h.member("name").fail("\"" + name + "\" is not a valid header name"); break; }
        if (!isHeaderValue(value)) { h.member("value").fail("header value contains CR, LF or NUL"); break; }
        if (headers === null) headers = new Pairs();
        headers.add(Bytes.lower(name), value);
      }
    }
    let dryRun = cfg.optBool("dryRun", false);
    let drh = cfg.optStr("dryRunHeader", "x-blocklist-dry-run");
    if (!cfg.hasError() && !isToken(drh, 256)) cfg.member("dryRunHeader").fail("\"" + drh + "\" is not a valid header name");
    if (!this.configOk(cfg)) return false;

    this.denyMode = denyMode;
    this.deny = deny;
    this.allow = allow;
    this.methods = methods;
    this.prefixes = prefixes;
    this.status = <u32>status;
    this.body = Bytes.of(body);
    this.headers = headers;
    this.dryRun = dryRun;
    this.dryRunHeader = Bytes.lower(drh);
    this.counters = new DecisionCounters(deny.size, allow.size);
    log.info("blocklist: " + mode + " mode, " + formatInt(deny.size) + " deny and " + formatInt(allow.size) +
      " allow entries" + (dryRun ? ", dry run" : ""));
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new BlocklistFilter(contextId, this);
  }
}

class BlocklistFilter extends HttpStream<BlocklistRoot> {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let r = this.root;
    let headers = this.requestHeaders;
    let ms = r.methods;
    if (ms.length > 0) {
      let m = headers.getBytes(":method");
      let hit = false;
      if (m !== null) for (let i = 0; i < ms.length && !hit; i++) hit = unchecked(ms[i]).equalsBuffer(m);
      if (!hit) { r.counters.count(Decision.Allowed, List.None, -1); return FilterHeadersStatus.Continue; }
    }
    let ps = r.prefixes;
    if (ps.length > 0) {
      let p = headers.getBytes(":path");
      let hit = false;
      if (p !== null) for (let i = 0; i < ps.length && !hit; i++) hit = startsWith(p, unchecked(ps[i]));
      if (!hit) { r.counters.count(Decision.Allowed, List.None, -1); return FilterHeadersStatus.Continue; }
    }
    let host = r.normalizer.normalize(headers.getBytes(":authority"));
    let denyRule = r.deny.lookup(host);
    let allowRule = r.allow.lookup(host);
    let blocked: bool;
    let list = List.None;
    let rule = -1;
    if (r.denyMode) {
      // blocked by a deny rule, unless an allow rule makes an exception
      blocked = denyRule >= 0 && allowRule < 0;
      if (allowRule >= 0) { list = List.Allow; rule = allowRule; } else if (denyRule >= 0) { list = List.Deny; rule = denyRule; }
    } else {
      // blocked unless allowed, and a deny rule carves out of the allowed hosts
      blocked = allowRule < 0 || denyRule >= 0;
      if (denyRule >= 0) { list = List.Deny; rule = denyRule; } else if (allowRule >= 0) { list = List.Allow; rule = allowRule; }
    }
    if (!blocked) {
      r.counters.count(Decision.Allowed, list, rule);
      return FilterHeadersStatus.Continue;
    }
    let ruleName = rule < 0 ? "not-allowed" : unchecked(LIST_NAMES[list]) + "[" + formatInt(rule) + "]";
    if (r.dryRun) {
      r.counters.count(Decision.DryRun, list, rule);
      log.info("blocklist dry run: would block host \"" + host.toPrintable() + "\" (" + ruleName + ")");
      headers.add(r.dryRunHeader, ruleName);
      return FilterHeadersStatus.Continue;
    }
    r.counters.count(Decision.Blocked, list, rule);
    if (log.enabled(LogLevel.Debug)) log.debug("blocklist: blocked host \"" + host.toPrintable() + "\" (" + ruleName + ")");
    this.sendLocalResponse(r.status, "blocklist_denied", r.body, r.headers);
    return FilterHeadersStatus.StopIteration;
  }
}

registerRootContext((id: u32): RootContext => new BlocklistRoot(id));
