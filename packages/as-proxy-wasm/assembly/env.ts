import { Status } from "./enums";
import { wasi_clock_time_get, wasi_environ_get, wasi_environ_sizes_get, wasi_random_get } from "./imports";
import { RET_A, RET_B, RET_C } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";

/** Wall-clock time in ns since the epoch (WASI clock_time_get REALTIME). 0 on error. */
export function nowNanos(): u64 {
  return wasi_clock_time_get(0, 1, RET_C) == 0 ? load<u64>(RET_C) : 0;
}

/** Monotonic time in ns (WASI clock_time_get MONOTONIC) for durations. 0 on error. */
export function monotonicNanos(): u64 {
  return wasi_clock_time_get(1, 1, RET_C) == 0 ? load<u64>(RET_C) : 0;
}

/** Fills `buf` with random bytes (WASI random_get, at most 64 KiB per call in Envoy). */
export function randomBytes(buf: ArrayBuffer): Status {
  return wasi_random_get(changetype<usize>(buf), <usize>buf.byteLength) == 0 ? Status.Ok : Status.InternalFailure;
}

/** A random u64 (0 on error). */
export function randomU64(): u64 {
  return wasi_random_get(RET_C, 8) == 0 ? load<u64>(RET_C) : 0;
}

/** One environment variable. */
export class EnvVar {
  constructor(public readonly name: string, public readonly value: string) {}
}

/**
 * The VM's environment (Envoy: vm_config.environment_variables host_env_keys
 * and key_values; empty by default). Read once and cache it: it never
 * changes during the VM's life.
 */
export function envVars(): EnvVar[] {
  let out = new Array<EnvVar>();
  if (wasi_environ_sizes_get(RET_A, RET_B) != 0) {
    setLastStatus(Status.InternalFailure);
    return out;
  }
  let count = <usize>load<u32>(RET_A);
  let size = <usize>load<u32>(RET_B);
  setLastStatus(Status.Ok);
  if (count == 0) return out;
  let ptrs = new ArrayBuffer(<i32>(count * 4));
  let buf = new ArrayBuffer(<i32>size + 1);
  if (wasi_environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) {
    setLastStatus(Status.InternalFailure);
    return out;
  }
  let lo = changetype<usize>(buf), hi = lo + size;
  for (let i: usize = 0; i < count; i++) {
    let p = <usize>load<u32>(changetype<usize>(ptrs) + i * 4);
    if (p < lo || p >= hi) continue;
    let e = p;
    while (e < hi && load<u8>(e) != 0) e++;
    let eq = p;
    while (eq < e && load<u8>(eq) != 0x3D) eq++;
    let name = decodeUtf8(p, eq - p);
    let value = eq < e ? decodeUtf8(eq + 1, e - eq - 1) : "";
    out.push(new EnvVar(name, value));
  }
  return out;
}

/** The value of environment variable `name`, or null. */
export function getEnv(name: string): string | null {
  let all = envVars();
  for (let i = 0; i < all.length; i++) {
    if (unchecked(all[i]).name == name) return unchecked(all[i]).value;
  }
  return null;
}
