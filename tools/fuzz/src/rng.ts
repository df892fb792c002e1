/**
 * A small seeded PRNG (mulberry32): the same seed gives the same exchanges on every machine, so a
 * failure printed with its seed is reproduced with `--seed`.
 */
export class Rng {
  private s: number;
  constructor(readonly seed: number) { this.s = seed >>> 0; }

  /** A float in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  /** A child generator: exchange i of a run is reproducible on its own from (seed, i). */
  fork(i: number): Rng { return new Rng(mix(this.seed, i)); }
  bytes(n: number, lo = 0, hi = 255): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = lo + this.int(hi - lo + 1);
    return b;
  }
}

function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A fresh seed for a run without `--seed` (printed, so the run can be repeated). */
export function freshSeed(): number { return (Math.random() * 0x100000000) >>> 0; }
