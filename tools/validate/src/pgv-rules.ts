/**
 * protoc-gen-validate's scalar rules (numbers and durations, strings, bytes) as Envoy enforces
 * them, for ProtoJsonChecker (protojson.ts): each check reports through `error` and goes on.
 */
import { isIP } from 'node:net';
import type { PathSeg } from './issues';

/** Where a rule reports a violation. */
export type Report = (path: PathSeg[], message: string) => void;

const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// Control characters are the point of these two: Envoy's header-value rules reject them.
// eslint-disable-next-line no-control-regex -- see above
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex -- see above
const HEADER_LAX = /^[^\u0000\u000A\u000D]*$/;

export function compareNumber(error: Report, label: string, n: number, r: Record<string, unknown>, path: PathSeg[], conv: (x: unknown) => number, unit: string): void {
  const fmt = (x: number) => `${x}${unit}`;
  const has = (k: string) => r[k] !== undefined;
  if (has('const') && n !== conv(r.const)) error(path, `${label} must equal ${fmt(conv(r.const))}`);
  const lo = has('gt') ? conv(r.gt) : has('gte') ? conv(r.gte) : undefined;
  const hi = has('lt') ? conv(r.lt) : has('lte') ? conv(r.lte) : undefined;
  const aboveLo = lo === undefined || (has('gt') ? n > lo : n >= lo);
  const belowHi = hi === undefined || (has('lt') ? n < hi : n <= hi);
  const loText = lo === undefined ? '' : `${has('gt') ? '>' : '>='} ${fmt(lo)}`;
  const hiText = hi === undefined ? '' : `${has('lt') ? '<' : '<='} ${fmt(hi)}`;
  if (lo !== undefined && hi !== undefined && hi < lo) {
    // PGV exclusive range: the value must lie outside [hi, lo].
    if (!aboveLo && !belowHi) error(path, `${label} must be ${hiText} or ${loText}, got ${fmt(n)}`);
  } else if (!aboveLo || !belowHi) {
    error(path, `${label} must be ${[loText, hiText].filter(Boolean).join(' and ')}, got ${fmt(n)}`);
  }
  if (Array.isArray(r.in) && !r.in.map(conv).includes(n)) error(path, `${label} must be one of ${r.in.map(conv).map(fmt).join(', ')}`);
  if (Array.isArray(r.not_in) && r.not_in.map(conv).includes(n)) error(path, `${label} must not be ${fmt(n)}`);
}

export function stringRules(error: Report, label: string, s: string, r: Record<string, unknown>, path: PathSeg[]): void {
  const chars = [...s].length;
  const bytes = Buffer.byteLength(s);
  const num = (k: string) => (r[k] === undefined ? undefined : Number(r[k]));
  if (num('len') !== undefined && chars !== num('len')) error(path, `${label} must be exactly ${r.len} characters`);
  if (num('min_len') !== undefined && chars < num('min_len')!) error(path, `${label} must be at least ${r.min_len} character(s) long${chars === 0 ? ' (it is empty or missing)' : ''}`);
  if (num('max_len') !== undefined && chars > num('max_len')!) error(path, `${label} must be at most ${r.max_len} characters`);
  if (num('min_bytes') !== undefined && bytes < num('min_bytes')!) error(path, `${label} must be at least ${r.min_bytes} byte(s)${bytes === 0 ? ' (it is empty or missing)' : ''}`);
  if (num('max_bytes') !== undefined && bytes > num('max_bytes')!) error(path, `${label} must be at most ${r.max_bytes} bytes`);
  if (typeof r.prefix === 'string' && !s.startsWith(r.prefix)) error(path, `${label} must start with ${JSON.stringify(r.prefix)}`);
  if (typeof r.suffix === 'string' && !s.endsWith(r.suffix)) error(path, `${label} must end with ${JSON.stringify(r.suffix)}`);
  if (typeof r.contains === 'string' && !s.includes(r.contains)) error(path, `${label} must contain ${JSON.stringify(r.contains)}`);
  if (typeof r.not_contains === 'string' && s.includes(r.not_contains)) error(path, `${label} must not contain ${JSON.stringify(r.not_contains)}`);
  if (Array.isArray(r.in) && !r.in.includes(s)) error(path, `${label} must be one of ${r.in.map((x) => JSON.stringify(x)).join(', ')}`);
  if (Array.isArray(r.not_in) && r.not_in.includes(s)) error(path, `${label} must not be ${JSON.stringify(s)}`);
  if (typeof r.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(r.pattern, 'u');
    } catch {
      re = undefined; // RE2-only syntax: not enforceable here.
    }
    if (re && !re.test(s)) error(path, `${label} does not match ${r.pattern}`);
  }
  if (typeof r.well_known_regex === 'string' && s !== '') {
    const strict = r.strict !== false;
    const re = r.well_known_regex === 'HTTP_HEADER_NAME' ? (strict ? HEADER_NAME_STRICT : HEADER_LAX) : strict ? HEADER_VALUE_STRICT : HEADER_LAX;
    if (!re.test(s)) error(path, `${label} is not a valid ${r.well_known_regex === 'HTTP_HEADER_NAME' ? 'HTTP header name' : 'HTTP header value'}`);
  }
  if (r.ip === true && !isIP(s)) error(path, `${label} must be an IP address`);
  if (r.ipv4 === true && isIP(s) !== 4) error(path, `${label} must be an IPv4 address`);
  if (r.ipv6 === true && isIP(s) !== 6) error(path, `${label} must be an IPv6 address`);
  if (r.hostname === true && !/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(s)) error(path, `${label} must be a hostname`);
  if (r.uri === true && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) error(path, `${label} must be an absolute URI`);
}

export function bytesRules(error: Report, label: string, b64: string, r: Record<string, unknown>, path: PathSeg[]): void {
  const n = Buffer.from(b64, 'base64').length;
  if (r.min_len !== undefined && n < Number(r.min_len)) error(path, `${label} must be at least ${r.min_len} byte(s)`);
  if (r.max_len !== undefined && n > Number(r.max_len)) error(path, `${label} must be at most ${r.max_len} bytes`);
}
