// The always-needed part of the Proxy-Wasm ABI 0.2.1 exports: the ABI marker, the allocator,
// context creation, configuration and delete. A filter that wants only some callbacks exports
// this module and picks the callbacks of the hooks it overrides:
//
//   export * from "as-proxy-wasm/assembly/core";
//   export { proxy_on_request_headers, proxy_on_response_headers } from "as-proxy-wasm/assembly/exports";
//
// Envoy treats every other proxy_on_* callback as absent = Continue / nothing to do / true
// (proxy_on_vm_start and proxy_on_done included: a root overriding onVmStart or onDone picks
// them from ./exports), which is what the SDK's default hooks do. A hook whose callback is not
// exported is never called.
//
// In the owned memory mode (ASC_RUNTIME == 0, rt/owned.ts) a root context's creation and
// configuration allocate in its arena, freed when the host deletes it, and a deleted stream
// context object is freed; with the collector (the default) these branches compile to nothing.

import { createRoot, findRoot, removeRoot, findHttp, addHttp, removeHttp, setUpRoot } from "./dispatch";
import { enterCallback, leaveCallback, leaveCallbackAndCollect, leaveCallbackAndCollectAll, countStream } from "./gc";
import { hostAlloc } from "./host-memory";
import { invalidateLogLevel } from "./log";
import { arenaOpen, arenaClose, arenaFree, ownedFree } from "./rt/owned";
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
    if (ASC_RUNTIME == 0) arenaOpen(contextId);
    createRoot(contextId);
    if (ASC_RUNTIME == 0) arenaClose();
  } else {
    let root = findRoot(parentId);
    addHttp(contextId, root === null ? null : root.createHttpContext(contextId));
  }
  leaveCallback();
}

export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  enterCallback();
  invalidateLogLevel();
  let ok = setUpRoot(rootId, configSize, false);
  leaveCallbackAndCollectAll();
  return ok;
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  let c = findHttp(contextId);
  if (c !== null) {
    removeHttp(c);
    c.onDelete();
    if (ASC_RUNTIME == 0) ownedFree(changetype<usize>(c));
    countStream();
  } else {
    let r = findRoot(contextId);
    if (r !== null) {
      removeRoot(r);
      r.onDelete();
      if (ASC_RUNTIME == 0) arenaFree(contextId);
    }
  }
  leaveCallbackAndCollect();
}
