// The redaction bypasses of the security review (issue 13), one test per class of input.
// REDACT_WASM=<path> runs them against another build (e.g. the previous release, where they fail).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';

const wasmPath = process.env.REDACT_WASM ?? join(__dirname, '..', 'dist', 'redact.wasm');
let mod: WebAssembly.Module;

beforeAll(async () => {
  mod = await WebAssembly.compile(readFileSync(wasmPath));
});

async function plugin(config: unknown): Promise<Plugin> {
  const p = await loadPlugin(mod, { config: config as object, pluginName: 'redact', rootId: 'redact', logLevel: 'info' });
  expect(p.configured).toBe(true);
  return p;
}

/** The body the upstream receives for `body` sent with `contentType` (null: no content-type header). */
async function upstream(p: Plugin, body: string | Uint8Array, contentType: string | null, chunkSize?: number): Promise<string> {
  const r = await p.exchange({
    method: 'POST', path: '/', authority: 'svc',
    headers: contentType === null ? [] : [['content-type', contentType]],
    body, chunkSize,
    response: { status: 204 },
  });
  expect(r.failed).toBe(false);
  return r.request!.body;
}

const LAB = { rules: [{ marker: 'SECRET=' }] };
const DETECTORS = { rules: [{ detector: 'email' }, { detector: 'credit_card' }, { detector: 'bearer_token' }, { detector: 'jwt' }, { detector: 'cloud_key' }] };
const FORM = 'application/x-www-form-urlencoded';

describe('finding 1: a value that starts with the mask', () => {
  test.each([
    ['text/plain', 'a SECRET=[REDACTED]topsecret b', 'a SECRET=[REDACTED] b'],
    ['application/json', '{"n":"SECRET=[REDACTED]topsecret"}', '{"n":"SECRET=[REDACTED]"}'],
    ['text/plain', 'SECRET=[REDACTED][REDACTED]x', 'SECRET=[REDACTED]'],
  ])('%s %s is masked whole', async (type, body, want) => {
    expect(await upstream(await plugin(LAB), body, type)).toBe(want);
  });

  test('only a value equal to the mask is left as it is (and not counted)', async () => {
    const p = await plugin(LAB);
    expect(await upstream(p, 'SECRET=[REDACTED] next SECRET=[REDACTED]', 'text/plain')).toBe('SECRET=[REDACTED] next SECRET=[REDACTED]');
    expect(p.metric('direction=.=request;.;rule=.=0;.;redact_redactions_total')).toBe(0);
  });
});

describe('finding 2: JSON structure whatever the markers hold', () => {
  test('a marker with a quote does not throw off jsonField matching', async () => {
    const p = await plugin({ rules: [{ marker: '"password":"' }, { jsonField: 'ssn' }] });
    const out = await upstream(p, '{"password":"abc123","ssn":"078-05-1120"}', 'application/json');
    expect(out).toBe('{"password":"[REDACTED]","ssn":"[REDACTED]"}');
  });

  test.each([1, 3, 5])('odd quotes in markers, %i-byte chunks', async (chunk) => {
    const p = await plugin({ rules: [{ marker: 'say "' }, { jsonField: 'token' }, { jsonField: 'pin' }] });
    const body = '{"a":"say \\"x","token":"t0k3n","b":["\\"",{"pin":1234}]}';
    const out = await upstream(p, body, 'application/json', chunk);
    expect(JSON.parse(out)).toEqual({ a: 'say "x', token: '[REDACTED]', b: ['"', { pin: '[REDACTED]' }] });
  });

  test('text: a backslash after an odd number of quotes hides no byte of the next secret', async () => {
    const p = await plugin({ rules: [{ jsonField: 'x' }, { detector: 'cloud_key' }, { marker: 'SECRET=' }] });
    expect(await upstream(p, 'he said "hi \\AKIAIOSFODNN7EXAMPLE and \\SECRET=abc', 'text/plain'))
      .toBe('he said "hi \\[REDACTED] and \\SECRET=[REDACTED]');
  });

  test('JSON: an escape right before a secret is a word boundary (\\n, \\t)', async () => {
    const p = await plugin(DETECTORS);
    const out = await upstream(p, '{"log":"line\\nBearer abc123def456\\tAKIAIOSFODNN7EXAMPLE\\nbob@example.com"}', 'application/json');
    expect(out).toBe('{"log":"line\\nBearer [REDACTED]\\t[REDACTED]\\n[REDACTED]"}');
    expect(() => JSON.parse(out)).not.toThrow();
  });
});

