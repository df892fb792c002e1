// The "owned" memory mode (asconfig.owned.json): no collector at all. The module is compiled with
// asc's `runtime: "stub"` (no write barriers, no visitors, no shadow stack) and the config routes
// the runtime's `__new` and `__renew` here (stub.ts's own versions would call its bump allocator
// directly), `__alloc` / `__realloc` / `__free` to the SDK heap (../alloc.ts).
//
// Who frees what (the contract of the mode, SDK README "Runtime choice"):
//   - a root context's arena: every managed object allocated while the SDK creates a root context
//     and runs its onVmStart and onConfigure (host buffers, the JSON tree, the configured state)
//     is linked into that root's arena and freed in one go when the host deletes the root;
//   - a stream context object is freed when the host deletes the stream (core.ts);
//   - anything else (allocations in stream callbacks, ticks, http call responses) is never freed.
//
// An object's arena links live in the two header words the stub runtime leaves unused (gcInfo,
// gcInfo2 = next, prev): 0 for an object outside every arena, so arena objects cost nothing more.
// Each arena is a circular list around a sentinel in a small raw record (one per root context).

import { heapAlloc, heapRealloc, heapFree } from "../alloc";

// Arena record (raw heap block): root id, sentinel {next, prev}, next record.
// @ts-ignore: decorator
@inline const R_ID: usize = 0;
// @ts-ignore: decorator
@inline const R_SENTINEL: usize = 4;
// @ts-ignore: decorator
@inline const R_NEXT: usize = 12;

/** The arena records, one per root context that allocated something. */
let records: usize = 0;
/** Sentinel of the arena new objects join, or 0 (heap objects nobody frees). */
let current: usize = 0;

/** `__new`: a managed object (16-byte header: next, prev, rtId, rtSize), in the current arena if one is open. */
export function ownedNew(size: usize, id: u32): usize {
  // an impossible size stays impossible after the header is added: heapAlloc reports out of memory
  let p = heapAlloc(min<usize>(size, 1 << 30) + 16);
  store<u32>(p, id, 8);
  store<u32>(p, <u32>size, 12);
  let s = current;
  if (s != 0) {
    let n = load<usize>(s);
    store<usize>(p, n);
    store<usize>(p, s, 4);
    store<usize>(n, p, 4);
    store<usize>(s, p);
  } else {
    store<u64>(p, 0);
  }
  return p + 16;
}

/** `__renew`: resizes an object; a moved arena object takes its place in its arena's list. */
export function ownedRenew(obj: usize, size: usize): usize {
  let p = heapRealloc(obj - 16, min<usize>(size, 1 << 30) + 16);
  store<u32>(p, <u32>size, 12);
  let n = load<usize>(p);
  if (p != obj - 16 && n != 0) {
    store<usize>(n, p, 4);
    store<usize>(load<usize>(p, 4), p);
  }
  return p + 16;
}

/** Frees a heap object that belongs to no arena (a stream context); an arena object is left to its arena. */
export function ownedFree(obj: usize): void {
  if (obj != 0 && load<usize>(obj - 16) == 0) heapFree(obj - 16);
}

/** The record of root `id`, or 0; `prevOf` is set to the record before it (0 for the first). */
let prevOf: usize = 0;
function findRecord(id: u32): usize {
  prevOf = 0;
  let r = records;
  while (r != 0 && load<u32>(r + R_ID) != id) {
    prevOf = r;
    r = load<usize>(r + R_NEXT);
  }
  return r;
}

/** Objects allocated from now until arenaClose belong to root `id` (the record is made on first use). */
export function arenaOpen(id: u32): void {
  let r = findRecord(id);
  if (r == 0) {
    r = heapAlloc(16);
    store<u32>(r + R_ID, id);
    store<usize>(r + R_SENTINEL, r + R_SENTINEL);
    store<usize>(r + R_SENTINEL + 4, r + R_SENTINEL);
    store<usize>(r + R_NEXT, records);
    records = r;
  }
  current = r + R_SENTINEL;
}

export function arenaClose(): void {
  current = 0;
}

/** Frees every object of root `id`'s arena and its record (nothing when it has none). */
export function arenaFree(id: u32): void {
  let r = findRecord(id);
  if (r == 0) return;
  let s = r + R_SENTINEL;
  let p = load<usize>(s);
  while (p != s) {
    let next = load<usize>(p);
    heapFree(p);
    p = next;
  }
  let after = load<usize>(r + R_NEXT);
  if (prevOf == 0) records = after;
  else store<usize>(prevOf + R_NEXT, after);
  heapFree(r);
}
