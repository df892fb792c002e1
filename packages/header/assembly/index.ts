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
  FilterHeadersStatus, HttpContext, JsonValue, MapType, RootContext, registerRootContext,
} from "as-proxy-wasm";
import { argLen, asciiLowerInPlace, decodeUtf8, encodeScratch } from "as-proxy-wasm/assembly/mem";
import {
  proxy_add_header_map_value, proxy_remove_header_map_value, proxy_replace_header_map_value,
} from "as-proxy-wasm/assembly/imports";

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

// Fixed texts (keys and messages) as UTF-8 data, decoded when used: a string literal costs about
// 25 bytes plus 2 per character, a text here 1 byte per character. Ids: (offset << 8) | length.
// @ts-ignore: decorator
@lazy const TEXT: usize = memory.data<u8>([
  0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0x20, 0x6e, 0x61, 0x6d, 0x65, 0x20, 0x6d, 0x75, 0x73, 0x74, 0x20, 0x68, 0x61, 0x76, 0x65, 0x20, 0x31, 0x2e,
  0x2e, 0x32, 0x35, 0x36, 0x20, 0x63, 0x68, 0x61, 0x72, 0x61, 0x63, 0x74, 0x65, 0x72, 0x73, 0x70, 0x73, 0x65, 0x75, 0x64, 0x6f, 0x2d, 0x68, 0x65,
  0x61, 0x64, 0x65, 0x72, 0x20, 0x20, 0x72, 0x65, 0x66, 0x75, 0x73, 0x65, 0x64, 0x20, 0x28, 0x6f, 0x6e, 0x6c, 0x79, 0x20, 0x3a, 0x70, 0x61, 0x74,
  0x68, 0x20, 0x61, 0x6e, 0x64, 0x20, 0x3a, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x74, 0x79, 0x2c, 0x20, 0x69, 0x6e, 0x20, 0x72, 0x65, 0x71,
  0x75, 0x65, 0x73, 0x74, 0x2e, 0x73, 0x65, 0x74, 0x29, 0x69, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x20, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0x20,
  0x6e, 0x61, 0x6d, 0x65, 0x20, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72, 0x20, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x20, 0x6c, 0x6f, 0x6e, 0x67, 0x65, 0x72,
  0x20, 0x74, 0x68, 0x61, 0x6e, 0x20, 0x38, 0x31, 0x39, 0x32, 0x20, 0x63, 0x68, 0x61, 0x72, 0x61, 0x63, 0x74, 0x65, 0x72, 0x73, 0x68, 0x65, 0x61,
  0x64, 0x65, 0x72, 0x20, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x20, 0x63, 0x6f, 0x6e, 0x74, 0x61, 0x69, 0x6e, 0x73, 0x20, 0x43, 0x52, 0x2c, 0x20, 0x4c,
  0x46, 0x20, 0x6f, 0x72, 0x20, 0x4e, 0x55, 0x4c, 0x3a, 0x20, 0x6d, 0x6f, 0x72, 0x65, 0x20, 0x74, 0x68, 0x61, 0x6e, 0x20, 0x36, 0x34, 0x20, 0x65,
  0x6e, 0x74, 0x72, 0x69, 0x65, 0x73, 0x3a, 0x70, 0x61, 0x74, 0x68, 0x3a, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x74, 0x79, 0x72, 0x65, 0x71,
  0x75, 0x65, 0x73, 0x74, 0x72, 0x65, 0x73, 0x70, 0x6f, 0x6e, 0x73, 0x65, 0x72, 0x65, 0x6d, 0x6f, 0x76, 0x65, 0x73, 0x65, 0x74, 0x61, 0x64, 0x64,
  0x6e, 0x61, 0x6d, 0x65, 0x76, 0x61, 0x6c, 0x75, 0x65,
]);
/** header name must have 1..256 characters */
// @ts-ignore: decorator
@inline const NAME_LEN: i32 = 39;
/** pseudo-header  */
// @ts-ignore: decorator
@inline const PSEUDO: i32 = 9998;
/**  refused (only :path and :authority, in request.set) */
// @ts-ignore: decorator
@inline const REFUSED: i32 = 13620;
/** invalid header name  */
// @ts-ignore: decorator
@inline const INVALID: i32 = 26900;
/** header value longer than 8192 characters */
// @ts-ignore: decorator
@inline const VALUE_LEN: i32 = 32040;
/** header value contains CR, LF or NUL */
// @ts-ignore: decorator
@inline const VALUE_CHARS: i32 = 42275;
/** : more than 64 entries */
// @ts-ignore: decorator
@inline const TOO_MANY: i32 = 51222;
/** :path */
// @ts-ignore: decorator
@inline const PATH: i32 = 56837;
/** :authority */
// @ts-ignore: decorator
@inline const AUTHORITY: i32 = 58122;
/** request */
// @ts-ignore: decorator
@inline const REQUEST: i32 = 60679;
/** response */
// @ts-ignore: decorator
@inline const RESPONSE: i32 = 62472;
/** remove */
// @ts-ignore: decorator
@inline const REMOVE_KEY: i32 = 64518;
/** set */
// @ts-ignore: decorator
@inline const SET_KEY: i32 = 66051;
/** add */
// @ts-ignore: decorator
@inline const ADD_KEY: i32 = 66819;
/** name */
// @ts-ignore: decorator
@inline const NAME: i32 = 67588;
/** value */
// @ts-ignore: decorator
@inline const VALUE: i32 = 68613;

/** The text `id` as a string. */
function t(id: i32): string {
  return decodeUtf8(TEXT + <usize>(id >>> 8), <usize>(id & 255));
}

