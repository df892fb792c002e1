// Host name normalisation (`:authority` and config entries) and the reversed-label trie.
//
// normalizeHost() writes the comparable form of a host into OUT (no allocation once OUT has
// grown): userinfo dropped, port stripped, lower-cased, trailing dots removed, IPv6 literals in
// canonical RFC 5952 text without brackets, Unicode labels in punycode ("xn--..."). Labels that are
// not valid UTF-8 are kept as raw bytes (lower-cased), so they simply match nothing, while the
// labels to their right still match (`\xff.example.com` is a subdomain of example.com).

// ---- output and scratch buffers (grown on demand, kept) ----
let outBuf = new ArrayBuffer(256);
let cpBuf = new StaticArray<u32>(256);
/** Length of the last normalised host. */
export let outLen: i32 = 0;
/** The last input had a port (or a ':' after the host). */
export let hadPort: bool = false;
/** The last input was an IPv6 literal. */
export let isIpv6: bool = false;
/** The last input had an empty label in the middle ("a..b") or was empty. */
export let emptyLabel: bool = false;

export function outPtr(): usize {
  return changetype<usize>(outBuf);
}

function ensureOut(need: i32): void {
  if (need <= outBuf.byteLength) return;
  let nb = new ArrayBuffer(max(need, outBuf.byteLength * 2));
  memory.copy(changetype<usize>(nb), changetype<usize>(outBuf), <usize>outLen);
  outBuf = nb;
}

// @ts-ignore: decorator
@inline function put(b: u32): void {
  if (outLen >= outBuf.byteLength) ensureOut(outLen + 1);
  store<u8>(changetype<usize>(outBuf) + <usize>outLen, <u8>b);
  outLen++;
}

// @ts-ignore: decorator
@inline function lowerAscii(b: u32): u32 {
  return b - 0x41 < 26 ? b | 0x20 : b;
}

/**
 * Simple lower-casing and UTS-46-style width mapping for the scripts most used in IDNs, without
 * Unicode tables (they would triple the module size): Latin-1, Latin Extended-A, Greek, Cyrillic,
 * fullwidth ASCII. Returns 0x2E for the ideographic/fullwidth full stops (label separators).
 */
function mapCodePoint(c: u32): u32 {
  if (c < 0x80) return lowerAscii(c);
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 0x20;
  if (c >= 0x100 && c <= 0x17f) {
    if ((c <= 0x12f || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) && (c & 1) == 0) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && (c & 1) == 1) return c + 1;
    if (c == 0x178) return 0xff;
    return c;
  }
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 0x20;
  if (c >= 0x410 && c <= 0x42f) return c + 0x20;
  if (c >= 0x400 && c <= 0x40f) return c + 0x50;
  if (c >= 0xff21 && c <= 0xff3a) return c - 0xff21 + 0x61;
  if (c >= 0xff41 && c <= 0xff5a) return c - 0xff41 + 0x61;
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10 + 0x30;
  if (c == 0x3002 || c == 0xff0e || c == 0xff61) return 0x2e;
  return c;
}

// ---- punycode (RFC 3492) ----
function adapt(delta: u32, numPoints: u32, first: bool): u32 {
  delta = first ? delta / 700 : delta >> 1;
  delta += delta / numPoints;
  let k: u32 = 0;
  while (delta > 455) { // ((36 - 1) * 26) >> 1
    delta /= 35;
    k += 36;
  }
  return k + (36 * delta) / (delta + 38);
}

// @ts-ignore: decorator
@inline function digit(d: u32): u32 {
  return d < 26 ? d + 0x61 : d + 0x16; // a..z, 0..9
}

/** Appends "xn--" + punycode of cpBuf[0, n). Returns false on overflow (label then kept raw). */
function punycode(n: i32): bool {
  put(0x78); put(0x6e); put(0x2d); put(0x2d);
  let basic: u32 = 0;
  for (let i = 0; i < n; i++) {
    let c = unchecked(cpBuf[i]);
    if (c < 0x80) { put(c); basic++; }
  }
  let h = basic;
  if (basic > 0) put(0x2d);
  let cp: u32 = 128, delta: u32 = 0, bias: u32 = 72;
  let total = <u32>n;
  while (h < total) {
    let m: u32 = 0xffffffff;
    for (let i = 0; i < n; i++) {
      let c = unchecked(cpBuf[i]);
      if (c >= cp && c < m) m = c;
    }
    let inc = <u64>(m - cp) * <u64>(h + 1);
    if (<u64>delta + inc > 0xffffffff) return false;
    delta += <u32>inc;
    cp = m;
    for (let i = 0; i < n; i++) {
      let c = unchecked(cpBuf[i]);
      if (c < cp) {
        if (++delta == 0) return false;
      } else if (c == cp) {
        let q = delta;
        for (let k: u32 = 36; ; k += 36) {
          let t: u32 = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
          if (q < t) break;
          put(digit(t + (q - t) % (36 - t)));
          q = (q - t) / (36 - t);
        }
        put(digit(q));
        bias = adapt(delta, h + 1, h == basic);
        delta = 0;
        h++;
      }
    }
    delta++;
    cp++;
  }
  return true;
}

