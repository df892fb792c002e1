/**
 * Lab 4's trap on demand: the student-sized callout (dist/callout.lab.wasm) has a lab-only
 * "trapOn" switch; the production filter has none and never traps.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { TRAP_HEADER, trapDemo } from '@meshwasm/labs/course';
import { expectConfigRejected } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
const lab = JSON.parse(readFileSync(join(pkgDir, 'examples', 'lab.json'), 'utf8')) as object;
const load = (file: string, config: object, failurePolicy: 'FAIL_CLOSED' | 'FAIL_OPEN' = 'FAIL_CLOSED') =>
  loadPlugin(new Uint8Array(readFileSync(join(pkgDir, 'dist', file))), { config, rootId: 'callout', clusters: ['metadata'], failurePolicy });
const request = (headers: Array<[string, string]>) => ({
  method: 'GET', path: '/get', authority: 'example.com', headers,
  callResponse: { status: 200, body: '{"ok":true}' }, response: { status: 200, body: 'upstream' },
});

describe('Lab 4: a trap on demand, in the student version only', () => {
  test('fail closed: the trapped request and every later one get 503 wasm_fail_stream; fail open: both pass without the filter', async () => {
    const [closed, open] = await trapDemo(pkgDir);
    expect(closed.policy).toBe('FAIL_CLOSED');
    expect(closed.failures).toEqual([]);
    expect(closed.trapped.failed).toBe(true);
    expect([closed.trapped.response.status, closed.trapped.details, closed.trapped.request]).toEqual([503, 'wasm_fail_stream', null]);
    expect([closed.after.response.status, closed.after.details]).toEqual([503, 'wasm_fail_stream']);
    expect(closed.trapped.logs.some((l) => l.level === 'critical' && /proxy_on_request_headers failed/.test(l.message))).toBe(true);
    expect(open.policy).toBe('FAIL_OPEN');
    expect(open.failures).toEqual([]);
    expect(open.trapped.response.status).toBe(200);
    expect(open.trapped.request?.headers.find(([k]) => k === 'x-meta')).toBeUndefined(); // the filter was skipped
    expect(open.after.httpCalls).toHaveLength(0);
  });

  test('with the switch configured, a request without the header is served as usual', async () => {
    const p = await load('callout.lab.wasm', { ...lab, trapOn: TRAP_HEADER });
    const r = await p.exchange(request([]));
    expect(r.failed).toBe(false);
    expect(r.request?.headers.find(([k]) => k === 'x-meta')?.[1]).toBe('1');
  });

  test('without the switch, the trap header means nothing to the student version', async () => {
    const p = await load('callout.lab.wasm', lab);
    const r = await p.exchange(request([[TRAP_HEADER, '1']]));
    expect(r.failed).toBe(false);
    expect(r.response.status).toBe(200);
  });

  test('the production filter has no such switch: "trapOn" is refused as an unknown key', async () => {
    const p = await load('callout.wasm', { ...lab, trapOn: TRAP_HEADER });
    expectConfigRejected(p, /unknown key "trapOn"/);
  });

  test('no production filter source can trap on purpose (no unreachable())', () => {
    for (const f of ['header', 'redact', 'blocklist', 'callout', 'http-timing']) {
      const dir = join(pkgDir, '..', f, 'assembly');
      const sources = readdirSync(dir).filter((n) => n !== 'lab.ts');
      for (const s of sources) expect({ file: `${f}/assembly/${s}`, traps: /\bunreachable\(\)/.test(readFileSync(join(dir, s), 'utf8')) }).toEqual({ file: `${f}/assembly/${s}`, traps: false });
    }
  });
});

describe('the student version reads its enums with choice / optChoice', () => {
  test('a failure mode other than "closed" or "open" is refused, naming both', async () => {
    const p = await load('callout.lab.wasm', { ...lab, onFailure: { mode: 'sideways' } });
    expectConfigRejected(p, /config\.onFailure\.mode: expected "closed" or "open", got "sideways"/);
  });

  test('a mapping source other than "bodyNonEmpty" is refused, naming the one this version has', async () => {
    const p = await load('callout.lab.wasm', { ...lab, mappings: [{ header: 'x-meta', source: 'header', value: '1' }] });
    expectConfigRejected(p, /source: expected "bodyNonEmpty", got "header"/);
  });
});
