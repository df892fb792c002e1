import { LogLevel, Status } from "./enums";
import { proxy_log, proxy_get_log_level } from "./imports";
import { RET_C } from "./host-memory";
import { encodeScratch, argLen } from "./args";

// The host level is read lazily: at most once per stream/root event (the dispatcher marks it
// stale, -1), and only when the filter actually logs.
let cachedLevel: i32 = -1;

// @ts-ignore: decorator
@inline export function invalidateLogLevel(): void {
  cachedLevel = -1;
}

/** Current host log level (Envoy's `wasm` logger), cached per callback. */
export function logLevel(): LogLevel {
  if (cachedLevel < 0) {
    // proxy_get_log_level exists only for ABI 0.2.1; on error log everything.
    cachedLevel = proxy_get_log_level(RET_C) == Status.Ok ? load<i32>(RET_C) : LogLevel.Trace;
  }
  return cachedLevel;
}

/** Logs `msg` at `level` if the host would keep it. Returns the host status. */
export function logAt(level: LogLevel, msg: string): Status {
  if (<i32>level < <i32>logLevel()) return Status.Ok; // nothing encoded
  let p = encodeScratch(msg, 3);
  return logBytes(level, p, argLen);
}

/** Logs `len` UTF-8 bytes at `ptr` (no string, no copy) at `level` if the host would keep it. */
export function logBytes(level: LogLevel, ptr: usize, len: usize): Status {
  if (<i32>level < <i32>logLevel()) return Status.Ok;
  return <Status>proxy_log(level, ptr, len);
}

export namespace log {
  /** True when a message at `level` would be emitted (use to skip building costly messages). */
  export function enabled(level: LogLevel): bool {
    return <i32>level >= <i32>logLevel();
  }
  export function trace(msg: string): Status { return logAt(LogLevel.Trace, msg); }
  export function debug(msg: string): Status { return logAt(LogLevel.Debug, msg); }
  export function info(msg: string): Status { return logAt(LogLevel.Info, msg); }
  export function warn(msg: string): Status { return logAt(LogLevel.Warn, msg); }
  export function error(msg: string): Status { return logAt(LogLevel.Error, msg); }
  export function critical(msg: string): Status { return logAt(LogLevel.Critical, msg); }
}