describe('finding 3: form bodies are read decoded', () => {
  test.each([
    ['email=alice%40example.com&x=1', 'email=[REDACTED]&x=1'],
    ['card=4111+1111+1111+1111&x=1', 'card=[REDACTED]&x=1'],
    ['auth=Bearer+abc123def456ghi&x=1', 'auth=Bearer+[REDACTED]&x=1'],
    ['note=mail+me+at+bob%40example.com+now!', 'note=mail+me+at+[REDACTED]+now%21'],
  ])('%s', async (body, want) => {
    expect(await upstream(await plugin(DETECTORS), body, FORM, 3)).toBe(want);
  });

  test('every other byte of the body stays identical; the masked field decodes to the mask', async () => {
    const p = await plugin(DETECTORS);
    const body = 'a=%7e%20x+y&email=alice%40example.com&b=%zz&c=%E2%82%AC;d&e';
    const out = await upstream(p, body, FORM);
    expect(out).toBe('a=%7e%20x+y&email=[REDACTED]&b=%zz&c=%E2%82%AC;d&e');
    expect(new URLSearchParams(out).get('email')).toBe('[REDACTED]');
  });

  test('markers see the decoded field too', async () => {
    const p = await plugin(LAB);
    expect(await upstream(p, 'x=SECRET%3Dtop+secret&SECRET=a%26b', FORM)).toBe('x=SECRET%3D[REDACTED]+secret&SECRET=[REDACTED]');
  });

  test('a form key is decoded before it is compared', async () => {
    const p = await plugin({ rules: [{ jsonField: 'password' }] });
    expect(await upstream(p, 'pass%77ord=x&Password=y', FORM)).toBe('pass%77ord=[REDACTED]&Password=[REDACTED]');
  });
});

describe('low findings', () => {
  test.each([
    ['4111 1111 1111 1111 123', '[REDACTED] 123'],
    ['card 4111 1111 1111 1111 12/27 ok', 'card [REDACTED] 12/27 ok'],
    ['ref 12 5500-0000-0000-0004', 'ref 12 [REDACTED]'],
    ['4111111111111111', '[REDACTED]'],
    ['41111111111111111234', '41111111111111111234'],
    ['card 4111111111111111 12ab (found by the fuzzer)', 'card [REDACTED] 12ab (found by the fuzzer)'],
    ['4111 1111 1111 1111 x9z', '[REDACTED] x9z'],
    ['4111111111111111ab', '4111111111111111ab'],
  ])('card windows: %s', async (body, want) => {
    expect(await upstream(await plugin(DETECTORS), body, 'text/plain')).toBe(want);
  });

  test('the \\/ escape inside a bearer token', async () => {
    const p = await plugin(DETECTORS);
    const out = await upstream(p, '{"auth":"Bearer ab\\/cd\\/ef123456+x=="}', 'application/json');
    expect(out).toBe('{"auth":"Bearer [REDACTED]"}');
  });

  test('JSON carried inside a JSON string: its fields are masked too, both levels stay valid', async () => {
    const p = await plugin({ rules: [{ jsonField: 'password' }, { jsonField: 'pin' }] });
    const inner = JSON.stringify({ user: 'bob', password: 'hunter2', pin: 1234, note: 'a "quoted" word' });
    const out = await upstream(p, JSON.stringify({ body: inner, password: 'x' }), 'application/json', 7);
    const outer = JSON.parse(out);
    expect(outer.password).toBe('[REDACTED]');
    expect(JSON.parse(outer.body)).toEqual({ user: 'bob', password: '[REDACTED]', pin: '[REDACTED]', note: 'a "quoted" word' });
  });

  test.each([
    ['a=1;password=x&b=2', 'a=1;password=[REDACTED]&b=2'],
    ['password=ab;cd&b=2', 'password=[REDACTED]&b=2'],
    ['password[]=x&password[]=y&user[password]=z&passwords=w', 'password[]=[REDACTED]&password[]=[REDACTED]&user[password]=[REDACTED]&passwords=w'],
    ['password%5B%5D=x', 'password%5B%5D=[REDACTED]'],
  ])('form shapes: %s', async (body, want) => {
    expect(await upstream(await plugin({ rules: [{ jsonField: 'password' }] }), body, FORM)).toBe(want);
  });

  test.each([
    ['mail bob@example.xn--p1ai now', 'mail [REDACTED] now'],
    ['mail bob@пример.рф now', 'mail [REDACTED] now'],
    ['mail bob@example.com now', 'mail [REDACTED] now'],
    ['version 1.2@3.4', 'version 1.2@3.4'],
  ])('e-mail with an IDN top-level domain: %s', async (body, want) => {
    expect(await upstream(await plugin(DETECTORS), body, 'text/plain')).toBe(want);
  });
});

