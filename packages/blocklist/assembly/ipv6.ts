// IPv6 literals: parsed into eight 16-bit groups, written back in RFC 5952 canonical text
// (lower case, no leading zeros, the longest run of zero groups as "::").
//
// Reads the input bytes in place with load(): the authority is host memory read once per request.
import { NormalizedHost } from "./normalized";

/** Number of 16-bit groups of an IPv6 address. */
export const IPV6_GROUPS = 8;

const COLON: u32 = 0x3a;
const DOT: u32 = 0x2e;
const PERCENT: u32 = 0x25;

// @ts-ignore: decorator
@inline function byteAt(p: usize, i: i32): u32 {
  return <u32>load<u8>(p + <usize>i);
}

/** The value of a hexadecimal digit, or -1. */
function hexValue(b: u32): i32 {
  if (b - 0x30 < 10) return <i32>(b - 0x30);
  let l = b | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/** Parses a dotted IPv4 address in [p, p+n) into groups[at] and groups[at+1]; false if not one. */
function parseIpv4(p: usize, n: i32, groups: StaticArray<u32>, at: i32): bool {
  let parts = 0;
  let v: u32 = 0, digits = 0;
  let acc: u32 = 0;
  for (let i = 0; i <= n; i++) {
    let b = i < n ? byteAt(p, i) : DOT;
    if (b == DOT) {
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

/** Parses the IPv6 literal [p, p+n) (a zone id is dropped) into `groups`; false if it is not one. */
export function parseIpv6(p: usize, n: i32, groups: StaticArray<u32>): bool {
  // drop a zone id: fe80::1%eth0 or %25eth0
  for (let i = 0; i < n; i++) if (byteAt(p, i) == PERCENT) { n = i; break; }
  let count = 0;
  let gap = -1;
  let i = 0;
  if (n >= 2 && byteAt(p, 0) == COLON && byteAt(p, 1) == COLON) { gap = 0; i = 2; }
  else if (n >= 1 && byteAt(p, 0) == COLON) return false;
  while (i < n) {
    if (count >= IPV6_GROUPS) return false;
    // a group or an embedded IPv4 address
    let s = i;
    let v: i32 = 0;
    let digits = 0;
    while (i < n) {
      let h = hexValue(byteAt(p, i));
      if (h < 0) break;
      v = (v << 4) | h;
      digits++;
      i++;
    }
    if (i < n && byteAt(p, i) == DOT) {
      if (count > IPV6_GROUPS - 2 || !parseIpv4(p + <usize>s, n - s, groups, count)) return false;
      count += 2;
      break;
    }
    if (digits == 0 || digits > 4) return false;
    unchecked(groups[count++] = <u32>v);
    if (i == n) break;
    if (byteAt(p, i) != COLON) return false;
    i++;
    if (i < n && byteAt(p, i) == COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i == n) return false;
  }
  if (gap < 0) return count == IPV6_GROUPS;
  if (count > IPV6_GROUPS - 1) return false;
  // expand the gap
  let move = count - gap;
  for (let k = move - 1; k >= 0; k--) unchecked(groups[IPV6_GROUPS - move + k] = groups[gap + k]);
  for (let k = gap; k < IPV6_GROUPS - move; k++) unchecked(groups[k] = 0);
  return true;
}

/** Appends `groups` to `out` in RFC 5952 canonical text. */
export function writeIpv6(groups: StaticArray<u32>, out: NormalizedHost): void {
  // the longest run of two or more zero groups (the first one on a tie) becomes "::"
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < IPV6_GROUPS; ) {
    if (unchecked(groups[i]) != 0) { i++; continue; }
    let j = i;
    while (j < IPV6_GROUPS && unchecked(groups[j]) == 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  for (let i = 0; i < IPV6_GROUPS; i++) {
    if (i == bestStart) {
      out.put(COLON);
      if (i == 0) out.put(COLON);
      i += bestLen - 1;
      continue;
    }
    let g = unchecked(groups[i]);
    let started = false;
    for (let s = 12; s >= 0; s -= 4) {
      let d = (g >>> <u32>s) & 0xf;
      if (d != 0 || started || s == 0) {
        out.put(d < 10 ? 0x30 + d : 0x57 + d); // 0-9, a-f
        started = true;
      }
    }
    if (i < IPV6_GROUPS - 1) out.put(COLON);
  }
}
