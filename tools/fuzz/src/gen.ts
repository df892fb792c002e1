/**
 * Random pieces of an exchange: headers (ASCII, non-ASCII and binary-ish bytes), bodies of 0–256 KiB
 * in random chunks, statuses, and the answers to the filter's http calls (shape, size and timing).
 * Everything is JSON-safe (an `ExchangeSpec`), so a failing exchange prints as its own reproduction.
 */
import type { Rng } from './rng';

/** Bytes in JSON: a string when it is valid UTF-8, else `{ base64 }`. */
export type Bytes = string | { base64: string };

export interface CallSpec {
  kind: 'answer' | 'reset' | 'timeout';
  status?: number;
  headers?: Array<[string, Bytes]>;
  body?: Bytes;
  /** Answered after this many later stream events (0: before the stream's next event). */
  delay: number;
}

export interface ExchangeSpec {
  method: string;
  path: string;
  authority: string;
  headers: Array<[string, Bytes]>;
  body: Bytes;
  /** Chunk sizes of the request body (their sum is the body's length). */
  chunks: number[];
  response: { status: number; headers: Array<[string, Bytes]>; body: Bytes; chunks: number[] };
  /** The k-th http call of the exchange gets calls[k] (a call past the end: 200, empty body). */
  calls: CallSpec[];
}

export const KiB = 1024;
export const MAX_BODY = 256 * KiB;

const utf8 = new TextDecoder('utf-8', { fatal: true });
export function toSpecBytes(b: Uint8Array): Bytes {
  try { return utf8.decode(b); } catch { return { base64: Buffer.from(b).toString('base64') }; }
}
export function fromSpecBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? new TextEncoder().encode(b) : new Uint8Array(Buffer.from(b.base64, 'base64'));
}
export function byteLength(b: Bytes): number { return fromSpecBytes(b).length; }

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~";
const WORDS = ['a', 'the', 'user', 'id', '42', 'ok', 'é', 'naïve', '日本語', 'Ωmega', '🙂', 'x=1', 'a&b', '%zz', '%E2%82%AC', '"', '\\', '{', '}', ':', ',', ';', '\t'];

export function token(rng: Rng, max = 12): string {
  let s = '';
  for (let n = rng.range(1, max); n > 0; n--) s += rng.pick([...TOKEN_CHARS]);
  return s;
}

/** A header value as Envoy accepts it: any byte but CR, LF and NUL (and other controls but tab). */
export function headerValue(rng: Rng): Bytes {
  switch (rng.int(4)) {
    case 0: return token(rng, 24);
    case 1: { // non-ASCII text
      let s = '';
      for (let n = rng.range(1, 6); n > 0; n--) s += rng.pick(WORDS) + (rng.chance(0.5) ? ' ' : '');
      return s.trim() || 'é';
    }
    case 2: { // binary-ish: obs-text bytes, printable ASCII, tab
      const b = rng.bytes(rng.range(1, 40), 0x20, 0xff);
      for (let i = 0; i < b.length; i++) if (b[i] === 0x7f || rng.chance(0.05)) b[i] = 0x09;
      return toSpecBytes(b);
    }
    default: return rng.chance(0.5) ? '' : ' padded\t';
  }
}

const KNOWN_NAMES = ['authorization', 'x-user', 'x-request-id', 'x-region', 'accept-encoding', 'cookie', 'x-forwarded-for', 'user-agent', 'x-meta', 'x-callout-error', 'x-user-tier'];

export function headers(rng: Rng, max = 10): Array<[string, Bytes]> {
  const out: Array<[string, Bytes]> = [];
  for (let n = rng.int(max + 1); n > 0; n--) out.push([rng.chance(0.5) ? rng.pick(KNOWN_NAMES) : token(rng).toLowerCase(), headerValue(rng)]);
  return out;
}

/** Mostly small bodies, some large, up to `max` (256 KiB). */
export function bodySize(rng: Rng, max = MAX_BODY): number {
  const r = rng.next();
  if (r < 0.15) return 0;
  if (r < 0.7) return rng.int(1024);
  if (r < 0.93) return rng.int(16 * KiB);
  return rng.int(max + 1);
}

