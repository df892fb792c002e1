// The value of a JSON number's text, read when a filter asks for it (JsonValue.numValue): the
// mantissa and the decimal exponent in one loop, then one scaling step.

/** The value of the number text [p, end) that the parser accepted (so one loop reads it). */
export function numberValue(p: usize, end: usize): f64 {
  let mant: f64 = 0;
  let exp = 0, e = 0;
  let frac = false, inExp = false, neg = false, eNeg = false;
  for (; p < end; p++) {
    let c = <u32>load<u8>(p);
    let d = c - 0x30;
    if (d <= 9) {
      if (inExp) e = min(e * 10 + <i32>d, 100000);
      else {
        mant = mant * 10 + <f64>d;
        if (frac) exp--;
      }
    } else if (c == 0x2E) frac = true;
    else if (c == 0x2D) {
      if (inExp) eNeg = true; else neg = true;
    } else if (c != 0x2B) inExp = true; // e / E
  }
  exp += eNeg ? -e : e;
  // mant * 10^exp: one rounding for exact mantissas and |exp| <= 22
  let pw: f64 = 1, b: f64 = 10;
  for (let x = exp < 0 ? -exp : exp; x > 0; x >>= 1) {
    if (x & 1) pw *= b;
    b *= b;
  }
  let v = mant == 0 ? 0 : exp < 0 ? mant / pw : mant * pw;
  return neg ? -v : v;
}

