// `pattern` rules: the regular-expression subset, its matching (union of all matches, any chunking)
// and the configurations it refuses.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { expectConfigRejected } from '@meshwasm/labs/jest';

const wasmPath = process.env.REDACT_WASM ?? join(__dirname, '..', 'dist', 'redact.wasm');
let mod: WebAssembly.Module;

beforeAll(async () => {
  mod = await WebAssembly.compile(readFileSync(wasmPath));
});

async function plugin(config: unknown): Promise<Plugin> {
  return loadPlugin(mod, { config: config as object, pluginName: 'redact', rootId: 'redact', logLevel: 'info' });
}

async function redact(patterns: string[], body: string, contentType = 'text/plain', chunkSize?: number): Promise<string> {
  const p = await plugin({ rules: patterns.map((pattern) => ({ pattern })) });
  expect(p.configured).toBe(true);
  const r = await p.exchange({
    method: 'POST', path: '/', authority: 'svc', headers: [['content-type', contentType]], body, chunkSize, response: { status: 204 },
  });
  expect(r.failed).toBe(false);
  return r.request!.body;
}

const SSN = '\\d{3}-\\d{2}-\\d{4}';

describe('redact: pattern rules', () => {
  test.each([1, 2, 3, 7, 1000])('a US SSN is masked whatever the chunking (%i-byte chunks)', async (chunk) => {
    expect(await redact([SSN], 'ssn 078-05-1120, again 123-45-6789.', 'text/plain', chunk)).toBe('ssn [REDACTED], again [REDACTED].');
  });

  test.each([
    [['TKT-[A-Z0-9]{8}'], 'see TKT-AB12CD34 and TKT-ab12cd34', 'see [REDACTED] and TKT-ab12cd34'],
    [['(sk|pk)_(live|test)_[0-9a-zA-Z]{4,}'], 'key=sk_live_abcd1234 pk_test_xyz', 'key=[REDACTED] pk_test_xyz'],
    [['colou?r'], 'color colour colr', '[REDACTED] [REDACTED] colr'],
    [['a[^,]*z'], 'a12z,abz,a,z', '[REDACTED],[REDACTED],a,z'],
    [['x\\.y', '\\s\\S\\s'], 'x.y xzy a b', '[REDACTED] xzy[REDACTED]b'],
    [['[\\d\\-]{5,}'], 'tel 555-0100 or 12', 'tel [REDACTED] or 12'],
    [['é+t'], 'ééét et', '[REDACTED] et'],
    [['\\x41\\t'], 'A\tB', '[REDACTED]B'],
    [['[-a]b', '[.]c', '[]x]y'], '-b ab .c ]y xy', '[REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED]'],
  ])('%j on %j', async (patterns, body, want) => {
    expect(await redact(patterns as string[], body as string)).toBe(want);
  });

  test('overlapping and adjacent matches become one mask (the union of every match)', async () => {
    expect(await redact(['ab|xabc'], 'xabc xab')).toBe('[REDACTED] x[REDACTED]');
    expect(await redact(['\\d{3}'], '123456 12')).toBe('[REDACTED] 12');
    expect(await redact(['a+b', 'b+c'], 'aabbc!')).toBe('[REDACTED]!');
  });

  test('patterns in JSON and form bodies (form fields are decoded first)', async () => {
    expect(await redact([SSN], '{"ssn":"078-05-1120","n":1}', 'application/json')).toBe('{"ssn":"[REDACTED]","n":1}');
    expect(await redact([SSN], 'a=1&ssn=078%2D05%2D1120&b=2', 'application/x-www-form-urlencoded')).toBe('a=1&ssn=[REDACTED]&b=2');
  });

  test('a pathological pattern on a large body still gives the right answer (no backtracking)', async () => {
    const body = 'a'.repeat(65536) + 'b ' + 'a'.repeat(65536);
    const out = await redact(['(a|aa)+b', '(a*)*c|ab'], body);
    expect(out).toBe('[REDACTED] ' + 'a'.repeat(65536));
  });

  test('counted per rule like every other rule', async () => {
    const p = await plugin({ rules: [{ marker: 'SECRET=' }, { pattern: SSN }] });
    await p.exchange({ method: 'POST', path: '/', authority: 'svc', headers: [['content-type', 'text/plain']], body: '078-05-1120 SECRET=x 123-45-6789', response: { status: 204 } });
    expect(p.metric('direction=.=request;.;rule=.=1;.;redact_redactions_total')).toBe(2);
  });
});

describe('redact: pattern rules refused at configure time, with one line naming the rule', () => {
  test.each([
    ['empty match', 'a*', /rules\[0\]\.pattern: matches the empty string/],
    ['anchor', '^abc', /rules\[0\]\.pattern: anchors \(\^ \$\) are not supported/],
    ['lookahead', 'a(?=b)', /rules\[0\]\.pattern: group flags and lookaround are not supported/],
    ['backreference', '(a)\\1', /rules\[0\]\.pattern: backreferences are not supported/],
    ['word boundary', '\\bab', /rules\[0\]\.pattern: word boundaries/],
    ['lazy', 'a+?b', /rules\[0\]\.pattern: a quantifier after a quantifier/],
    ['too many positions', '[a-z]{40}[0-9]{40}', /rules\[0\]\.pattern: more than 64 character positions/],
    ['count too large', 'a{65}', /rules\[0\]\.pattern: a repetition count above 64/],
    ['count order', 'a{3,2}', /rules\[0\]\.pattern: \{n,m\} with m < n/],
    ['range order', '[z-a]', /rules\[0\]\.pattern: a range out of order/],
    ['unclosed group', '(ab', /rules\[0\]\.pattern: missing '\)'/],
    ['stray paren', 'ab)', /rules\[0\]\.pattern: unbalanced '\)'/],
    ['unclosed class', '[ab', /rules\[0\]\.pattern: missing '\]'/],
    ['empty alternative', 'a||b', /rules\[0\]\.pattern: empty alternative or group/],
    ['nothing to repeat', '*a', /rules\[0\]\.pattern: nothing to repeat/],
    ['unknown escape', '\\qa', /rules\[0\]\.pattern: unknown escape/],
    ['non-ASCII in a class', '[é]', /rules\[0\]\.pattern: only ASCII characters in a class/],
    ['too deep', '('.repeat(17) + 'a' + ')'.repeat(17), /rules\[0\]\.pattern: groups nested deeper than 16/],
    ['too long', 'a'.repeat(257), /rules\[0\]\.pattern: expected 1\.\.256 bytes/],
    ['matches the mask', 'RED', /rules\[0\]\.pattern: the mask matches the pattern/],
  ])('%s', async (_name, pattern, message) => {
    expectConfigRejected(await plugin({ rules: [{ pattern }] }), message);
  });

  test('a rule with a pattern and a marker', async () => {
    expectConfigRejected(await plugin({ rules: [{ pattern: 'x', marker: 'y' }] }), /rules\[0\]: expected exactly one of marker, jsonField, detector, pattern/);
  });
});