export function textBody(rng: Rng, size: number): string {
  let s = '';
  while (s.length < size) s += rng.pick(WORDS) + rng.pick([' ', ' ', '\n', '', '&', '=']);
  // never cut a surrogate pair (a lone surrogate is no text, and encodeURIComponent refuses it)
  return s.slice(0, /[\ud800-\udbff]/.test(s[size - 1] ?? '') ? size - 1 : size);
}

export function jsonValue(rng: Rng, depth = 0, budget = { left: 4000 }): unknown {
  budget.left--;
  const r = rng.int(depth > 3 || budget.left <= 0 ? 4 : 6);
  switch (r) {
    case 0: return rng.chance(0.5) ? rng.int(1e9) : rng.next() * 1e6 - 5e5;
    case 1: return textBody(rng, rng.int(30));
    case 2: return rng.pick([true, false, null]);
    case 3: return '';
    case 4: { const a: unknown[] = []; for (let n = rng.int(6); n > 0; n--) a.push(jsonValue(rng, depth + 1, budget)); return a; }
    default: { const o: Record<string, unknown> = {}; for (let n = rng.int(6); n > 0; n--) o[rng.chance(0.3) ? rng.pick(['password', 'token', 'ssn', 'user', 'id']) : token(rng)] = jsonValue(rng, depth + 1, budget); return o; }
  }
}

export type BodyKind = 'text' | 'json' | 'form' | 'binary';

/** At most `size` bytes of UTF-8, cut at a character boundary. */
export function fitBytes(s: string, size: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= size) return s;
  let n = size;
  while (n > 0 && (b[n] & 0xc0) === 0x80) n--;
  return b.subarray(0, n).toString('utf8');
}

export function body(rng: Rng, kind: BodyKind, size: number): Bytes {
  const b = anyBody(rng, kind, size);
  return typeof b === 'string' ? fitBytes(b, size) : b;
}

function anyBody(rng: Rng, kind: BodyKind, size: number): Bytes {
  if (size === 0) return '';
  switch (kind) {
    case 'text': return textBody(rng, size);
    case 'json': {
      const parts: string[] = [];
      let len = 2;
      for (let tries = 0; len < size && tries < 10000; tries++) {
        const p = JSON.stringify(jsonValue(rng));
        if (len + p.length + 1 > size && parts.length) { if (size - len < 8) break; continue; }
        parts.push(p); len += p.length + 1;
      }
      return `[${parts.join(',')}]`;
    }
    case 'form': {
      const parts: string[] = [];
      let len = 0;
      while (len < size) { const p = `${encodeURIComponent(token(rng))}=${rng.chance(0.8) ? encodeURIComponent(textBody(rng, rng.int(40))).replace(/%20/g, '+') : textBody(rng, rng.int(10))}`; parts.push(p); len += p.length + 1; }
      return parts.join(rng.chance(0.9) ? '&' : ';').slice(0, Math.max(size, 1));
    }
    default: return toSpecBytes(rng.bytes(size));
  }
}

/** Random chunking of `length` bytes: one chunk, fixed small chunks, or random cuts. */
export function chunks(rng: Rng, length: number): number[] {
  if (length === 0) return [];
  const style = rng.int(4);
  const out: number[] = [];
  if (style === 0) return [length];
  const fixed = style === 1 ? rng.pick([1, 2, 3, 7, 64, 1024, 4096]) : 0;
  // at most ~512 chunks: a 256 KiB body in 1-byte chunks would only measure the host
  const minSize = Math.max(1, Math.ceil(length / 512));
  for (let at = 0; at < length;) {
    const n = Math.min(length - at, Math.max(minSize, fixed || rng.range(1, Math.max(1, Math.min(length, 8 * KiB)))));
    out.push(n);
    at += n;
  }
  return out;
}

export const STATUSES = [200, 200, 200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 408, 413, 429, 451, 500, 502, 503, 504, 599];
export function status(rng: Rng): number { return rng.chance(0.8) ? rng.pick(STATUSES) : rng.range(200, 599); }

export const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json', 'text/plain', 'TEXT/HTML; charset=ISO-8859-1', 'text/csv',
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'application/octet-stream', 'image/png', 'multipart/form-data; boundary=x', null] as const;

