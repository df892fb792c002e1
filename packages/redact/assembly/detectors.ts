// Markers and the built-in detectors. Each is tried at a byte the trigger table points to and
// returns the index to continue at, or -1 when nothing starts there.
import { addressOf, byteAt, bytesEqual, entry8, wordAt } from "./bytes";
import { BodyMode, ByteClass, Delim, Detector, Marker, isClass } from "./rules";
import { ScanState } from "./state";

const BACKSLASH: u32 = 0x5c;
const AMPERSAND: u32 = 0x26;
/** "earer" after B/b, lower-cased, as the little-endian word of its first four bytes. */
const EARE_WORD: u32 = 0x65726165; // e a r e
const ASCII_LOWER_WORD: u32 = 0x20202020;
const AKIA: u32 = 0x41494b41; // "AKIA" little-endian
const ASIA: u32 = 0x41495341;
const ABIA: u32 = 0x41494241;
const ACCA: u32 = 0x41434341;
const AIZA: u32 = 0x617a4941; // "AIza"
/** "xn--" (a punycode label), lower-cased, as a little-endian word. */
const XN_DASH_DASH: u32 = 0x2d2d6e78;

/** The character a JSON escape `\c` stands for, or -1 for `\u` (judged as part of a value). */
function decodedEscape(c: u32): i32 {
  switch (c) {
    case 0x6e: return 0x0a; // \n
    case 0x72: return 0x0d; // \r
    case 0x74: return 0x09; // \t
    case 0x62: return 0x08; // \b
    case 0x66: return 0x0c; // \f
    case 0x75: return -1; // \uXXXX
  }
  return <i32>c; // \" \\ \/ (and anything else) stand for themselves
}

/** End of a marker's value starting at `from` (delimiter tables of the marker). */
function valueEnd(s: ScanState, m: Marker, from: i32): i32 {
  let ends = s.mode == BodyMode.Json ? m.jsonEnds : m.textEnds;
  let p = s.start;
  let n = s.length;
  let e = from;
  while (e < n) {
    let c = byteAt(p, e);
    let d = entry8(ends, c);
    // in a decoded form field a `&` is data: it was sent as %26
    if (d == Delim.Value || (c == AMPERSAND && s.encodeForm)) { e++; continue; }
    if (d == Delim.Escape && e + 1 < n) {
      // An escape is judged by the character it stands for: `\"` (JSON nested in a JSON string)
      // ends the value like a quote in text; `\\`, `\/` and `\uXXXX` are part of it. The mask
      // never splits an escape, so the JSON stays valid.
      let x = decodedEscape(s.at(e + 1));
      if (x >= 0 && entry8(m.textEnds, <u32>x) == Delim.End) break;
      e = min(e + (s.at(e + 1) == 0x75 ? 6 : 2), n);
      continue;
    }
    break;
  }
  return e;
}

/** A marker at i: masks its value. */
export function tryMarkers(s: ScanState, i: i32): i32 {
  let markers = s.rules.markers;
  let mask = s.rules.mask;
  let c = s.at(i);
  for (let k = 0, count = markers.length; k < count; k++) {
    let m = unchecked(markers[k]);
    let len = m.bytes.byteLength;
    if (byteAt(addressOf(m.bytes), 0) != c || i + len > s.length || !bytesEqual(s.start + <usize>i, len, m.bytes)) continue;
    let from = i + len;
    // A value that is exactly the mask was masked before (an upstream echoing a redacted request):
    // it is left as it is. The mask is read whole even when it holds a delimiter (`]` of
    // "[REDACTED]"), so a value that only starts with the mask is masked whole.
    let e = from;
    let ml = mask.byteLength;
    let m0 = byteAt(addressOf(mask), 0);
    while (e + ml <= s.length && s.at(e) == m0 && bytesEqual(s.start + <usize>e, ml, mask)) e += ml;
    e = valueEnd(s, m, e);
    if (e == from) return from; // marker without a value: nothing to mask
    if (e - from == ml && bytesEqual(s.start + <usize>from, ml, mask)) return e;
    s.replace(from, e, mask, m.rule);
    return e;
  }
  return -1;
}

