// When the collector runs. Allocation model (runtime "minimal" = TLSF + two-colour mark & sweep,
// no shadow stack): buffers the host allocates through `malloc` are *managed* ArrayBuffers, so the
// SDK hands them to the filter without copying and the collector frees them once unreachable. It
// only runs when the SDK calls `__collect()` at the end of a callback (nothing of ours is on the
// wasm stack there).

// In the owned memory mode (a filter's asconfig.json: runtime "stub", ASC_RUNTIME == 0) there is no collector:
// every function below compiles to nothing (rt/owned.ts says who frees what).
/** Bytes allocated (by the host through malloc, the SDK and the filter) since the last collection (alloc.ts). */
let gcDebt: usize = 0;
/** Streams finished since the last collection. */
let gcStreams: u32 = 0;
let gcDebtLimit: usize = 64 * 1024;
let gcStreamLimit: u32 = 32;
/** 0 while no SDK callback runs; collections happen only when leaving the outermost one. */
let callDepth: i32 = 0;

// @ts-ignore: decorator
@inline export function enterCallback(): void {
  if (ASC_RUNTIME != 0) callDepth++;
}
// @ts-ignore: decorator
@inline export function leaveCallback(): void {
  if (ASC_RUNTIME != 0) callDepth--;
}
/** Leaves a callback and collects if it was the outermost one and the policy says so. */
// @ts-ignore: decorator
@inline export function leaveCallbackAndCollect(): void {
  if (ASC_RUNTIME != 0) {
    if (--callDepth == 0) {
      if (gcDebt >= gcDebtLimit || gcStreams >= gcStreamLimit) collectNow();
    }
  }
}
/** Leaves a configuration callback: always collects (parsing garbage). */
export function leaveCallbackAndCollectAll(): void {
  if (ASC_RUNTIME != 0) {
    if (--callDepth == 0) collectNow();
  }
}
// @ts-ignore: decorator
@inline export function countStream(): void {
  if (ASC_RUNTIME != 0) gcStreams++;
}

/**
 * Tunes when the SDK runs the collector: after `debtBytes` of allocations
 * (host, SDK and filter) or after `streams` finished streams, whichever comes first.
 */
export function setGcPolicy(debtBytes: usize, streams: u32): void {
  gcDebtLimit = debtBytes;
  gcStreamLimit = streams;
}

// @ts-ignore: decorator
@inline export function addGcDebt(n: usize): void {
  if (ASC_RUNTIME != 0) gcDebt += n;
}

export function collectNow(): void {
  if (ASC_RUNTIME != 0) {
    gcDebt = 0;
    gcStreams = 0;
    __collect();
  }
}

