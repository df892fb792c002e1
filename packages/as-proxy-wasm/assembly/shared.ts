import { Status } from "./enums";
import {
  proxy_get_shared_data, proxy_set_shared_data, proxy_register_shared_queue, proxy_resolve_shared_queue,
  proxy_enqueue_shared_queue, proxy_dequeue_shared_queue,
} from "./imports";
import { RET_A, RET_B, RET_C, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";
import { argPtr, argLen } from "./args";

/** A shared-data value and its CAS token. */
export class SharedValue {
  constructor(public readonly value: ArrayBuffer, public readonly cas: u32) {}
  toString(): string { return decodeUtf8(changetype<usize>(this.value), <usize>this.value.byteLength); }
}

/**
 * Process-wide key/value store shared by every VM with the same vm_id
 * (all worker threads). `set` with `cas` 0 is unconditional; otherwise it
 * fails with CasMismatch when someone wrote in between.
 */
export namespace sharedData {
  /** The value and CAS of `key`, or null (absent: lastStatus() == NotFound). */
  export function get<K>(key: K): SharedValue | null {
    let k = argPtr<K>(key, 0);
    let s = <Status>proxy_get_shared_data(k, argLen, RET_A, RET_B, RET_C);
    setLastStatus(s);
    if (s != Status.Ok) return null;
    let cas = load<u32>(RET_C);
    let v = adoptReturned();
    if (v === null) return null;
    return new SharedValue(v, cas);
  }

  export function set<K, V>(key: K, value: V, cas: u32 = 0): Status {
    let k = argPtr<K>(key, 0);
    let kl = argLen;
    let v = argPtr<V>(value, 1);
    return <Status>proxy_set_shared_data(k, kl, v, argLen, cas);
  }
}

/**
 * Shared queues: register one in the root context (it receives
 * onQueueReady), resolve it from any VM with the same vm_id, enqueue from
 * anywhere. Tokens are > 0; 0 means failure (see lastStatus()).
 */
export namespace sharedQueue {
  export function register(name: string): u32 {
    let n = argPtr<string>(name, 0);
    let s = <Status>proxy_register_shared_queue(n, argLen, RET_C);
    setLastStatus(s);
    return s == Status.Ok ? load<u32>(RET_C) : 0;
  }

  /** Finds the queue `name` of `vmId` ("" = this VM's vm_id). */
  export function resolve(vmId: string, name: string): u32 {
    let v = argPtr<string>(vmId, 0);
    let vl = argLen;
    let n = argPtr<string>(name, 1);
    let s = <Status>proxy_resolve_shared_queue(v, vl, n, argLen, RET_C);
    setLastStatus(s);
    return s == Status.Ok ? load<u32>(RET_C) : 0;
  }

  export function enqueue<V>(token: u32, data: V): Status {
    let p = argPtr<V>(data, 2);
    return <Status>proxy_enqueue_shared_queue(token, p, argLen);
  }

  /** Next item, or null (Empty / NotFound in lastStatus()). */
  export function dequeue(token: u32): ArrayBuffer | null {
    let s = <Status>proxy_dequeue_shared_queue(token, RET_A, RET_B);
    setLastStatus(s);
    if (s != Status.Ok) return null;
    return adoptReturned();
  }
}
