// Handlers the AssemblyScript runtime would otherwise import from `env`
// (abort, trace, seed). asconfig.base.json routes them here with `use`, so a
// filter imports only proxy_* and WASI functions Envoy provides.

import { LogLevel } from "./enums";
import { proxy_log, wasi_random_get, wasi_clock_time_get } from "./imports";
import { logAt } from "./log";
import { RET_C } from "./host-memory";

// @ts-ignore: decorator
@lazy const ABORT_BUF: usize = memory.data(512);

function put(pos: usize, s: string | null): usize {
  if (s === null) return pos;
  let src = changetype<usize>(s);
  let n = <usize>s.length;
  for (let i: usize = 0; i < n && pos < 511; i++) {
    let c = load<u16>(src + (i << 1));
    store<u8>(ABORT_BUF + pos++, c < 0x80 ? <u8>c : 0x3F);
  }
  return pos;
}

function putNum(pos: usize, v: u32): usize {
  let digits: usize = 1;
  for (let t = v; t >= 10; t /= 10) digits++;
  if (pos + digits >= 511) return pos;
  let end = pos + digits;
  do {
    store<u8>(ABORT_BUF + --end, <u8>(0x30 + v % 10));
    v /= 10;
  } while (v);
  return pos + digits;
}

/**
 * `abort` replacement: one critical log line built without allocating (the
 * heap may be exhausted), then `unreachable` — the trap Envoy turns into its
 * failure policy (fail closed: 503 "wasm_fail_stream").
 */
export function abortHandler(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  let p = put(0, "as-proxy-wasm abort: ");
  p = put(p, message);
  if (fileName !== null) {
    p = put(p, " at ");
    p = put(p, fileName);
    p = put(p, ":");
    p = putNum(p, lineNumber);
    p = put(p, ":");
    p = putNum(p, columnNumber);
  }
  proxy_log(LogLevel.Critical, ABORT_BUF, p);
  unreachable();
}

/** `trace` replacement: a trace-level log line. */
export function traceHandler(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let s = message;
  if (n > 0) s += " " + a0.toString();
  if (n > 1) s += " " + a1.toString();
  if (n > 2) s += " " + a2.toString();
  if (n > 3) s += " " + a3.toString();
  if (n > 4) s += " " + a4.toString();
  logAt(LogLevel.Trace, s);
}

/** `seed` replacement (Math.random): WASI random_get, falling back to the clock. */
export function seedHandler(): f64 {
  if (wasi_random_get(RET_C, 8) == 0) {
    return reinterpret<f64>((load<u64>(RET_C) & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
  }
  wasi_clock_time_get(1, 1, RET_C);
  return <f64>load<u64>(RET_C);
}
