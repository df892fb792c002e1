// The Proxy-Wasm ABI 0.2.1 exports. A filter re-exports them with ONE line:
//
//   export * from "as-proxy-wasm/assembly/exports";
//
// Each export finds the context by id and calls its hook. Envoy semantics the
// dispatcher relies on: root contexts have parent 0; stream ids are never
// reused; HTTP order is ... onLog, onDone, onDelete; http call responses
// arrive on the root context id.

import {
  createRoot, findRoot, removeRoot, findHttp, addHttp, hasHttp, removeHttp, deliverHttpCallResponse,
} from "./context";
import { hostAlloc, enterCallback, leaveCallback, leaveCallbackAndCollect, leaveCallbackAndCollectAll, countStream } from "./mem";
import { invalidateLogLevel } from "./log";
import "./alloc"; // the heap behind the runtime (asconfig.base.json `use` aliases)

/** ABI marker (never called). */
export function proxy_abi_version_0_2_1(): void {}

/** Host allocator (Envoy looks up `malloc` first, the spec prefers proxy_on_memory_allocate). */
export function malloc(size: usize): usize {
  return hostAlloc(size);
}
export function proxy_on_memory_allocate(size: usize): usize {
  return hostAlloc(size);
}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  enterCallback();
  invalidateLogLevel();
  if (parentId == 0) {
    createRoot(contextId);
  } else {
    let root = findRoot(parentId);
    addHttp(contextId, root === null ? null : root.createHttpContext(contextId));
  }
  leaveCallback();
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  enterCallback();
  let r = findRoot(rootId);
  let ok = r === null ? false : r.onVmStart(vmConfigSize);
  leaveCallbackAndCollectAll();
  return ok;
}

export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  enterCallback();
  invalidateLogLevel();
  let r = findRoot(rootId);
  let ok = r === null ? false : r.onConfigure(configSize);
  leaveCallbackAndCollectAll();
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

export function proxy_on_done(contextId: u32): bool {
  enterCallback();
  let ok = true;
  let c = findHttp(contextId);
  if (c !== null) {
    c.onDone();
  } else if (!hasHttp(contextId)) {
    let r = findRoot(contextId);
    if (r !== null) ok = r.onDone();
  }
  leaveCallback();
  return ok;
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  if (hasHttp(contextId)) {
    let c = findHttp(contextId);
    removeHttp(contextId);
    if (c !== null) c.onDelete();
    countStream();
  } else {
    let r = findRoot(contextId);
    if (r !== null) {
      removeRoot(contextId);
      r.onDelete();
    }
  }
  leaveCallbackAndCollect();
}
