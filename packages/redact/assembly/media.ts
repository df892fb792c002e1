// Reading the content-type, content-encoding and content-length header values (raw bytes).
import { bufferByte } from "./bytes";
import { BodyMode } from "./rules";
import { ContentTypes } from "./config";

const SPACE: u32 = 0x20;
const TAB: u32 = 0x09;
const SEMICOLON: u32 = 0x3b;

/** The media type in `b` (after spaces, ASCII case-insensitive) is `lit`, or starts with it when `prefixOnly`. */
export function mediaIs(b: ArrayBuffer, lit: string, prefixOnly: bool): bool {
  let n = b.byteLength;
  let i = 0;
  while (i < n && bufferByte(b, i) == SPACE) i++;
  let m = lit.length;
  if (i + m > n) return false;
  for (let j = 0; j < m; j++) {
    let c = bufferByte(b, i + j);
    if (c - 0x41 < 26) c |= 0x20;
    if (c != <u32>lit.charCodeAt(j)) return false;
  }
  if (prefixOnly || i + m == n) return true;
  let c = bufferByte(b, i + m);
  return c == SEMICOLON || c == SPACE || c == TAB;
}

/** application/<anything>+json */
function isPlusJson(b: ArrayBuffer): bool {
  if (!mediaIs(b, "application/", true)) return false;
  let e = b.byteLength;
  for (let i = 0; i < e; i++) if (bufferByte(b, i) == SEMICOLON) { e = i; break; }
  while (e > 0 && bufferByte(b, e - 1) == SPACE) e--;
  if (e < 5 || bufferByte(b, e - 5) != 0x2b) return false; // +
  let suffix = "json";
  for (let k = 0; k < 4; k++) if ((bufferByte(b, e - 4 + k) | 0x20) != <u32>suffix.charCodeAt(k)) return false;
  return true;
}

/** True for an absent, empty or `identity` content-encoding. */
export function isIdentity(enc: ArrayBuffer | null): bool {
  return enc === null || enc.byteLength == 0 || mediaIs(enc, "identity", false);
}

/**
 * How a body of this content-type is read: json, text or form when listed in `types`; a body
 * without content-type and one of any other type by the two postures; else Skip.
 */
export function bodyModeOf(ct: ArrayBuffer | null, types: ContentTypes, scanMissing: bool, scanOther: bool): BodyMode {
  if (ct === null || ct.byteLength == 0) return scanMissing ? BodyMode.Text : BodyMode.Skip;
  if (mediaIs(ct, "application/x-www-form-urlencoded", false)) return types & ContentTypes.Form ? BodyMode.Form : BodyMode.Skip;
  if (mediaIs(ct, "text/", true)) return types & ContentTypes.Text ? BodyMode.Text : BodyMode.Skip;
  if (mediaIs(ct, "application/json", false) || isPlusJson(ct)) return types & ContentTypes.Json ? BodyMode.Json : BodyMode.Skip;
  return scanOther ? BodyMode.Text : BodyMode.Skip;
}

/** Decimal value of a content-length (u32.MAX_VALUE when not a plain number or too large). */
export function parseLength(b: ArrayBuffer): u32 {
  let n = b.byteLength;
  if (n == 0 || n > 10) return u32.MAX_VALUE;
  let v: u64 = 0;
  for (let i = 0; i < n; i++) {
    let d = bufferByte(b, i) - 0x30;
    if (d > 9) return u32.MAX_VALUE;
    v = v * 10 + d;
  }
  return v > <u64>u32.MAX_VALUE ? u32.MAX_VALUE : <u32>v;
}