// The edits of one direction, pre-encoded in apply order into one buffer of records:
//   u32 kind | u32 name length | u32 value length | name (lower-case) | value
// (no value for REMOVE), so a request walks bytes and calls the host, allocating nothing.
/** The buffer being written (a managed ArrayBuffer, grown by doubling) and its used bytes. */
let out: usize = 0;
let used: usize = 0;
// @ts-ignore: decorator
@lazy const REC: usize = memory.data(12);

function append(p: usize, n: usize): void {
  let cap = <usize>changetype<ArrayBuffer>(out).byteLength;
  if (used + n > cap) out = changetype<usize>(__renew(out, max(cap << 1, used + n)));
  memory.copy(out + used, p, n);
  used += n;
}

/**
 * Checks the header name at `at` (recording why it is unusable); returns its UTF-8 bytes lower-cased
 * in scratch slot 0 (length in argLen), or 0. Pseudo-headers are refused, except `:path` and
 * `:authority` in `request.set` (a deliberate rewrite: Envoy re-evaluates the route when request
 * headers change).
 */
function headerName(at: JsonValue, request: bool, kind: i32): usize {
  let name = at.asString();
  if (at.hasError()) return 0;
  let n = name.length;
  if (n == 0 || n > MAX_NAME) {
    at.fail(t(NAME_LEN));
    return 0;
  }
  let p = encodeScratch(name, 0); // argLen: its length (nothing below encodes)
  asciiLowerInPlace(p, argLen);
  let i = 0;
  if (name.charCodeAt(0) == 0x3a) {
    let s = decodeUtf8(p, argLen);
    if (!request || kind != SET || (s != t(PATH) && s != t(AUTHORITY))) {
      at.fail(t(PSEUDO) + name + t(REFUSED));
      return 0;
    }
    i = 1;
  }
  for (; i < n; i++) {
    let c = <u64>name.charCodeAt(i);
    let bits = c < 64 ? TOKEN_LO >> c : TOKEN_HI >> (c - 64);
    if (c >= 128 || (bits & 1) == 0) {
      at.fail(t(INVALID) + name);
      return 0;
    }
  }
  return p;
}

/** Checks the header value at `at` (recording why it is unusable); true when usable. */
function headerValue(at: JsonValue): bool {
  let value = at.asString();
  if (at.hasError()) return false;
  if (value.length > MAX_VALUE) {
    at.fail(t(VALUE_LEN));
    return false;
  }
  for (let i = 0, n = value.length; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) {
      at.fail(t(VALUE_CHARS));
      return false;
    }
  }
  return true;
}

/** The edits of one direction (`request` / `response`) as records; stops at the first error. */
function readDirection(cfg: JsonValue, request: bool): ArrayBuffer {
  out = changetype<usize>(new ArrayBuffer(64));
  used = 0;
  let dir = cfg.optObj(t(request ? REQUEST : RESPONSE));
  if (dir !== null) {
    let nameKey = t(NAME), valueKey = t(VALUE);
    for (let kind = REMOVE; kind <= ADD; kind++) {
      let op = t(kind == REMOVE ? REMOVE_KEY : kind == SET ? SET_KEY : ADD_KEY);
      let items = dir.optArrValue(op);
      if (items === null) continue; // absent, or an error recorded
      if (items.length > MAX_OPS) dir.fail(op + t(TOO_MANY));
      let next = items.first;
      while (next !== null) {
        let item = next;
        next = item.next;
        if (dir.hasError()) break;
        let value: JsonValue | null = null;
        if (kind != REMOVE) {
          item.str(nameKey);
          item.str(valueKey);
          if (item.hasError()) break;
          value = item.get(valueKey);
          item = changetype<JsonValue>(item.get(nameKey)); // read just above
        }
        let np = headerName(item, request, kind);
        if (np == 0) break;
        let nl = argLen;
        let vp: usize = 0, vl: usize = 0;
        if (value !== null) {
          if (!headerValue(value)) break;
          vp = encodeScratch(value.strValue, 1); // a string: read just above
          vl = argLen;
        }
        store<u32>(REC, kind);
        store<u32>(REC, <u32>nl, 4);
        store<u32>(REC, <u32>vl, 8);
        append(REC, 12);
        append(np, nl);
        append(vp, vl);
      }
    }
  }
  return changetype<ArrayBuffer>(__renew(out, used));
}

/** Applies the records of `ops` to header map `map`. */
function apply(ops: ArrayBuffer, map: i32): void {
  // A status other than Ok (the map is gone, or the host refuses a value) is not fatal: the
  // remaining edits still apply; Envoy logs nothing either. Never trap on it.
  let p = changetype<usize>(ops);
  let end = p + <usize>ops.byteLength;
  while (p < end) {
    let kind = load<u32>(p);
    let nl = <usize>load<u32>(p, 4), vl = <usize>load<u32>(p, 8);
    let name = p + 12, value = name + nl;
    if (kind == REMOVE) proxy_remove_header_map_value(map, name, nl);
    else if (kind == SET) proxy_replace_header_map_value(map, name, nl, value, vl);
    else proxy_add_header_map_value(map, name, nl, value, vl);
    p = value + vl;
  }
}

class HeaderRoot extends RootContext {
  request: ArrayBuffer = new ArrayBuffer(0);
  response: ArrayBuffer = new ArrayBuffer(0);

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    let request = readDirection(cfg, true);
    let response = readDirection(cfg, false);
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
    apply(changetype<HeaderRoot>(this.root).request, MapType.HttpRequestHeaders); // the root of a HeaderFilter
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    apply(changetype<HeaderRoot>(this.root).response, MapType.HttpResponseHeaders);
    return FilterHeadersStatus.Continue;
  }
}

registerRootContext((id: u32): RootContext => new HeaderRoot(id));