/** E-mail address around the `@` at i. */
export function tryEmail(s: ScanState, i: i32): i32 {
  let ls = i;
  let lim = max(s.copied, i - 64);
  while (ls > lim && isClass(s.at(ls - 1), ByteClass.Local) && !(ls >= 2 && s.at(ls - 2) == BACKSLASH && s.mode != BodyMode.Form)) ls--;
  if (ls == i) return -1;
  let n = s.length;
  let e = i + 1;
  let lim2 = min(n, i + 256);
  while (e < lim2 && isClass(s.at(e), ByteClass.Domain)) e++;
  while (e > i + 1 && (s.at(e - 1) == 0x2e || s.at(e - 1) == 0x2d)) e--;
  // a top-level domain: 2+ letters, non-ASCII bytes (IDN) or a punycode label (xn--…)
  let d = e;
  let plain = true;
  while (d > i + 1 && s.at(d - 1) != 0x2e) {
    if (!isClass(s.at(d - 1), ByteClass.Alpha) && s.at(d - 1) < 0x80) plain = false;
    d--;
  }
  if (d <= i + 2 || e - d < 2) return -1;
  if (!plain && !(e - d > 4 && (wordAt(s.start, d) | ASCII_LOWER_WORD) == XN_DASH_DASH)) return -1;
  s.replace(ls, e, s.rules.mask, s.rules.detectorRule(Detector.Email));
  return e;
}

/** Luhn check of the digits in [from, to) (other bytes are separators). */
function luhn(s: ScanState, from: i32, to: i32): bool {
  let sum = 0;
  let pos = 0;
  for (let j = to - 1; j >= from; j--) {
    let d = <i32>s.at(j) - 0x30;
    if (<u32>d >= 10) continue;
    if (pos & 1) { d <<= 1; if (d > 9) d -= 9; }
    sum += d;
    pos++;
  }
  return sum % 10 == 0;
}

const MAX_CARD_RUN_DIGITS = 64;

/**
 * Card numbers: a run of digit groups (single spaces or dashes between them). The run is masked
 * when it is 13–19 digits and passes Luhn; otherwise the windows of whole groups with 13–19 digits
 * are tried and the longest valid one is masked ("4111 1111 1111 1111 123" masks the first 16).
 */
export function tryCard(s: ScanState, i: i32): i32 {
  if (!s.wordStart(i, ByteClass.Alnum)) return -1;
  let n = s.length;
  let k = i;
  let digits = 0;
  let end = i;
  while (k < n) {
    let b = s.at(k);
    if (b - 0x30 < 10) {
      digits++;
      k++;
      end = k;
      continue;
    }
    if ((b == 0x20 || b == 0x2d) && k > i && k + 1 < n && s.at(k + 1) - 0x30 < 10 && digits < MAX_CARD_RUN_DIGITS) { k++; continue; }
    break;
  }
  if (end < n && isClass(s.at(end), ByteClass.Alnum)) {
    // The last group is glued to a word ("… 1111 12ab"): it is no part of a card number, but the
    // groups before it may be one.
    let g = end;
    while (g > i && s.at(g - 1) - 0x30 < 10) g--;
    if (g <= i) return -1;
    digits -= end - g;
    end = g - 1; // the separator before that group
  }
  if (digits < 13) return -1;
  let rule = s.rules.detectorRule(Detector.Card);
  if (digits <= 19 && luhn(s, i, end)) {
    s.replace(i, end, s.rules.mask, rule);
    return end;
  }
  // windows of whole groups with 13-19 digits: the longest valid one, leftmost on a tie
  let bestStart = -1, bestEnd = -1, bestDigits = 0;
  for (let a = i; a < end; ) {
    let count = 0;
    for (let j = a; j < end && count < 19; j++) {
      if (s.at(j) - 0x30 >= 10) continue;
      count++;
      let groupEnd = j + 1 == end || s.at(j + 1) - 0x30 >= 10;
      if (groupEnd && count >= 13 && count > bestDigits && luhn(s, a, j + 1)) {
        bestStart = a;
        bestEnd = j + 1;
        bestDigits = count;
      }
    }
    while (a < end && s.at(a) - 0x30 < 10) a++; // next group
    while (a < end && s.at(a) - 0x30 >= 10) a++;
  }
  if (bestStart < 0) return -1;
  s.replace(bestStart, bestEnd, s.rules.mask, rule);
  return bestEnd;
}

