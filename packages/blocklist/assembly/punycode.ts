// Punycode (RFC 3492): how a Unicode label is written in ASCII ("bücher" -> "xn--bcher-kva").
import { NormalizedHost } from "./normalized";

// The RFC's parameters for IDNA.
const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;
const DELIMITER: u32 = 0x2d; // '-'

/** The bias adaptation of RFC 3492 section 6.1. */
function adapt(delta: u32, numPoints: u32, first: bool): u32 {
  delta = first ? delta / DAMP : delta >> 1;
  delta += delta / numPoints;
  let k: u32 = 0;
  while (delta > ((BASE - T_MIN) * T_MAX) >> 1) {
    delta /= BASE - T_MIN;
    k += BASE;
  }
  return k + (BASE * delta) / (delta + SKEW);
}

/** The ASCII character of digit d: a..z for 0..25, 0..9 for 26..35. */
// @ts-ignore: decorator
@inline function digitChar(d: u32): u32 {
  return d < 26 ? d + 0x61 : d + 0x16;
}

/**
 * Appends "xn--" and the punycode of the code points codePoints[0, n) to `out`. Returns false
 * when the encoding overflows (the caller then keeps the label as it was).
 */
export function appendPunycode(out: NormalizedHost, codePoints: StaticArray<u32>, n: i32): bool {
  out.put(0x78); out.put(0x6e); out.put(0x2d); out.put(0x2d); // "xn--"
  let basic: u32 = 0;
  for (let i = 0; i < n; i++) {
    let c = unchecked(codePoints[i]);
    if (c < 0x80) { out.put(c); basic++; }
  }
  let h = basic;
  if (basic > 0) out.put(DELIMITER);
  let cp = INITIAL_N, delta: u32 = 0, bias = INITIAL_BIAS;
  let total = <u32>n;
  while (h < total) {
    let m: u32 = u32.MAX_VALUE;
    for (let i = 0; i < n; i++) {
      let c = unchecked(codePoints[i]);
      if (c >= cp && c < m) m = c;
    }
    let inc = <u64>(m - cp) * <u64>(h + 1);
    if (<u64>delta + inc > <u64>u32.MAX_VALUE) return false;
    delta += <u32>inc;
    cp = m;
    for (let i = 0; i < n; i++) {
      let c = unchecked(codePoints[i]);
      if (c < cp) {
        if (++delta == 0) return false;
      } else if (c == cp) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          let t: u32 = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
          if (q < t) break;
          out.put(digitChar(t + (q - t) % (BASE - t)));
          q = (q - t) / (BASE - t);
        }
        out.put(digitChar(q));
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
