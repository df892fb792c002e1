// The Proxy-Wasm ABI 0.2.1 exports. A filter re-exports them all with ONE line:
//
//   export * from "as-proxy-wasm/assembly/exports";
//
// or, smaller, the core (./core) plus only the callbacks of the hooks it overrides:
//
//   export * from "as-proxy-wasm/assembly/core";
//   export { proxy_on_request_headers, proxy_on_response_headers } from "as-proxy-wasm/assembly/exports";
//
// Each export finds the context by id and calls its hook. Envoy semantics the
// dispatcher relies on: root contexts have parent 0; stream ids are never
// reused; HTTP order is ... onLog, onDone, onDelete; http call responses
// arrive on the root context id.

export * from "./core";
import { findRoot, findHttp, deliverHttpCallResponse, setUpRoot } from "./dispatch";
import { enterCallback, leaveCallback, leaveCallbackAndCollect, leaveCallbackAndCollectAll } from "./gc";
import { invalidateLogLevel } from "./log";

// proxy_on_vm_start and proxy_on_done are not in ./core: Envoy (and tools/proxy-wasm-host) treat
// them as absent = true, which is what the default onVmStart / onDone hooks return. A filter on
// ./core whose root overrides onVmStart or onDone picks them here.
export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  enterCallback();
  let ok = setUpRoot(rootId, vmConfigSize, true);
  leaveCallbackAndCollectAll();
  return ok;
}

export function proxy_on_done(contextId: u32): bool {
  enterCallback();
  let ok = true;
  let c = findHttp(contextId);
  if (c !== null) {
    c.onDone();
  } else {
    let r = findRoot(contextId);
    if (r !== null) ok = r.onDone();
  }
  leaveCallback();
  return ok;
}

export function proxy_on_tick(rootId: u32): void {
  enterCallback();
  invalidateLogLevel();
  let r = findRoot(rootId);
  if (r !== null) r.onTick();
  leaveCallbackAndCollect();
}

export function proxy_on_queue_ready(rootId: u32, queueId: u32): void {
  enterCallback();
  let r = findRoot(rootId);
  if (r !== null) r.onQueueReady(queueId);
  leaveCallbackAndCollect();
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onRequestHeaders(numHeaders, endOfStream != 0);
  leaveCallback();
  return r;
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onRequestBody(bodySize, endOfStream != 0);
  leaveCallbackAndCollect();
  return r;
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onRequestTrailers(numTrailers);
  leaveCallback();
  return r;
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onResponseHeaders(numHeaders, endOfStream != 0);
  leaveCallback();
  return r;
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onResponseBody(bodySize, endOfStream != 0);
  leaveCallbackAndCollect();
  return r;
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): u32 {
  enterCallback();
  let c = findHttp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onResponseTrailers(numTrailers);
  leaveCallback();
  return r;
}

export function proxy_on_http_call_response(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  enterCallback();
  invalidateLogLevel();
  deliverHttpCallResponse(rootId, token, numHeaders, bodySize, numTrailers);
  leaveCallbackAndCollect();
}

export function proxy_on_log(contextId: u32): void {
  enterCallback();
  let c = findHttp(contextId);
  if (c !== null) c.onLog();
  leaveCallback();
}
