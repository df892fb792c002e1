/**
 * What the fuzzer knows per filter: the config its exchanges run with, how to plant what the
 * filter-specific invariant checks into a random exchange, and that check. A filter without a
 * profile gets the generic invariants only (no trap, flat memory, configs).
 */
import type { Rng } from './rng';
import { type ExchangeSpec, fromSpecBytes, rechunk, token, textBody, jsonValue } from './gen';
import type { Outcome } from './driver';
import { notHung } from './invariants';

export interface Planted { spec: ExchangeSpec; note: Record<string, unknown> }

export interface Profile {
  /** The config the random exchanges run with (default: examples/lab.json). */
  config?: unknown;
  /** Changes a random exchange so that it carries what `check` looks for. */
  plant?: (rng: Rng, spec: ExchangeSpec) => Planted;
  /** The filter-specific invariant. */
  check?: (o: Outcome, planted: Planted) => string | null;
  /** Error lines for refusals a JSON schema cannot express (a schema-valid config refused with
   *  exactly one such line is right). Keep each as narrow as the README's own rule. */
  beyondSchema?: RegExp[];
  /** What the counts line calls the planted cases. */
  counts?: (planted: Planted) => string;
}

// ------------------------------------------------------------------ redact
const REDACT_SCANNED = ['application/json', 'application/json; charset=utf-8', 'Application/Vnd.Api+JSON', 'text/plain', 'text/html; charset=utf-8', 'TEXT/CSV', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', null] as const;
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const alnum = (rng: Rng, n: number) => { let s = ''; for (let i = 0; i < n; i++) s += rng.pick([...ALNUM]); return s; };

function luhnCard(rng: Rng): string {
  const d = [4, ...Array.from({ length: 14 }, () => rng.int(10))];
  let sum = 0;
  for (let i = 0; i < 15; i++) { let x = d[14 - i]; if (i % 2 === 0) { x *= 2; if (x > 9) x -= 9; } sum += x; }
  d.push((10 - (sum % 10)) % 10);
  const sep = rng.pick(['', ' ', '-']);
  return [0, 4, 8, 12].map((i) => d.slice(i, i + 4).join('')).join(sep);
}

/** [kind, text before the secret, the secret]: the secret is what must never arrive. */
function redactSecret(rng: Rng): [string, string, string] {
  switch (rng.int(6)) {
    case 0: return ['marker', 'SECRET=', `Zq${alnum(rng, 10)}`];
    case 1: return ['email', '', `zq.${alnum(rng, 6).toLowerCase()}@example.org`];
    case 2: return ['card', 'card ', luhnCard(rng)];
    case 3: return ['bearer', 'Bearer ', `Zq9${alnum(rng, 20)}`]; // 8+ characters, not only letters (README)
    case 4: return ['cloud_key', 'key ', `AKIA${Array.from({ length: 16 }, () => rng.pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'])).join('')}`];
    default: return ['pattern', 'ssn ', `${rng.range(100, 899)}-${rng.range(10, 99)}-${rng.range(1000, 9999)}`];
  }
}

const isForm = (ct: string | null) => !!ct && ct.toLowerCase().startsWith('application/x-www-form-urlencoded');
const isJson = (ct: string | null) => !!ct && /json/i.test(ct);

/** A body of type `ct` holding `lead + secret` standing alone between random content. */
function redactBody(rng: Rng, ct: string | null, lead: string, secret: string, size: number): string {
  if (isJson(ct)) {
    const doc: Record<string, unknown> = { a: jsonValue(rng), note: textBody(rng, rng.int(Math.min(size, 2000))) };
    if (rng.chance(0.3)) doc.password = secret; // a jsonField rule
    else doc[token(rng)] = `${textBody(rng, rng.int(20))} ${lead}${secret} ${textBody(rng, rng.int(20))}`.replace(/\s+/g, ' ');
    doc.z = jsonValue(rng);
    let s = JSON.stringify(doc);
    if (rng.chance(0.3)) s = s.replace(/\//g, '\\/'); // an escape the JSON reader must follow
    return s;
  }
  if (isForm(ct)) {
    const enc = (v: string) => rng.chance(0.5) ? encodeURIComponent(v).replace(/%20/g, '+') : encodeURIComponent(v);
    const pad = `n=${enc(textBody(rng, rng.int(Math.min(size, 2000))))}`;
    return `${pad}&s=${enc(lead + secret)}&m=${enc(textBody(rng, rng.int(40)))}`;
  }
  const noise = textBody(rng, rng.int(Math.min(size, 4000))).replace(/\s+$/, '');
  return `${noise} ${lead}${secret} ${textBody(rng, rng.int(40))}`;
}

/** What the other side sees, decoded the way the content type is read (form fields, JSON). */
function seen(b: Uint8Array, ct: string | null): string {
  const t = Buffer.from(b).toString('utf8');
  if (isForm(ct)) return t.split(/[&;]/).map((f) => { try { return decodeURIComponent(f.replace(/\+/g, ' ')); } catch { return f; } }).join('&');
  if (isJson(ct)) return t.replace(/\\\//g, '/');
  return t;
}

export const redact: Profile = {
  config: { rules: [{ marker: 'SECRET=' }, { jsonField: 'password' }, { detector: 'email' }, { detector: 'credit_card' }, { detector: 'bearer_token' }, { detector: 'cloud_key' }, { pattern: '\\d{3}-\\d{2}-\\d{4}' }] },
  plant(rng, spec) {
    const [kind, lead, secret] = redactSecret(rng);
    const ct = rng.pick(REDACT_SCANNED);
    const direction = rng.pick(['request', 'response'] as const);
    const b = redactBody(rng, ct, lead, secret, spec.response.body && typeof spec.response.body === 'string' ? spec.response.body.length : 2000);
    const hs = (l: ExchangeSpec['headers']) => [...l.filter(([k]) => k !== 'content-type' && k !== 'content-encoding'), ...(ct ? [['content-type', ct] as [string, string]] : [])];
    const out: ExchangeSpec = direction === 'request'
      ? { ...spec, method: 'POST', headers: hs(spec.headers), body: b }
      : { ...spec, response: { ...spec.response, headers: hs(spec.response.headers), body: b } };
    return { spec: rechunk(out), note: { kind, secret, contentType: ct, direction } };
  },
  check(o, { note }) {
    const secret = note.secret as string;
    const b = note.direction === 'request' ? o.upstream?.body : o.client?.body;
    if (!b) return null; // refused or never sent: nothing reached the other side
    return seen(b, note.contentType as string | null).includes(secret) ? `the planted ${note.kind} secret ${JSON.stringify(secret)} reached the ${note.direction === 'request' ? 'upstream' : 'client'} (${note.contentType ?? 'no content-type'})` : null;
  },
  counts: ({ note }) => `${note.kind}`,
  // what schema.json cannot say: the pattern syntax (the README's "Pattern rules" subset and its
  // size bound, checked by the filter's own compiler), "each detector at most once" across rules,
  // and a marker that the mask contains (a relation between two fields)
  beyondSchema: [/^config\.rules\[\d+\]\.pattern: /, /^config\.rules\[\d+\]\.detector: listed twice$/, /^config\.rules\[\d+\]\.marker: the mask contains the marker$/],
};

// ------------------------------------------------------------------ blocklist
const DENIED = { wildcard: '*.example.com', idn: 'bücher.test', ipv6: '2001:db8::1', ipv4: '10.1.2.3' };

function randomCase(rng: Rng, s: string): string { return [...s].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join(''); }

/** A spelling of a denied host that Envoy accepts as an :authority. */
function deniedSpelling(rng: Rng): [string, string] {
  const port = () => (rng.chance(0.4) ? `:${rng.pick([80, 443, 8080, 65535])}` : '');
  const dot = () => (rng.chance(0.3) ? '.' : '');
  const user = () => (rng.chance(0.1) ? 'user@' : '');
  switch (rng.int(4)) {
    case 0: { const sub = Array.from({ length: rng.range(1, 3) }, () => token(rng, 8).replace(/[^a-z0-9-]/g, 'a').replace(/^-|-$/g, 'a')).join('.'); return ['wildcard', `${user()}${randomCase(rng, `${sub}.example.com`)}${dot()}${port()}`]; }
    case 1: return ['idn', `${user()}${rng.pick(['bücher.test', 'BÜCHER.TEST', 'Bücher.Test', 'xn--bcher-kva.test', 'XN--BCHER-KVA.TEST'])}${dot()}${port()}`];
    case 2: {
      const v6 = rng.pick(['2001:db8::1', '2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8:0:0:0:0:0:1', '2001:0DB8::0001', '2001:db8::0:1']);
      return ['ipv6', `${user()}[${v6}]${port()}`];
    }
    default: return ['ipv4', `${user()}10.1.2.3${port()}`];
  }
}

export const blocklist: Profile = {
  config: { mode: 'deny', deny: Object.values(DENIED), response: { status: 451, body: 'blocked by wasm' } },
  plant(rng, spec) {
    const [kind, authority] = deniedSpelling(rng);
    return { spec: { ...spec, authority }, note: { kind, authority } };
  },
  check(o, { note }) {
    if (o.localReply?.status === 451) return null;
    return `the denied host spelled ${JSON.stringify(note.authority)} (${note.kind}) was not refused: ${o.upstream ? 'it reached the upstream' : `client got ${o.client?.status ?? 'nothing'}`}`;
  },
  counts: ({ note }) => `${note.kind}`,
  // an entry is parsed as a host name or an IP literal (labels, IPv6 syntax, punycode): the schema
  // only excludes the characters no entry may hold; the filter names the entry it refuses
  beyondSchema: [/^config\.(deny|allow)\[\d+\]: ".*": /],
};

// ------------------------------------------------------------------ callout
export const callout: Profile = {
  config: {
    cluster: 'metadata', authority: 'metadata', path: '/users/{header.x-user}/profile', timeoutMs: 300,
    forwardHeaders: ['authorization', 'x-request-id'],
    mappings: [
      { header: 'x-meta', source: 'bodyNonEmpty', value: '1' },
      { header: 'x-user-tier', source: 'json', path: 'user.tier' },
      { header: 'x-region', source: 'header', name: 'x-region' },
    ],
    onFailure: { mode: 'open', header: 'x-callout-error' },
    cache: { keyHeader: 'x-user', ttlMs: 30000, maxEntries: 64 },
  },
  plant(rng, spec) {
    const hs = [...spec.headers];
    if (rng.chance(0.7)) hs.push(['x-user', rng.pick(['alice', '..', '.', '%2e%2e', 'a/b', 'é', token(rng)])]);
    return { spec: { ...spec, headers: hs }, note: { answers: spec.calls.map((c) => c.kind + (c.delay ? `+${c.delay}` : '')).join(',') } };
  },
  check: (o) => notHung(o),
  counts: (p) => (p.spec.calls[0]?.kind ?? 'none'),
};

export const PROFILES: Record<string, Profile> = { redact, blocklist, callout };

/** Used by tests: the bytes of a planted body are what the profile says. */
export const _internal = { seen, luhnCard, deniedSpelling, fromSpecBytes };
