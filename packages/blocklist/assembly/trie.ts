// The reversed-label trie: a set of host entries, matched label by label from the right.
//
// Raw memory here: the edge table is probed once per label of every request's host. Its slots
// are read and written with load()/store() in one StaticArray (four u32 per slot), and labels are
// compared in place with memory.compare(), so a lookup allocates nothing and touches one cache
// line per probe.
import { NormalizedHost } from "./normalized";

/** How an entry matches (its position in a node's three rule slots). */
export enum MatchKind {
  /** "example.com": exactly that host */
  Exact = 0,
  /** ".example.com": the domain and everything below */
  Suffix = 1,
  /** "*.example.com": strictly below */
  Wildcard = 2,
}
/** Rule slots per node: one per MatchKind. */
const KINDS = 3;
/** A rule slot without a rule. */
const NO_RULE = -1;
const DOT: u32 = 0x2e;

// One edge slot: the label's hash (0 = empty slot), the parent node, the child node, and the
// label's offset in the pool.
const SLOT_BYTES = 16;
const SLOT_PARENT = 4;
const SLOT_CHILD = 8;
const SLOT_LABEL = 12;

/** FNV-1a over [p, p+n), seeded with the parent node. */
// @ts-ignore: decorator
@inline function labelHash(parent: i32, p: usize, n: i32): u32 {
  let h: u32 = 0x811c9dc5 ^ (<u32>parent * 0x9e3779b1);
  for (let i = 0; i < n; i++) {
    h ^= <u32>load<u8>(p + <usize>i);
    h *= 0x01000193;
  }
  return h | 1; // 0 marks an empty slot
}

/** Start of the label that ends at `end` (exclusive) in [p, p+end). */
function labelStart(p: usize, end: i32): i32 {
  let s = end;
  while (s > 0 && <u32>load<u8>(p + <usize>(s - 1)) != DOT) s--;
  return s;
}

/**
 * A set of host patterns as a trie over labels read right to left ("com" -> "example" -> "api").
 * Edges live in one open-addressing table keyed by (parent, label), so a lookup costs one probe
 * per label of the request's host, whatever the number of entries. Labels are stored in a byte
 * pool as a u16 length and the bytes. Each node has a rule slot per MatchKind in `nodes`: the
 * rule index (position in the config list) of its entry of that kind, or NO_RULE.
 */
export class HostTrie {
  private nodes: i32[] = [NO_RULE, NO_RULE, NO_RULE];
  private slots: StaticArray<u32> = new StaticArray<u32>(64);
  private mask: u32 = 15;
  private edges: u32 = 0;
  private pool: ArrayBuffer = new ArrayBuffer(256);
  private poolLen: i32 = 0;
  /** Number of entries inserted. */
  size: i32 = 0;

  private find(parent: u32, p: usize, n: i32, h: u32): i32 {
    let i = h & this.mask;
    let sl = changetype<usize>(this.slots);
    let pool = changetype<usize>(this.pool);
    while (true) {
      let e = sl + <usize>i * SLOT_BYTES;
      let eh = load<u32>(e);
      if (eh == 0) return -1;
      if (eh == h && load<u32>(e, SLOT_PARENT) == parent) {
        let lp = pool + <usize>load<u32>(e, SLOT_LABEL);
        if (<i32>load<u16>(lp) == n && memory.compare(lp + 2, p, <usize>n) == 0) return <i32>load<u32>(e, SLOT_CHILD);
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  private place(h: u32, parent: u32, child: u32, off: u32): void {
    let i = h & this.mask;
    let sl = changetype<usize>(this.slots);
    while (load<u32>(sl + <usize>i * SLOT_BYTES) != 0) i = (i + 1) & this.mask;
    let e = sl + <usize>i * SLOT_BYTES;
    store<u32>(e, h);
    store<u32>(e, parent, SLOT_PARENT);
    store<u32>(e, child, SLOT_CHILD);
    store<u32>(e, off, SLOT_LABEL);
  }

  private child(parent: u32, p: usize, n: i32): u32 {
    let h = labelHash(<i32>parent, p, n);
    let c = this.find(parent, p, n, h);
    if (c >= 0) return <u32>c;
    if ((this.edges + 1) * 2 > this.mask + 1) {
      let old = this.slots;
      this.mask = (this.mask << 1) | 1;
      this.slots = new StaticArray<u32>((this.mask + 1) * (SLOT_BYTES / 4));
      let o = changetype<usize>(old);
      for (let j = 0, m = old.length / (SLOT_BYTES / 4); j < m; j++) {
        let e = o + <usize>j * SLOT_BYTES;
        if (load<u32>(e) != 0) this.place(load<u32>(e), load<u32>(e, SLOT_PARENT), load<u32>(e, SLOT_CHILD), load<u32>(e, SLOT_LABEL));
      }
    }
    if (this.poolLen + n + 2 > this.pool.byteLength) {
      let np = new ArrayBuffer(max(this.poolLen + n + 2, this.pool.byteLength * 2));
      memory.copy(changetype<usize>(np), changetype<usize>(this.pool), <usize>this.poolLen);
      this.pool = np;
    }
    let lp = changetype<usize>(this.pool) + <usize>this.poolLen;
    store<u16>(lp, <u16>n);
    memory.copy(lp + 2, p, <usize>n);
    let node = <u32>(this.nodes.length / KINDS);
    for (let k = 0; k < KINDS; k++) this.nodes.push(NO_RULE);
    this.place(h, parent, node, <u32>this.poolLen);
    this.poolLen += n + 2;
    this.edges++;
    return node;
  }

  /** The rule of `kind` at `node`, or NO_RULE. */
  // @ts-ignore: decorator
  @inline private rule(node: u32, kind: MatchKind): i32 {
    return unchecked(this.nodes[<i32>node * KINDS + kind]);
  }

  /** Adds the normalised `host` (labels of at most 65535 bytes) as an entry of `kind`. The first rule wins. */
  insert(host: NormalizedHost, kind: MatchKind, rule: i32): void {
    let p = host.ptr;
    let node: u32 = 0;
    let end = host.length;
    while (end > 0) {
      let s = labelStart(p, end);
      node = this.child(node, p + <usize>s, end - s);
      end = s - 1;
    }
    let slot = <i32>node * KINDS + kind;
    if (unchecked(this.nodes[slot]) == NO_RULE) unchecked(this.nodes[slot] = rule);
    this.size++;
  }

  /** The rule index of the most specific entry matching `host`, or -1. */
  lookup(host: NormalizedHost): i32 {
    let p = host.ptr;
    let n = host.length;
    if (this.size == 0 || n == 0) return NO_RULE;
    let node: u32 = 0;
    let best = NO_RULE;
    let end = n;
    while (true) {
      // entries of the node reached so far match the longer host when it goes below them
      let w = this.rule(node, MatchKind.Wildcard);
      if (w != NO_RULE) best = w;
      let s = this.rule(node, MatchKind.Suffix);
      if (s != NO_RULE) best = s;
      let start = labelStart(p, end);
      let len = end - start;
      let c = this.find(node, p + <usize>start, len, labelHash(<i32>node, p + <usize>start, len));
      if (c < 0) return best;
      node = <u32>c;
      if (start == 0) break;
      end = start - 1;
    }
    // the whole host reached a node: its exact entry, then its suffix entry, then an entry above
    let e = this.rule(node, MatchKind.Exact);
    if (e != NO_RULE) return e;
    let s = this.rule(node, MatchKind.Suffix);
    return s != NO_RULE ? s : best;
  }
}