/**
 * Decodes one UTF-8 sequence at p (n bytes available). Returns the code point, or 0xffffffff for
 * an invalid sequence; seqLen receives its length (1 for invalid bytes).
 */
let seqLen: i32 = 1;
function decodeAt(p: usize, n: i32): u32 {
  let b0 = <u32>load<u8>(p);
  seqLen = 1;
  let need = 0;
  let cp: u32 = 0;
  let lo: u32 = 0x80, hi: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) { need = 1; cp = b0 & 0x1f; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { need = 2; cp = b0 & 0x0f; if (b0 == 0xe0) lo = 0xa0; else if (b0 == 0xed) hi = 0x9f; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { need = 3; cp = b0 & 0x07; if (b0 == 0xf0) lo = 0x90; else if (b0 == 0xf4) hi = 0x8f; }
  else return 0xffffffff;
  if (need >= n) return 0xffffffff;
  for (let j = 1; j <= need; j++) {
    let b = <u32>load<u8>(p + <usize>j);
    if (b < lo || b > hi) return 0xffffffff;
    lo = 0x80; hi = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  seqLen = need + 1;
  return cp;
}

/** Normalises the DNS-name part [p, p+n) into OUT (labels; IDN -> punycode). */
function normalizeName(p: usize, n: i32): void {
  let i = 0;
  while (true) {
    // one label
    let start = i;
    let count = 0;
    let ascii = true, invalid = false;
    let sepLen = 0;
    while (i < n) {
      let b = <u32>load<u8>(p + <usize>i);
      if (b == 0x2e) { sepLen = 1; break; }
      let c: u32;
      let l = 1;
      if (b < 0x80) c = lowerAscii(b);
      else {
        c = decodeAt(p + <usize>i, n - i);
        l = seqLen;
        if (c == 0xffffffff) invalid = true;
        else {
          c = mapCodePoint(c);
          if (c == 0x2e) { sepLen = l; break; }
        }
      }
      if (c >= 0x80) ascii = false;
      if (count >= cpBuf.length) {
        let nb = new StaticArray<u32>(cpBuf.length * 2);
        memory.copy(changetype<usize>(nb), changetype<usize>(cpBuf), <usize>count << 2);
        cpBuf = nb;
      }
      unchecked(cpBuf[count++] = c);
      i += l;
    }
    let end = i;
    if (end == start && sepLen > 0) emptyLabel = true;
    if (invalid) {
      for (let j = start; j < end; j++) put(lowerAscii(<u32>load<u8>(p + <usize>j)));
    } else if (ascii) {
      for (let j = 0; j < count; j++) put(unchecked(cpBuf[j]));
    } else {
      let mark = outLen;
      if (!punycode(count)) {
        outLen = mark;
        for (let j = start; j < end; j++) put(lowerAscii(<u32>load<u8>(p + <usize>j)));
      }
    }
    if (sepLen == 0) break;
    put(0x2e);
    i += sepLen;
  }
  // trailing dots (FQDN form) are not part of the name
  while (outLen > 0 && load<u8>(changetype<usize>(outBuf) + <usize>(outLen - 1)) == 0x2e) outLen--;
}

// ---- IPv6 ----
let groups = new StaticArray<u32>(8);

function hexVal(b: u32): i32 {
  if (b - 0x30 < 10) return <i32>(b - 0x30);
  let l = b | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Parses a dotted IPv4 address in [p, p+n) into groups[at], groups[at+1]; false if not one. */
function parseV4(p: usize, n: i32, at: i32): bool {
  let parts = 0;
  let v: u32 = 0, digits = 0;
  let acc: u32 = 0;
  for (let i = 0; i <= n; i++) {
    let b = i < n ? <u32>load<u8>(p + <usize>i) : 0x2e;
    if (b == 0x2e) {
      if (digits == 0 || parts >= 4) return false;
      acc = (acc << 8) | v;
      parts++;
      v = 0; digits = 0;
    } else if (b - 0x30 < 10) {
      v = v * 10 + (b - 0x30);
      if (++digits > 3 || v > 255) return false;
    } else return false;
  }
  if (parts != 4) return false;
  unchecked(groups[at] = acc >>> 16);
  unchecked(groups[at + 1] = acc & 0xffff);
  return true;
}

/** Parses an IPv6 literal (zone id dropped) into `groups`; false if it is not one. */
function parseV6(p: usize, n: i32): bool {
  // drop a zone id: fe80::1%eth0 or %25eth0
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0x25) { n = i; break; }
  let count = 0;
  let gap = -1;
  let i = 0;
  if (n >= 2 && load<u8>(p) == 0x3a && load<u8>(p + 1) == 0x3a) { gap = 0; i = 2; }
  else if (n >= 1 && load<u8>(p) == 0x3a) return false;
  while (i < n) {
    if (count >= 8) return false;
    // a group or an embedded IPv4 address
    let s = i;
    let v: i32 = 0;
    let digits = 0;
    while (i < n) {
      let b = <u32>load<u8>(p + <usize>i);
      let h = hexVal(b);
      if (h < 0) break;
      v = (v << 4) | h;
      digits++;
      i++;
    }
    if (i < n && load<u8>(p + <usize>i) == 0x2e) {
      if (count > 6 || !parseV4(p + <usize>s, n - s, count)) return false;
      count += 2;
      i = n;
      break;
    }
    if (digits == 0 || digits > 4) return false;
    unchecked(groups[count++] = <u32>v);
    if (i == n) break;
    if (load<u8>(p + <usize>i) != 0x3a) return false;
    i++;
    if (i < n && load<u8>(p + <usize>i) == 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i == n) return false;
  }
  if (gap < 0) return count == 8;
  if (count > 7) return false;
  // expand the gap
  let move = count - gap;
  for (let k = move - 1; k >= 0; k--) unchecked(groups[8 - move + k] = groups[gap + k]);
  for (let k = gap; k < 8 - move; k++) unchecked(groups[k] = 0);
  return true;
}

/** Writes `groups` in RFC 5952 canonical text. */
function writeV6(): void {
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (unchecked(groups[i]) != 0) { i++; continue; }
    let j = i;
    while (j < 8 && unchecked(groups[j]) == 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  for (let i = 0; i < 8; i++) {
    if (i == bestStart) {
      put(0x3a);
      if (i == 0) put(0x3a);
      i += bestLen - 1;
      continue;
    }
    let g = unchecked(groups[i]);
    let started = false;
    for (let s = 12; s >= 0; s -= 4) {
      let d = (g >>> <u32>s) & 0xf;
      if (d != 0 || started || s == 0) {
        put(d < 10 ? 0x30 + d : 0x57 + d);
        started = true;
      }
    }
    if (i < 7) put(0x3a);
  }
}

/**
 * Normalises a host or authority [p, p+n) into OUT (see the file comment). Sets hadPort,
 * isIpv6, emptyLabel. Never traps, whatever the bytes.
 */
export function normalizeHost(p: usize, n: i32): void {
  outLen = 0;
  hadPort = false;
  isIpv6 = false;
  emptyLabel = false;
  // optional whitespace around the value (HTTP/1 OWS) is not part of it
  while (n > 0 && (load<u8>(p) == 0x20 || load<u8>(p) == 0x09)) { p++; n--; }
  while (n > 0 && (load<u8>(p + <usize>(n - 1)) == 0x20 || load<u8>(p + <usize>(n - 1)) == 0x09)) n--;
  // userinfo (deprecated in authorities) is not part of the host
  for (let i = n - 1; i >= 0; i--) {
    if (load<u8>(p + <usize>i) == 0x40) { p += <usize>(i + 1); n -= i + 1; break; }
  }
  if (n > 0 && load<u8>(p) == 0x5b) { // [IPv6]:port
    let close = -1;
    for (let i = 1; i < n; i++) if (load<u8>(p + <usize>i) == 0x5d) { close = i; break; }
    if (close > 0) {
      hadPort = close + 1 < n;
      if (parseV6(p + 1, close - 1)) { isIpv6 = true; writeV6(); return; }
      for (let i = 1; i < close; i++) put(lowerAscii(<u32>load<u8>(p + <usize>i)));
      return;
    }
  }
  let colons = 0, last = -1;
  for (let i = 0; i < n; i++) if (load<u8>(p + <usize>i) == 0x3a) { colons++; last = i; }
  if (colons > 1) { // a bare IPv6 literal (no port possible without brackets)
    if (parseV6(p, n)) { isIpv6 = true; writeV6(); return; }
    for (let i = 0; i < n; i++) put(lowerAscii(<u32>load<u8>(p + <usize>i)));
    return;
  }
  if (colons == 1) { hadPort = true; n = last; }
  if (n == 0) { emptyLabel = true; return; }
  normalizeName(p, n);
}

// ---- reversed-label trie ----

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

/**
 * A set of host patterns as a trie over labels read right to left ("com" -> "example" -> "api").
 * Edges live in one open-addressing table keyed by (parent, label), so a lookup costs one probe
 * per label of the request's host, whatever the number of entries. Each slot is 16 bytes
 * (hash, parent, child, label offset) so a probe touches one cache line; labels are stored in a
 * byte pool as a u16 length and the bytes.
 * Per node (3 i32 in `nodes`): the rule index (position in the config list) of an exact entry
 * ("example.com"), a suffix entry (".example.com": the node and everything below) and a wildcard
 * entry ("*.example.com": strictly below), -1 when none.
 */
export class HostTrie {
  nodes: i32[] = [-1, -1, -1];
  private slots: StaticArray<u32> = new StaticArray<u32>(64);
  private mask: u32 = 15;
  private edges: u32 = 0;
  private pool: ArrayBuffer = new ArrayBuffer(256);
  private poolLen: i32 = 0;
  size: i32 = 0;

  private find(parent: u32, p: usize, n: i32, h: u32): i32 {
    let i = h & this.mask;
    let sl = changetype<usize>(this.slots);
    let pool = changetype<usize>(this.pool);
    while (true) {
      let e = sl + (<usize>i << 4);
      let eh = load<u32>(e);
      if (eh == 0) return -1;
      if (eh == h && load<u32>(e, 4) == parent) {
        let lp = pool + <usize>load<u32>(e, 12);
        if (<i32>load<u16>(lp) == n && memory.compare(lp + 2, p, <usize>n) == 0) return <i32>load<u32>(e, 8);
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  private place(h: u32, parent: u32, child: u32, off: u32): void {
    let i = h & this.mask;
    let sl = changetype<usize>(this.slots);
    while (load<u32>(sl + (<usize>i << 4)) != 0) i = (i + 1) & this.mask;
    let e = sl + (<usize>i << 4);
    store<u32>(e, h);
    store<u32>(e, parent, 4);
    store<u32>(e, child, 8);
    store<u32>(e, off, 12);
  }

  private child(parent: u32, p: usize, n: i32): u32 {
    let h = labelHash(<i32>parent, p, n);
    let c = this.find(parent, p, n, h);
    if (c >= 0) return <u32>c;
    if ((this.edges + 1) * 2 > this.mask + 1) {
      let old = this.slots;
      this.mask = (this.mask << 1) | 1;
      this.slots = new StaticArray<u32>((this.mask + 1) * 4);
      let o = changetype<usize>(old);
      for (let j = 0, m = old.length >> 2; j < m; j++) {
        let e = o + (<usize>j << 4);
        if (load<u32>(e) != 0) this.place(load<u32>(e), load<u32>(e, 4), load<u32>(e, 8), load<u32>(e, 12));
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
    let node = <u32>(this.nodes.length / 3);
    this.nodes.push(-1);
    this.nodes.push(-1);
    this.nodes.push(-1);
    this.place(h, parent, node, <u32>this.poolLen);
    this.poolLen += n + 2;
    this.edges++;
    return node;
  }

  /** Adds the normalised name [p, p+n) (labels of at most 65535 bytes); kind 0 exact, 1 suffix, 2 wildcard. The first rule wins. */
  insert(p: usize, n: i32, kind: i32, rule: i32): void {
    let node: u32 = 0;
    let end = n;
    while (end > 0) {
      let s = end;
      while (s > 0 && load<u8>(p + <usize>(s - 1)) != 0x2e) s--;
      node = this.child(node, p + <usize>s, end - s);
      end = s - 1;
    }
    let k = <i32>node * 3 + kind;
    if (unchecked(this.nodes[k]) < 0) unchecked(this.nodes[k] = rule);
    this.size++;
  }

  /** The rule index of the most specific entry matching [p, p+n), or -1. */
  lookup(p: usize, n: i32): i32 {
    if (this.size == 0 || n == 0) return -1;
    let nodes = this.nodes;
    let node: u32 = 0;
    let best = -1;
    let end = n;
    while (true) {
      let base = <i32>node * 3;
      let w = unchecked(nodes[base + 2]);
      if (w >= 0) best = w;
      let s = unchecked(nodes[base + 1]);
      if (s >= 0) best = s;
      let start = end;
      while (start > 0 && load<u8>(p + <usize>(start - 1)) != 0x2e) start--;
      let len = end - start;
      let c = this.find(node, p + <usize>start, len, labelHash(<i32>node, p + <usize>start, len));
      if (c < 0) return best;
      node = <u32>c;
      if (start == 0) break;
      end = start - 1;
    }
    let base = <i32>node * 3;
    let e = unchecked(nodes[base]);
    if (e >= 0) return e;
    let s = unchecked(nodes[base + 1]);
    return s >= 0 ? s : best;
  }
}
