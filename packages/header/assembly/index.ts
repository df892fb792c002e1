// header: set, add and remove request and response headers (course Lab 1).
//
// Config (schema.json): {"request": {"remove": [...], "set": [...], "add": [...]}, "response": {...}}
// Per direction the order is remove, then set, then add. Names are matched case-insensitively
// (stored lower-case, as Envoy stores them). Everything is encoded once at configure time, so a
// request costs no allocation.
// Only the callbacks this filter overrides (Envoy: a missing callback = Continue).
export * from "as-proxy-wasm/assembly/core";
export { proxy_on_request_headers, proxy_on_response_headers } from "as-proxy-wasm/assembly/exports";
import {
  Bytes, FilterHeadersStatus, HeaderMap, HttpContext, JsonValue, RootContext, registerRootContext,
} from "as-proxy-wasm";

const MAX_OPS: i32 = 64;
const MAX_NAME: i32 = 256;
const MAX_VALUE: i32 = 8192;

// RFC 9110 token characters as a 128-bit set (bit c of LO/HI for c < 64 / c >= 64).
const TOKEN_LO: u64 = 0x03ff6cfa00000000;
const TOKEN_HI: u64 = 0x57ffffffc7fffffe;

// Operations, in the order they apply.
const REMOVE = 0;
const SET = 1;
const ADD = 2;

/** One pre-encoded edit (`value` is unused for REMOVE). */
class Op {
  constructor(public kind: i32, public name: Bytes, public value: Bytes) {}
}

/**
 * The lower-cased bytes of the header name at `at`, or null after recording why it is unusable.
 * Pseudo-headers are refused, except `:path` and `:authority` in `request.set` (a deliberate
 * rewrite: Envoy re-evaluates the route when request headers change).
 */
function headerName(at: JsonValue, request: bool, kind: i32): Bytes | null {
  let name = at.asString();
  if (at.hasError()) return null;
  let n = name.length;
  if (n == 0 || n > MAX_NAME) {
    at.fail("header name must have 1..256 characters");
    return null;
  }
  let lower = Bytes.lower(name);
  let i = 0;
  if (name.charCodeAt(0) == 0x3a) {
    let s = lower.toString();
    if (!request || kind != SET || (s != ":path" && s != ":authority")) {
      at.fail("pseudo-header " + name + " refused (only :path and :authority, in request.set)");
      return null;
    }
    i = 1;
  }
  for (; i < n; i++) {
    let c = <u64>name.charCodeAt(i);
    let bits = c < 64 ? TOKEN_LO >> c : TOKEN_HI >> (c - 64);
    if (c >= 128 || (bits & 1) == 0) {
      at.fail("invalid header name " + name);
      return null;
    }
  }
  return lower;
}

/** The bytes of the header value at `at`, or null after recording why it is unusable. */
function headerValue(at: JsonValue): Bytes | null {
  let value = at.asString();
  if (at.hasError()) return null;
  if (value.length > MAX_VALUE) {
    at.fail("header value longer than 8192 characters");
    return null;
  }
  for (let i = 0, n = value.length; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) {
      at.fail("header value contains CR, LF or NUL");
      return null;
    }
  }
  return Bytes.of(value);
}

/** The edits of one direction (`request` / `response`) in apply order; stops at the first error. */
function readDirection(cfg: JsonValue, key: string): Op[] {
  let ops = new Array<Op>();
  let dir = cfg.optObj(key);
  if (dir === null) return ops;
  let request = key == "request";
  for (let kind = REMOVE; kind <= ADD; kind++) {
    let op = kind == REMOVE ? "remove" : kind == SET ? "set" : "add";
    let items = dir.optArr(op);
    if (items.length > MAX_OPS) dir.fail(op + ": more than 64 entries");
    for (let i = 0; i < items.length; i++) {
      if (dir.hasError()) return ops;
      let item = unchecked(items[i]);
      let name: Bytes | null;
      let value: Bytes | null = null;
      if (kind == REMOVE) {
        name = headerName(item, request, kind);
        value = name;
      } else {
        item.str("name");
        item.str("value");
        if (item.hasError()) return ops;
        name = headerName(changetype<JsonValue>(item.get("name")), request, kind); // read just above
        if (name !== null) value = headerValue(changetype<JsonValue>(item.get("value")));
      }
      if (value === null) return ops;
      ops.push(new Op(kind, changetype<Bytes>(name), value)); // value non-null => name non-null
    }
  }
  return ops;
}

function apply(ops: Op[], map: HeaderMap): void {
  // A status other than Ok (the map is gone, or the host refuses a value) is not fatal: the
  // remaining edits still apply; Envoy logs nothing either. Never trap on it.
  for (let i = 0, n = ops.length; i < n; i++) {
    let op = unchecked(ops[i]);
    if (op.kind == REMOVE) map.remove(op.name);
    else if (op.kind == SET) map.set(op.name, op.value);
    else map.add(op.name, op.value);
  }
}

class HeaderRoot extends RootContext {
  request: Op[] = [];
  response: Op[] = [];

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    let request = readDirection(cfg, "request");
    let response = readDirection(cfg, "response");
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
    apply(changetype<HeaderRoot>(this.root).request, this.requestHeaders); // the root of a HeaderFilter
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    apply(changetype<HeaderRoot>(this.root).response, this.responseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new HeaderRoot(id));
