// Byte comparison on the request path, in place (no copy of the header per request).
import { Bytes } from "as-proxy-wasm";

/** True when the bytes `b` start with `prefix`. */
export function startsWith(b: ArrayBuffer, prefix: Bytes): bool {
  return b.byteLength >= prefix.length && memory.compare(changetype<usize>(b), prefix.ptr, <usize>prefix.length) == 0;
}
