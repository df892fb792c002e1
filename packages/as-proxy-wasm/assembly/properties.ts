import { Status, TrafficDirection } from "./enums";
import { proxy_get_property, proxy_set_property } from "./imports";
import { RET_A, RET_B, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";
import { argPtr, argLen, scratchBlock, encodeScratch } from "./args";

/**
 * Encodes path segments as Envoy expects ("a\0b\0c", no trailing NUL) into
 * scratch slot 2 (no allocation). Returns the pointer; sets argLen.
 */
function encodePath(path: string[]): usize {
  let total: usize = 0;
  for (let i = 0, n = path.length; i < n; i++) total += <usize>unchecked(path[i]).length * 3 + 1;
  let base = scratchBlock(2, total + 1);
  let pos: usize = 0;
  for (let i = 0, n = path.length; i < n; i++) {
    if (i > 0) store<u8>(base + pos++, 0);
    // encode each segment via slot 3, then copy (segments are short)
    let p = encodeScratch(unchecked(path[i]), 3);
    let l = argLen;
    memory.copy(base + pos, p, l);
    pos += l;
  }
  argLen = pos;
  return base;
}

/** Raw property bytes (Envoy serialisation), or null (absent: lastStatus() == NotFound). */
export function getProperty(path: string[]): ArrayBuffer | null {
  let p = encodePath(path);
  let s = <Status>proxy_get_property(p, argLen, RET_A, RET_B);
  setLastStatus(s);
  if (s != Status.Ok) return null;
  return adoptReturned();
}

/** Property as a string (strings and bytes are passed raw by Envoy), or null. */
export function getPropertyString(path: string[]): string | null {
  let b = getProperty(path);
  if (b === null) return null;
  return decodeUtf8(changetype<usize>(b), <usize>b.byteLength);
}

/** Integer property (int64/uint64/duration/timestamp: 8 bytes little-endian), or `fallback`. */
export function getPropertyInt(path: string[], fallback: i64 = -1): i64 {
  let b = getProperty(path);
  if (b === null) return fallback;
  if (b.byteLength != 8) {
    setLastStatus(Status.SerializationFailure);
    return fallback;
  }
  return load<i64>(changetype<usize>(b));
}

/** Boolean property (1 byte), or `fallback`. */
export function getPropertyBool(path: string[], fallback: bool = false): bool {
  let b = getProperty(path);
  if (b === null) return fallback;
  if (b.byteLength != 1) {
    setLastStatus(Status.SerializationFailure);
    return fallback;
  }
  return load<u8>(changetype<usize>(b)) != 0;
}

/** Double property (8 bytes little-endian), or `fallback`. */
export function getPropertyFloat(path: string[], fallback: f64 = NaN): f64 {
  let b = getProperty(path);
  if (b === null || b.byteLength != 8) return fallback;
  return load<f64>(changetype<usize>(b));
}

/** proxy_set_property: Envoy stores it as filter state `wasm.<path>`. */
export function setProperty<V>(path: string[], value: V): Status {
  let v = argPtr<V>(value, 1);
  let vl = argLen;
  // copy the value pointer before encodePath reuses slot 3 (value uses slot 1)
  let p = encodePath(path);
  return <Status>proxy_set_property(p, argLen, v, vl);
}

// The property paths of trafficDirection, allocated once (an array literal allocates on each call).
// @ts-ignore: decorator
@lazy const XDS_LISTENER_DIRECTION: string[] = ["xds", "listener_direction"];
// @ts-ignore: decorator
@lazy const LISTENER_DIRECTION: string[] = ["listener_direction"];

/**
 * The traffic direction of the stream's listener: `xds.listener_direction`, or the top-level
 * `listener_direction` of Envoy < 1.33; Unspecified when the host has neither or another value.
 */
export function trafficDirection(): TrafficDirection {
  let d = getPropertyInt(XDS_LISTENER_DIRECTION, -1);
  if (d < 0) d = getPropertyInt(LISTENER_DIRECTION, -1);
  return d == TrafficDirection.Inbound || d == TrafficDirection.Outbound ? <TrafficDirection>d : TrafficDirection.Unspecified;
}

/** Typed getters for the Envoy attributes filters use most. All return null / a fallback when absent. */
export namespace properties {
  export function requestPath(): string | null { return getPropertyString(["request", "path"]); }
  export function requestUrlPath(): string | null { return getPropertyString(["request", "url_path"]); }
  export function requestMethod(): string | null { return getPropertyString(["request", "method"]); }
  export function requestHost(): string | null { return getPropertyString(["request", "host"]); }
  export function requestScheme(): string | null { return getPropertyString(["request", "scheme"]); }
  export function requestId(): string | null { return getPropertyString(["request", "id"]); }
  export function requestProtocol(): string | null { return getPropertyString(["request", "protocol"]); }
  /** `request.headers.<name>` (all values joined with ","). */
  export function requestHeader(name: string): string | null { return getPropertyString(["request", "headers", name]); }
  /** request.time in ns since epoch, or -1. */
  export function requestTime(): i64 { return getPropertyInt(["request", "time"]); }
  /** request.duration in ns (only once complete), or -1. */
  export function requestDuration(): i64 { return getPropertyInt(["request", "duration"]); }
  export function requestSize(): i64 { return getPropertyInt(["request", "size"]); }
  /** HTTP status code, or -1. */
  export function responseCode(): i64 { return getPropertyInt(["response", "code"]); }
  export function responseCodeDetails(): string | null { return getPropertyString(["response", "code_details"]); }
  export function responseSize(): i64 { return getPropertyInt(["response", "size"]); }
  export function responseHeader(name: string): string | null { return getPropertyString(["response", "headers", name]); }
  /** "ip:port" of the downstream peer. */
  export function sourceAddress(): string | null { return getPropertyString(["source", "address"]); }
  export function sourcePort(): i64 { return getPropertyInt(["source", "port"]); }
  export function destinationAddress(): string | null { return getPropertyString(["destination", "address"]); }
  export function destinationPort(): i64 { return getPropertyInt(["destination", "port"]); }
  export function connectionId(): i64 { return getPropertyInt(["connection", "id"]); }
  export function connectionMtls(): bool { return getPropertyBool(["connection", "mtls"]); }
  export function connectionSni(): string | null { return getPropertyString(["connection", "requested_server_name"]); }
  export function upstreamAddress(): string | null { return getPropertyString(["upstream", "address"]); }
  /**
   * 0 UNSPECIFIED, 1 INBOUND, 2 OUTBOUND; -1 when unknown. Reads
   * `xds.listener_direction` and falls back to the top-level
   * `listener_direction` of Envoy < 1.33.
   */
  export function listenerDirection(): i64 {
    let v = getPropertyInt(["xds", "listener_direction"], -1);
    if (v >= 0) return v;
    return getPropertyInt(["listener_direction"], -1);
  }
  export function clusterName(): string | null {
    let v = getPropertyString(["xds", "cluster_name"]);
    return v !== null ? v : getPropertyString(["cluster_name"]);
  }
  export function routeName(): string | null {
    let v = getPropertyString(["xds", "route_name"]);
    return v !== null ? v : getPropertyString(["route_name"]);
  }
  export function pluginName(): string | null { return getPropertyString(["plugin_name"]); }
  export function pluginRootId(): string | null { return getPropertyString(["plugin_root_id"]); }
  export function pluginVmId(): string | null { return getPropertyString(["plugin_vm_id"]); }
}
