// The "owned" memory mode (opted into in a filter's asconfig.json, see the SDK README): no collector. The module is compiled with
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
// An object's arena bookkeeping lives in the two header words the stub runtime leaves unused
// (gcInfo = next arena object, gcInfo2 = the owning root's id; 0 for an object of no arena), so
// arena objects cost nothing more. All arenas share one list, newest first: a root's deletion
// walks it once (roots are created and deleted rarely). An arena object that `__renew` moves is
// copied to a new block of the same arena; the old block stays in the list until the arena is
// freed (growth doubles, so this costs at most the final size).

import { heapAlloc, heapRealloc, heapFree } from "../alloc";

/** The arena objects of every root context, newest first (linked through gcInfo). */
let arenaObjects: usize = 0;
/** The root whose arena new objects join, or 0 (heap objects nobody frees). */
let current: u32 = 0;

/** Puts block `p` (a managed object's header) in root `owner`'s arena, or in none when 0. */
function adopt(p: usize, owner: u32): void {
  store<u32>(p, owner, 4);
  if (owner != 0) {
    store<usize>(p, arenaObjects);
    arenaObjects = p;
  }
}

/** `__new`: a managed object (16-byte header: next, owner, rtId, rtSize), in the current arena if one is open. */
export function ownedNew(size: usize, id: u32): usize {
  // an impossible size stays impossible after the header is added: heapAlloc reports out of memory
  let p = heapAlloc(min<usize>(size, 1 << 30) + 16);
  store<u32>(p, id, 8);
  store<u32>(p, <u32>size, 12);
  adopt(p, current);
  return p + 16;
}

/** `__renew`: resizes an object; an arena object that must move is copied into a new block of its arena. */
export function ownedRenew(obj: usize, size: usize): usize {
  let p = obj - 16;
  let owner = load<u32>(p, 4);
  let need = min<usize>(size, 1 << 30) + 16;
  if (owner == 0) {
    p = heapRealloc(p, need);
  } else if (need > <usize>load<u32>(p - 4)) { // the heap's block header: the payload capacity
    let n = heapAlloc(need);
    memory.copy(n, p, <usize>load<u32>(p - 4));
    adopt(n, owner);
    p = n;
  }
  store<u32>(p, <u32>size, 12);
  return p + 16;
}

/** Frees a heap object that belongs to no arena (a stream context); an arena object is left to its arena. */
export function ownedFree(obj: usize): void {
  if (load<u32>(obj - 16, 4) == 0) heapFree(obj - 16);
}

/** Objects allocated from now until arenaClose belong to root `id`. */
// @ts-ignore: decorator
@inline export function arenaOpen(id: u32): void {
  current = id;
}

// @ts-ignore: decorator
@inline export function arenaClose(): void {
  current = 0;
}

/** Frees every object of root `id`'s arena (nothing when it has none). */
export function arenaFree(id: u32): void {
  let prev: usize = 0;
  let p = arenaObjects;
  while (p != 0) {
    let next = load<usize>(p);
    if (load<u32>(p, 4) == id) {
      if (prev == 0) arenaObjects = next;
      else store<usize>(prev, next);
      heapFree(p);
    } else {
      prev = p;
    }
    p = next;
  }
}