describe('missing content-type', () => {
  test('a body without content-type is scanned by default (as text)', async () => {
    const p = await plugin(LAB);
    expect(await upstream(p, 'SECRET=abc', null)).toBe('SECRET=[REDACTED]');
  });

  test('missingContentType: skip leaves it, counted', async () => {
    const p = await plugin({ ...LAB, missingContentType: 'skip' });
    expect(await upstream(p, 'SECRET=abc', null)).toBe('SECRET=abc');
    expect(p.metric('direction=.=request;.;reason=.=content_type;.;redact_skipped_total')).toBe(1);
  });

  test('known non-text types stay skipped and counted; otherContentTypes: scan reads them as text', async () => {
    const skip = await plugin(LAB);
    expect(await upstream(skip, 'SECRET=abc', 'application/octet-stream')).toBe('SECRET=abc');
    expect(skip.metric('direction=.=request;.;reason=.=content_type;.;redact_skipped_total')).toBe(1);
    const scan = await plugin({ ...LAB, otherContentTypes: 'scan' });
    expect(await upstream(scan, 'SECRET=abc', 'application/xml')).toBe('SECRET=[REDACTED]');
  });
});

describe('seeded random bodies', () => {
  /** xorshift32: the same sequence on every run. */
  function rng(seed: number) {
    let s = seed >>> 0;
    return (n: number) => {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      return s % n;
    };
  }
  const PIECES = ['"', '\\', '\\"', '{', '}', '[', ']', ':', ',', ' ', '&', '=', ';', '%', '%4', '+', '@', 'é', '\n', 'a', '7', '-', 'Bearer ', 'SECRET=', '"password":', 'eyJ', 'AKIA', '[REDACTED]'];
  const SECRETS: Array<[string, string]> = [
    ['SECRET=', 'Zq9sEcReT1'], ['email ', 'zed.q@example.org'], ['card ', '4111 1111 1111 1111'], ['ssn ', '078-05-1120'], ['auth Bearer ', 'Zq9tok3n.abc'],
  ];
  const CONFIG = { rules: [{ marker: 'SECRET=' }, { jsonField: 'password' }, { detector: 'email' }, { detector: 'credit_card' }, { detector: 'bearer_token' }, { pattern: '\\d{3}-\\d{2}-\\d{4}' }] };

  test.each(['text/plain', 'application/json', FORM])('%s: no trap, and a planted secret never reaches the upstream', async (type) => {
    const p = await plugin(CONFIG);
    const next = rng(type.length * 7919);
    for (let round = 0; round < 60; round++) {
      let noise = '';
      for (let k = next(40); k > 0; k--) noise += PIECES[next(PIECES.length)];
      const [lead, secret] = SECRETS[next(SECRETS.length)];
      // the secret stands alone: separated from the noise by a space (form: its own field)
      const body = type === FORM
        ? `n=${encodeURIComponent(noise)}&s=${encodeURIComponent(lead + secret)}&m=${encodeURIComponent(noise)}`
        : `${noise} ${lead}${secret} ${noise}`;
      const out = await upstream(p, body, type, 1 + next(9));
      const seen = type === FORM ? decodeURIComponent(out.replace(/\+/g, ' ').replace(/%(?![0-9A-Fa-f]{2})/g, '%25')) : out;
      expect({ body, leaked: seen.includes(secret) }).toEqual({ body, leaked: false });
    }
    expect(p.failed).toBe(false);
  });
});