/** True when a JSON body has the escape `\/` at e (a `/` in a token). */
// @ts-ignore: decorator
@inline function escapedSlash(s: ScanState, e: i32): bool {
  return s.mode == BodyMode.Json && s.at(e) == BACKSLASH && e + 1 < s.length && s.at(e + 1) == 0x2f;
}

/** The token after "Bearer " at i. */
export function tryBearer(s: ScanState, i: i32): i32 {
  let n = s.length;
  if (i + 7 > n || !s.wordStart(i, ByteClass.Alnum)) return -1;
  if ((wordAt(s.start, i + 1) | ASCII_LOWER_WORD) != EARE_WORD || (s.at(i + 5) | 0x20) != 0x72) return -1;
  let from = i + 6;
  while (from < n && (s.at(from) == 0x20 || s.at(from) == 0x09)) from++;
  if (from == i + 6) return -1;
  let e = from;
  let plain = true;
  while (e < n) {
    if (escapedSlash(s, e)) { plain = false; e += 2; continue; }
    let b = s.at(e);
    if (!isClass(b, ByteClass.Token)) break;
    if (!isClass(b, ByteClass.Alpha)) plain = false;
    e++;
  }
  // "Bearer authentication" is prose, not a token: need 8+ chars, not only letters
  if (e - from < 8 || plain) return -1;
  s.replace(from, e, s.rules.mask, s.rules.detectorRule(Detector.Bearer));
  return e;
}

function base64Segment(s: ScanState, k: i32): i32 {
  while (k < s.length && isClass(s.at(k), ByteClass.Base64Url)) k++;
  return k;
}

/** "eyJ" (base64 of '{"') at k. */
function eyJ(s: ScanState, k: i32): bool {
  return k + 3 <= s.length && s.at(k) == 0x65 && s.at(k + 1) == 0x79 && s.at(k + 2) == 0x4a;
}

/** A JWT (eyJ….eyJ….signature) at i. */
export function tryJwt(s: ScanState, i: i32): i32 {
  if (!s.wordStart(i, ByteClass.Base64Url) || (i > 0 && s.at(i - 1) == 0x2e)) return -1;
  if (!eyJ(s, i)) return -1;
  let n = s.length;
  let a = base64Segment(s, i + 3);
  if (a - i < 8 || a >= n || s.at(a) != 0x2e || !eyJ(s, a + 1)) return -1;
  let b = base64Segment(s, a + 4);
  if (b - a < 8 || b >= n || s.at(b) != 0x2e) return -1;
  let c = base64Segment(s, b + 1);
  if (c < n && s.at(c) == 0x2e) return -1;
  s.replace(i, c, s.rules.mask, s.rules.detectorRule(Detector.Jwt));
  return c;
}

/** AWS access key ids (AKIA/ASIA/ABIA/ACCA + 16 [A-Z0-9]) and Google API keys (AIza + 35 [A-Za-z0-9_-]). */
export function tryCloudKey(s: ScanState, i: i32): i32 {
  let n = s.length;
  if (i + 20 > n || !s.wordStart(i, ByteClass.Alnum)) return -1;
  let w = wordAt(s.start, i);
  let len = 20;
  let klass = ByteClass.UpperNum;
  if (w == AIZA) { len = 39; klass = ByteClass.Base64Url; }
  else if (w != AKIA && w != ASIA && w != ABIA && w != ACCA) return -1;
  let e = i + len;
  if (e > n || (e < n && isClass(s.at(e), ByteClass.Base64Url))) return -1;
  for (let k = i + 4; k < e; k++) if (!isClass(s.at(k), klass)) return -1;
  s.replace(i, e, s.rules.mask, s.rules.detectorRule(Detector.CloudKey));
  return e;
}
