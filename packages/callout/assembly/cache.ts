// The answer cache (config `cache`): the values of a successful answer, kept per key for ttlMs,
// at most maxEntries keys, the oldest evicted first. One cache per worker VM.

import { monotonicNanos } from "as-proxy-wasm";
import { Values } from "./mapping";
import { CacheConfig } from "./config";

class Entry {
  constructor(public key: string, public values: Values, public expires: u64) {}
}

/** FNV-1a offset basis and prime (32 bits). */
const FNV_OFFSET: u32 = 2166136261;
const FNV_PRIME: u32 = 16777619;

/** FNV-1a over the UTF-16 code units of `key`. */
function keyHash(key: string): u32 {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) h = (h ^ <u32>key.charCodeAt(i)) * FNV_PRIME;
  return h;
}

/**
 * A hash table with open addressing (linear probing, at most half full) and a ring of its keys
 * in insertion order: when full, the key at the ring's head, the oldest, makes room.
 */
export class Cache {
  private slots: StaticArray<Entry | null>;
  private mask: u32;
  private ring: StaticArray<string | null>;
  private ringHead: i32 = 0;

  constructor(public config: CacheConfig) {
    let maxEntries = config.maxEntries;
    let capacity = 1;
    while (capacity < maxEntries * 2) capacity <<= 1;
    this.slots = new StaticArray<Entry | null>(capacity);
    this.mask = <u32>capacity - 1;
    this.ring = new StaticArray<string | null>(maxEntries);
  }

  /** The values stored for `key`, or null when absent or expired. */
  lookup(key: string): Values | null {
    let e = unchecked(this.slots[this.slotOf(key)]);
    return e !== null && e.expires > monotonicNanos() ? e.values : null;
  }

  /** Stores `values` for `key` for the TTL, evicting the oldest key when the cache is full. */
  store(key: string, values: Values): void {
    let expires = monotonicNanos() + this.config.ttlNs;
    let e = unchecked(this.slots[this.slotOf(key)]);
    if (e !== null) {
      e.values = values;
      e.expires = expires;
      return;
    }
    // The ring slot at head holds the oldest key (or null while the cache fills up).
    let oldest = unchecked(this.ring[this.ringHead]);
    if (oldest !== null) this.remove(oldest);
    unchecked(this.ring[this.ringHead] = key);
    this.ringHead = (this.ringHead + 1) % this.ring.length;
    unchecked(this.slots[this.slotOf(key)] = new Entry(key, values, expires));
  }

  /** The slot of `key`, or the empty slot that ends its probe chain. */
  private slotOf(key: string): u32 {
    let i = keyHash(key) & this.mask;
    while (true) {
      let e = unchecked(this.slots[i]);
      if (e === null || e.key == key) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Removes `key` (backward-shift deletion: probe chains stay intact without tombstones). */
  private remove(key: string): void {
    let slots = this.slots, mask = this.mask;
    let i = this.slotOf(key);
    if (unchecked(slots[i]) === null) return;
    let j = i;
    while (true) {
      unchecked(slots[i] = null);
      while (true) {
        j = (j + 1) & mask;
        let e = unchecked(slots[j]);
        if (e === null) return;
        let home = keyHash(e.key) & mask;
        // move e back to i unless its home is in the cyclic range (i, j]
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
          unchecked(slots[i] = e);
          i = j;
          break;
        }
      }
    }
  }
}