/** The answer to one http call: a status with random headers and a body of random shape and size, a reset or a timeout. */
export function callAnswer(rng: Rng): CallSpec {
  const delay = rng.chance(0.6) ? 0 : rng.int(6);
  const r = rng.next();
  if (r < 0.08) return { kind: 'reset', delay };
  if (r < 0.16) return { kind: 'timeout', delay };
  const kind: BodyKind = rng.pick(['json', 'json', 'json', 'text', 'binary']);
  const size = rng.chance(0.1) ? rng.int(MAX_BODY + 1) : rng.int(2 * KiB);
  let b: Bytes;
  if (kind === 'json' && rng.chance(0.6)) {
    // objects like a metadata service's, sometimes with many keys (the quadratic duplicate-key finding)
    const o: Record<string, unknown> = { user: { tier: rng.pick(['gold', 'free', 1, true, null, '..', 'a\r\nb']) }, headers: { Host: 'metadata' } };
    const keys = rng.chance(0.1) ? rng.int(12000) : rng.int(20);
    for (let i = 0; i < keys; i++) o[`k${i}`] = i;
    b = JSON.stringify(o);
  } else b = body(rng, kind, size);
  const hs = headers(rng, 6);
  if (rng.chance(0.5)) hs.push(['x-region', headerValue(rng)]);
  if (rng.chance(0.7)) hs.push(['content-type', kind === 'json' ? 'application/json' : 'text/plain']);
  return { kind: 'answer', status: status(rng), headers: hs, body: b, delay };
}

/** The largest answers `callAnswer` makes, one per shape (warm-up): 12,000 keys, 256 KiB of JSON, text, bytes. */
export function largestCallAnswer(rng: Rng, k: number): CallSpec {
  let b: Bytes;
  switch (k % 4) {
    case 0: { const o: Record<string, unknown> = { user: { tier: 'gold' }, headers: { Host: 'metadata' } }; for (let i = 0; i < 12000; i++) o[`k${i}`] = i; b = JSON.stringify(o); break; }
    case 1: b = body(rng, 'json', MAX_BODY); break;
    case 2: b = body(rng, 'text', MAX_BODY); break;
    default: b = body(rng, 'binary', MAX_BODY);
  }
  return { kind: 'answer', status: 200, headers: [['content-type', k % 4 < 2 ? 'application/json' : 'text/plain'], ['x-region', 'eu']], body: b, delay: 0 };
}

/** A whole random exchange. `shape` lets a filter's profile plant what it checks. */
export function exchange(rng: Rng): ExchangeSpec {
  const kind: BodyKind = rng.pick(['text', 'json', 'form', 'binary']);
  const reqBody = body(rng, kind, bodySize(rng));
  const h = headers(rng);
  const ct = rng.pick(CONTENT_TYPES);
  if (ct) h.push(['content-type', ct]);
  const respKind: BodyKind = rng.pick(['text', 'json', 'form', 'binary']);
  const respBody = body(rng, respKind, bodySize(rng));
  const rh = headers(rng, 6);
  const rct = rng.pick(CONTENT_TYPES);
  if (rct) rh.push(['content-type', rct]);
  const calls: CallSpec[] = [];
  for (let n = rng.range(1, 3); n > 0; n--) calls.push(callAnswer(rng));
  return {
    method: rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']),
    path: rng.pick(['/', '/get', '/anything', '/users/1?x=y', `/${token(rng)}/${encodeURIComponent(textBody(rng, 8))}`, '/a;jsessionid=1?q=é']),
    authority: rng.pick(['localhost', 'svc', 'api.example.com', 'Example.ORG:8080', '[::1]:80', 'bücher.de']),
    headers: h,
    body: reqBody,
    chunks: chunks(rng, byteLength(reqBody)),
    response: { status: status(rng), headers: rh, body: respBody, chunks: chunks(rng, byteLength(respBody)) },
    calls,
  };
}

/** Keeps the chunking consistent after a body change (used by profiles and the shrinker). */
export function rechunk(spec: ExchangeSpec): ExchangeSpec {
  const fit = (cs: number[], len: number) => {
    const out: number[] = [];
    let at = 0;
    for (const c of cs) { if (at >= len) break; const n = Math.min(c, len - at); out.push(n); at += n; }
    if (at < len) out.push(len - at);
    return out;
  };
  return { ...spec, chunks: fit(spec.chunks, byteLength(spec.body)), response: { ...spec.response, chunks: fit(spec.response.chunks, byteLength(spec.response.body)) } };
}
