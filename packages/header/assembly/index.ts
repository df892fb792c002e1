// header: set, add and remove request and response headers (course Lab 1).
//
// Config (schema.json): {"request": {"remove": [...], "set": [...], "add": [...]}, "response": {...}}
// Per direction the order is remove, then set, then add. Names are matched case-insensitively
// (stored lower-case, as Envoy stores them). Everything is encoded once at configure time, so a
// request costs no allocation.
export * from "as-proxy-wasm/assembly/exports";
import {
  Bytes, FilterHeadersStatus, HeaderMap, HttpContext, JsonValue, RootContext, registerRootContext,
} from "as-proxy-wasm";

const MAX_OPS: i32 = 64;
const MAX_NAME: i32 = 256;
const MAX_VALUE: i32 = 8192;

// RFC 9110 token characters as a 128-bit set (bit c of LO/HI for c < 64 / c >= 64).
const TOKEN_LO: u64 = 0x03ff6cfa00000000;
const TOKEN_HI: u64 = 0x57ffffffc7fffffe;

function isTokenChar(c: i32): bool {
  if (c >= 128) return false;
  return c < 64 ? ((TOKEN_LO >> <u64>c) & 1) != 0 : ((TOKEN_HI >> <u64>(c - 64)) & 1) != 0;
}

/**
 * Checks a header name from the config; records an error on `at` and returns false when it is
 * unusable. Pseudo-headers are refused, except `:path` and `:authority` in `request.set` (a
 * deliberate rewrite: Envoy re-evaluates the route when request headers change).
 */
function checkName(at: JsonValue, name: string, request: bool, op: string): bool {
  let n = name.length;
  if (n == 0 || n > MAX_NAME) {
    at.fail("header name must have 1..256 characters");
    return false;
  }
  let start = 0;
  if (name.charCodeAt(0) == 0x3a) {
    if (!(request && op == "set" && (sameAscii(name, ":path") || sameAscii(name, ":authority")))) {
      at.fail("pseudo-header " + name + " refused (only :path and :authority, in request.set)");
      return false;
    }
    start = 1;
  }
  for (let i = start; i < n; i++) {
    if (!isTokenChar(name.charCodeAt(i))) {
      at.fail("invalid header name " + name);
      return false;
    }
  }
  return true;
}

/** ASCII case-insensitive equality (no Unicode tables: they would triple the module size). */
function sameAscii(a: string, b: string): bool {
  if (a.length != b.length) return false;
  for (let i = 0, n = a.length; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x != y) return false;
  }
  return true;
}

function checkValue(at: JsonValue, value: string): bool {
  if (value.length > MAX_VALUE) {
    at.fail("header value longer than 8192 characters");
    return false;
  }
  for (let i = 0, n = value.length; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) {
      at.fail("header value contains CR, LF or NUL");
      return false;
    }
  }
  return true;
}

/** The pre-encoded mutations of one direction. */
class Mutations {
  removes: Bytes[] = [];
  setNames: Bytes[] = [];
  setValues: Bytes[] = [];
  addNames: Bytes[] = [];
  addValues: Bytes[] = [];

  get empty(): bool {
    return this.removes.length + this.setNames.length + this.addNames.length == 0;
  }

  apply(map: HeaderMap): void {
    // A status other than Ok (the map is gone, or the host refuses a value) is not fatal: the
    // remaining edits still apply; Envoy logs nothing either. Never trap on it.
    let r = this.removes;
    for (let i = 0, n = r.length; i < n; i++) map.remove(unchecked(r[i]));
    let sn = this.setNames, sv = this.setValues;
    for (let i = 0, n = sn.length; i < n; i++) map.set(unchecked(sn[i]), unchecked(sv[i]));
    let an = this.addNames, av = this.addValues;
    for (let i = 0, n = an.length; i < n; i++) map.add(unchecked(an[i]), unchecked(av[i]));
  }
}

function readPairs(dir: JsonValue, key: string, request: bool, names: Bytes[], values: Bytes[]): void {
  let items = dir.optArr(key);
  if (items.length > MAX_OPS) dir.fail(key + ": more than 64 entries");
  for (let i = 0; i < items.length; i++) {
    let item = unchecked(items[i]);
    let name = item.str("name");
    let value = item.str("value");
    if (item.hasError()) return;
    let nameAt = item.get("name")!;
    if (!checkName(nameAt, name, request, key) || !checkValue(item.get("value")!, value)) return;
    names.push(Bytes.lower(name));
    values.push(Bytes.of(value));
  }
}

function readMutations(cfg: JsonValue, key: string): Mutations {
  let m = new Mutations();
  let dir = cfg.optObj(key);
  if (dir === null) return m;
  let request = key == "request";
  let removes = dir.optArr("remove");
  if (removes.length > MAX_OPS) dir.fail("remove: more than 64 entries");
  for (let i = 0; i < removes.length && !dir.hasError(); i++) {
    let at = unchecked(removes[i]);
    let name = at.asString();
    if (at.hasError() || !checkName(at, name, request, "remove")) break;
    m.removes.push(Bytes.lower(name));
  }
  if (!dir.hasError()) readPairs(dir, "set", request, m.setNames, m.setValues);
  if (!dir.hasError()) readPairs(dir, "add", request, m.addNames, m.addValues);
  return m;
}

class HeaderRoot extends RootContext {
  request: Mutations = new Mutations();
  response: Mutations = new Mutations();

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    let request = readMutations(cfg, "request");
    let response = readMutations(cfg, "response");
    if (!this.configOk(cfg)) return false;
    this.request = request;
    this.response = response;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new HeaderFilter(contextId, this);
  }
}

class HeaderFilter extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let m = (this.root as HeaderRoot).request;
    if (!m.empty) m.apply(this.requestHeaders);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let m = (this.root as HeaderRoot).response;
    if (!m.empty) m.apply(this.responseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new HeaderRoot(id));
