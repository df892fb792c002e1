// The Proxy-Wasm ABI 0.2.1 exports of a NETWORK (TCP) filter. A network filter re-exports them
// with ONE line (instead of ./exports or ./core):
//
//   export * from "as-proxy-wasm/assembly/tcp-exports";
//
// It exports the always-needed core (ABI marker, allocator, VM start, configure), tick, queue and
// http call delivery, its own context create / done / log / delete (which know TCP contexts and
// hand any other id to the HTTP versions), and the five TCP callbacks. A module that is both a
// network and an HTTP filter adds the HTTP callbacks it uses:
//
//   export * from "as-proxy-wasm/assembly/tcp-exports";
//   export { proxy_on_request_headers } from "as-proxy-wasm/assembly/exports";
//
// HTTP filters never import this file, so their size does not change.

export { proxy_abi_version_0_2_1, malloc, proxy_on_memory_allocate, proxy_on_configure } from "./core";
export { proxy_on_vm_start, proxy_on_tick, proxy_on_queue_ready, proxy_on_http_call_response } from "./exports";
import { proxy_on_context_create as httpContextCreate, proxy_on_delete as httpDelete } from "./core";
import { proxy_on_done as httpDone, proxy_on_log as httpLog } from "./exports";
import { findRoot, findTcp, addTcp, removeTcp } from "./dispatch";
import { PeerType } from "./tcp";
import { enterCallback, leaveCallback, leaveCallbackAndCollect, countStream } from "./gc";
import { invalidateLogLevel } from "./log";

// The owned memory mode (rt/owned.ts) frees HTTP stream contexts only. Network filters keep the
// collector.
if (ASC_RUNTIME == 0) ERROR("as-proxy-wasm: tcp-exports needs a collector (runtime \"minimal\"): the owned memory mode is for HTTP filters");

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  if (parentId != 0) {
    let root = findRoot(parentId);
    if (root !== null) {
      enterCallback();
      invalidateLogLevel();
      let t = root.createTcpContext(contextId);
      if (t !== null) addTcp(contextId, t);
      leaveCallback();
      if (t !== null) return;
    }
  }
  httpContextCreate(contextId, parentId);
}

export function proxy_on_new_connection(contextId: u32): u32 {
  enterCallback();
  let c = findTcp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onNewConnection();
  leaveCallback();
  return r;
}

export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findTcp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onDownstreamData(dataSize, endOfStream != 0);
  leaveCallbackAndCollect();
  return r;
}

export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  enterCallback();
  let c = findTcp(contextId);
  let r: u32 = c === null ? 0 : <u32>c.onUpstreamData(dataSize, endOfStream != 0);
  leaveCallbackAndCollect();
  return r;
}

export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  enterCallback();
  let c = findTcp(contextId);
  if (c !== null) c.onDownstreamConnectionClose(<PeerType>peerType);
  leaveCallback();
}

export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  enterCallback();
  let c = findTcp(contextId);
  if (c !== null) c.onUpstreamConnectionClose(<PeerType>peerType);
  leaveCallback();
}

export function proxy_on_done(contextId: u32): bool {
  let c = findTcp(contextId);
  if (c === null) return httpDone(contextId);
  enterCallback();
  c.onDone();
  leaveCallback();
  return true;
}

export function proxy_on_log(contextId: u32): void {
  let c = findTcp(contextId);
  if (c === null) {
    httpLog(contextId);
    return;
  }
  enterCallback();
  c.onLog();
  leaveCallback();
}

export function proxy_on_delete(contextId: u32): void {
  let c = findTcp(contextId);
  if (c === null) {
    httpDelete(contextId);
    return;
  }
  enterCallback();
  removeTcp(c);
  c.onDelete();
  countStream();
  leaveCallbackAndCollect();
}
