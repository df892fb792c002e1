// HeaderEdits: a list of header edits (remove / set / add) recorded once, typically at configure
// time, and applied to a header map per request without encoding or allocating anything.
//
//   let edits = new HeaderEdits();
//   edits.remove("x-internal");
//   edits.set("x-training", "envoy-wasm");
//   edits.add("via", "wasm");
//   ...
//   edits.applyTo(MapType.HttpRequestHeaders); // in onRequestHeaders: three host calls
//
// The edits are kept, in the order recorded, as UTF-8 records in one buffer:
//   u32 op | u32 name length | u32 value length | name (lower-case) | value
// so applying them walks bytes and calls the host.

import { MapType, Status } from "./enums";
import {
  proxy_add_header_map_value, proxy_remove_header_map_value, proxy_replace_header_map_value,
} from "./imports";
import { asciiLowerInPlace } from "./utf8";
import { argLen, argPtr } from "./args";

// @ts-ignore: decorator
@inline const OP_REMOVE: u32 = 0;
// @ts-ignore: decorator
@inline const OP_SET: u32 = 1;
// @ts-ignore: decorator
@inline const OP_ADD: u32 = 2;

/**
 * Header edits recorded once and applied many times. Names are stored lower-case (as Envoy
 * stores them); names and values accept `string | Bytes | ArrayBuffer | Uint8Array`, and values
 * are byte-safe. Validate names and values before recording them (`isHeaderName`,
 * `isHeaderValue`): the host refuses what Envoy refuses, and `applyTo` goes on with the next edit.
 */
export class HeaderEdits {
  /**
   * The records, back to back: the first `used` bytes of a managed buffer grown by doubling, so
   * recording n edits copies O(n) bytes (in the owned memory mode a moved buffer's old block stays
   * in the root's arena until the root is deleted: growing by one record at a time kept O(n^2)).
   */
  private buf: ArrayBuffer = new ArrayBuffer(0);
  private used: usize = 0;

  /** Removes every value of `name`. */
  remove<K>(name: K): HeaderEdits {
    let k = argPtr<K>(name, 0);
    this.record(OP_REMOVE, k, argLen, 0, 0);
    return this;
  }

  /** Replaces every value of `name` with `value` (adds it when absent). */
  set<K, V>(name: K, value: V): HeaderEdits {
    let k = argPtr<K>(name, 0);
    let kl = argLen;
    let v = argPtr<V>(value, 1);
    this.record(OP_SET, k, kl, v, argLen);
    return this;
  }

  /** Appends one more `name: value` entry. */
  add<K, V>(name: K, value: V): HeaderEdits {
    let k = argPtr<K>(name, 0);
    let kl = argLen;
    let v = argPtr<V>(value, 1);
    this.record(OP_ADD, k, kl, v, argLen);
    return this;
  }

  /** The number of edits recorded. */
  get length(): i32 {
    let n = 0;
    let p = changetype<usize>(this.buf);
    let end = p + this.used;
    for (; p < end; n++) p += 12 + <usize>load<u32>(p, 4) + <usize>load<u32>(p, 8);
    return n;
  }

  /**
   * Applies the edits, in the order recorded, to header map `map` (e.g.
   * `MapType.HttpRequestHeaders` in onRequestHeaders). Allocates nothing. A status other than Ok
   * (the map is gone, or the host refuses a value) does not stop the remaining edits and never
   * traps; the first such status is returned (Ok when every edit applied).
   */
  applyTo(map: MapType): Status {
    let first = Status.Ok;
    let p = changetype<usize>(this.buf);
    let end = p + this.used;
    while (p < end) {
      let op = load<u32>(p);
      let nl = <usize>load<u32>(p, 4), vl = <usize>load<u32>(p, 8);
      let name = p + 12, value = name + nl;
      let s: Status;
      if (op == OP_REMOVE) s = <Status>proxy_remove_header_map_value(map, name, nl);
      else if (op == OP_SET) s = <Status>proxy_replace_header_map_value(map, name, nl, value, vl);
      else s = <Status>proxy_add_header_map_value(map, name, nl, value, vl);
      if (first == Status.Ok) first = s;
      p = value + vl;
    }
    return first;
  }

  private record(op: u32, name: usize, nl: usize, value: usize, vl: usize): void {
    let at = this.used;
    let need = at + 12 + nl + vl;
    let cap = <usize>this.buf.byteLength;
    if (need > cap) this.buf = changetype<ArrayBuffer>(__renew(changetype<usize>(this.buf), max(cap << 1, need)));
    this.used = need;
    let p = changetype<usize>(this.buf) + at;
    store<u32>(p, op);
    store<u32>(p, <u32>nl, 4);
    store<u32>(p, <u32>vl, 8);
    memory.copy(p + 12, name, nl);
    asciiLowerInPlace(p + 12, nl);
    memory.copy(p + 12 + nl, value, vl);
  }
}
