// Memory shared with the host: the return slots host calls write their results into, the
// allocator the host calls (malloc / proxy_on_memory_allocate), and the adoption of what the host
// returned as an ArrayBuffer.

import { Status } from "./enums";
import { setLastStatus } from "./status";

// ---- host return slots (static memory, never moves) ----
// @ts-ignore: decorator
@lazy export const RET_A: usize = memory.data(8);
// @ts-ignore: decorator
@lazy export const RET_B: usize = memory.data(8);
// @ts-ignore: decorator
@lazy export const RET_C: usize = memory.data(8);

// ---- host allocator ----
/** Host -> VM allocation: a managed ArrayBuffer the SDK can adopt without copying. */
export function hostAlloc(size: usize): usize {
  return __new(size, idof<ArrayBuffer>());
}

// @ts-ignore: decorator
@lazy const EMPTY_BUFFER: ArrayBuffer = new ArrayBuffer(0);

/**
 * Adopts a (ptr, size) pair written by the host into RET_A/RET_B as an
 * ArrayBuffer. Zero-copy when the host returned exactly what our allocator
 * gave it (always the case in Envoy); otherwise copies, after a bounds check.
 */
export function adoptReturned(): ArrayBuffer | null {
  let ptr = load<u32>(RET_A);
  let size = load<u32>(RET_B);
  if (size == 0) return EMPTY_BUFFER;
  let end = <u64>ptr + <u64>size;
  if (<usize>ptr < __heap_base || end > (<u64>memory.size() << 16)) {
    setLastStatus(Status.InvalidMemoryAccess);
    return null;
  }
  // Managed header: rtId at ptr-8, rtSize at ptr-4.
  if (load<u32>(ptr - 8) == idof<ArrayBuffer>() && load<u32>(ptr - 4) == size) {
    return changetype<ArrayBuffer>(ptr);
  }
  let copy = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(copy), ptr, size);
  return copy;
}

