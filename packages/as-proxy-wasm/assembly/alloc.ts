// A small segregated-fit allocator that replaces TLSF under the "minimal"
// runtime's collector (TCMS). asconfig.base.json routes the runtime's
// `__alloc`, `__realloc` and `__free` here with `use` aliases, which drops
// TLSF (about 1.5 KB of code) from every filter. In the owned memory mode
// (runtime "stub", rt/owned.ts) it is the only heap: `__new` / `__renew` of
// rt/owned.ts allocate here and the SDK frees arenas and stream contexts.
//
// Layout: every block is a multiple of 16 bytes and starts 4 bytes before a
// 16-byte aligned payload; the 4-byte header (`mmInfo`, as in TLSF, read by
// TCMS for its statistics) holds the payload capacity (block size - 4).
// Freed blocks go to one LIFO list per size class; an allocation takes a
// block of its class or, when that list is empty, of one of the next four:
//   - blocks up to 1 KiB: 64 classes in 16-byte steps;
//   - larger blocks: 4 classes per power of two (at most 25% slack).
// A block freed at the top of the heap gives its space back to the bump
// pointer. There is no coalescing: the footprint of a steady workload is its
// peak per size class, which the SDK's flat-memory tests check.

import { proxy_log } from "./imports";
import { addGcDebt } from "./gc";

// @ts-ignore: decorator
@inline const SMALL_MAX: usize = 1024;
// @ts-ignore: decorator
@inline const CLASSES: usize = 64 + 21 * 4;
// @ts-ignore: decorator
@inline const MAX_BLOCK: usize = 1 << 30;

// @ts-ignore: decorator
@lazy const heads: usize = memory.data(<i32>(CLASSES << 2), 16);
/** Next free byte (a block start, 12 mod 16); 0 until the first allocation. */
let top: usize = 0;

/** Block size (>= 16, a class size) for a payload of `size` bytes; sets `cls`. */
let cls: usize = 0;
function classify(size: usize): usize {
  let t = (size + 19) & ~15;
  if (t <= SMALL_MAX) {
    cls = (t >> 4) - 1;
    return t;
  }
  let m = t - 1;
  let k = <usize>(31 - clz<u32>(<u32>m)); // 2^k <= m < 2^(k+1), k >= 10
  let sub = (m >> (k - 2)) & 3;
  cls = 64 + ((k - 10) << 2) + sub;
  return (5 + sub) << (k - 2);
}

/** "as-proxy-wasm: out of memory" (ASCII static data: nothing can be allocated when it is logged). */
// @ts-ignore: decorator
@lazy const OOM_TEXT: usize = memory.data<u8>([0x61, 0x73, 0x2d, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x2d, 0x77, 0x61, 0x73, 0x6d, 0x3a, 0x20, 0x6f, 0x75, 0x74, 0x20, 0x6f, 0x66, 0x20, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79]);

function outOfMemory(): void {
  proxy_log(5, OOM_TEXT, 28); // LogLevel.Critical
  unreachable();
}

/** Grows the heap so that [.., end) is addressable. */
function reserve(start: usize, size: usize): void {
  let end = <u64>start + <u64>size;
  let have = <u64>memory.size() << 16;
  if (end > have) {
    if (memory.grow(<i32>((end - have + 0xFFFF) >> 16)) < 0) outOfMemory();
  }
}

export function heapAlloc(size: usize): usize {
  if (size > MAX_BLOCK - 32) outOfMemory();
  // every allocation (the filter's, the SDK's, the host's) is collector debt: a long callback
  // sequence that only makes garbage still reaches a collection (mem.ts)
  addGcDebt(size);
  let t = classify(size);
  // the exact class, else one of the next 4 (at most +64 bytes, or 2x for large blocks)
  let last = heads + (min(cls + 4, CLASSES - 1) << 2);
  for (let slot = heads + (cls << 2); slot <= last; slot += 4) {
    let p = load<usize>(slot);
    if (p != 0) {
      store<usize>(slot, load<usize>(p));
      return p;
    }
  }
  let b = top;
  if (b == 0) b = ((__heap_base + 19) & ~15) - 4;
  reserve(b, t);
  store<u32>(b, <u32>(t - 4));
  top = b + t;
  return b + 4;
}

export function heapFree(ptr: usize): void {
  let cap = <usize>load<u32>(ptr - 4);
  if (ptr + cap == top) {
    top = ptr - 4;
    return;
  }
  classify(cap); // cap + 4 is a class size: classify gives its class back
  let slot = heads + (cls << 2);
  store<usize>(ptr, load<usize>(slot));
  store<usize>(slot, ptr);
}

export function heapRealloc(ptr: usize, size: usize): usize {
  let cap = <usize>load<u32>(ptr - 4);
  if (size <= cap) return ptr;
  if (size > MAX_BLOCK - 32) outOfMemory();
  if (ptr + cap == top) {
    // last block: grow in place
    let t = classify(size);
    reserve(ptr - 4, t);
    store<u32>(ptr - 4, <u32>(t - 4));
    top = ptr - 4 + t;
    return ptr;
  }
  let n = heapAlloc(size);
  memory.copy(n, ptr, cap);
  heapFree(ptr);
  return n;
}
