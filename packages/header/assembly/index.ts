// header: set, add and remove request and response headers (course Lab 1).
//
// Config (schema.json): {"request": {"remove": [...], "set": [...], "add": [...]}, "response": {...}}
// Per direction the order is remove, then set, then add. Names are matched case-insensitively
// (stored lower-case, as Envoy stores them). The edits are recorded once at configure time
// (HeaderEdits), so a request costs no allocation.
//
// Only the callbacks this filter overrides are exported (Envoy: a missing callback = Continue).
export * from "as-proxy-wasm/assembly/core";
export { proxy_on_request_headers, proxy_on_response_headers } from "as-proxy-wasm/assembly/exports";
import {
  FilterHeadersStatus, HeaderEdits, HttpContext, HttpStream, JsonValue, MapType, RootContext, bytesEqual,
  bytesStartWith, isHeaderName, isHeaderValue, registerRootContext,
} from "as-proxy-wasm";

const MAX_OPS = 64;
const MAX_NAME = 256;
const MAX_VALUE = 8192;

/** The refusal of a configuration with neither direction (`config: <this>`). */
const NO_EDITS = "missing \"request\" or \"response\" (an empty configuration changes nothing)";

// The operations of a direction, in the order they apply.
const REMOVE = 0;
const SET = 1;
const ADD = 2;

/**
 * Checks header name `name`, the UTF-8 bytes of the string at `at`. A bad name records the
 * reason at `at` (the first error of the document wins: a check finds nothing more to say after
 * an earlier one). Pseudo-headers are refused, except `:path` and `:authority` in `request.set`
 * (a deliberate rewrite: Envoy re-evaluates the route when request headers change).
 */
function checkName(at: JsonValue, name: ArrayBuffer, pseudoAllowed: bool): void {
  if (name.byteLength == 0 || at.strLength > MAX_NAME) {
    at.fail("header name must have 1..256 characters");
  } else if (bytesStartWith(name, ":")) {
    if (!pseudoAllowed || !(bytesEqual(name, ":path", true) || bytesEqual(name, ":authority", true))) {
      at.failWith("pseudo-header ", " refused (only :path and :authority, in request.set)");
    }
  } else if (!isHeaderName(name)) {
    at.failWith("invalid header name ");
  }
}

/** Checks header value `value`, the UTF-8 bytes of the string at `at`; a bad one records the reason at `at`. */
function checkValue(at: JsonValue, value: ArrayBuffer): void {
  if (at.strLength > MAX_VALUE) {
    at.fail("header value longer than 8192 characters");
  } else if (!isHeaderValue(value)) {
    at.fail("header value contains CR, LF or NUL");
  }
}

/**
 * The edits of one direction (`"request"` / `"response"`); stops at the first error (the edits
 * read until then do not matter: the configuration is refused).
 */
function readEdits(cfg: JsonValue, direction: string, request: bool): HeaderEdits {
  let edits = new HeaderEdits();
  let dir = cfg.optObj(direction);
  if (dir === null) return edits;

  for (let kind = REMOVE; kind <= ADD; kind++) {
    let op = kind == REMOVE ? "remove" : kind == SET ? "set" : "add";
    let items = dir.optArrValue(op);
    if (items === null) continue; // absent, or an error recorded
    if (items.length > MAX_OPS) dir.fail(op, ": more than 64 entries");
    let item = items.first;
    while (item !== null && !cfg.hasError()) {
      if (kind == REMOVE) { // a list of names
        let name = item.asBytes(); // not a string: an error, and empty bytes
        checkName(item, name, false);
        edits.remove(name);
      } else {
        // set / add: a list of {"name", "value"}; both are required strings
        let name = item.bytes("name");
        let value = item.bytes("value");
        if (item.hasError()) break;
        checkName(item.member("name"), name, request && kind == SET);
        checkValue(item.member("value"), value);
        if (kind == SET) edits.set(name, value);
        else edits.add(name, value);
      }
      item = item.next;
    }
  }
  return edits;
}

class HeaderRoot extends RootContext {
  request: HeaderEdits = new HeaderEdits();
  response: HeaderEdits = new HeaderEdits();

  onConfigure(configSize: u32): bool {
    // An empty or blank configuration (Istio: a WasmPlugin without pluginConfig) reads as {}, and
    // {} would change nothing: refused, naming the fields that are missing.
    let cfg = this.configJson();
    if (cfg === null) return false;
    if (cfg.length == 0) cfg.fail(NO_EDITS);
    let request = readEdits(cfg, "request", true);
    let response = readEdits(cfg, "response", false);
    if (!this.configOk(cfg)) return false;
    this.request = request;
    this.response = response;
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new HeaderFilter(contextId, this);
  }
}

class HeaderFilter extends HttpStream<HeaderRoot> {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    // A status other than Ok (the map is gone, or the host refuses a value) is not fatal: the
    // remaining edits still apply; Envoy logs nothing either.
    this.root.request.applyTo(MapType.HttpRequestHeaders);
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.root.response.applyTo(MapType.HttpResponseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new HeaderRoot(id));
