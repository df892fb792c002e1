// Behaviour of the pieces behind index.ts, pinned case by case: how a JSON scalar becomes header
// text (jsonpath.ts), the cache's eviction order and key limit (cache.ts), and the exact messages
// of a refused configuration (config.ts).
import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, valueToString, type HeaderList, type Plugin } from '@meshwasm/proxy-wasm-host';
import { expectConfigRejected } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
let wasm: Uint8Array;

beforeAll(() => {
  wasm = new Uint8Array(readFileSync(join(pkgDir, 'dist', 'callout.wasm')));
});

const BASE = {
  cluster: 'metadata',
  authority: 'metadata',
  path: '/headers',
  mappings: [{ header: 'x-meta', source: 'bodyNonEmpty', value: '1' }],
  onFailure: { mode: 'closed' },
};

async function start(config: object): Promise<Plugin> {
  const p = await loadPlugin(wasm, { config, rootId: 'callout', clusters: ['metadata'] });
  expect(p.configured).toBe(true);
  return p;
}

const header = (h: HeaderList, name: string): string | undefined => {
  const e = h.find(([k]) => k === name);
  return e === undefined ? undefined : valueToString(e[1]);
};

describe('a JSON scalar as header text', () => {
  // [the answer's "v" as JSON text, the header value, or undefined when the header stays absent]
  const cases: Array<[string, string | undefined]> = [
    ['"text"', 'text'],
    ['true', 'true'],
    ['-42', '-42'],
    ['1.0', '1'],
    ['9007199254740991', '9007199254740991'],
    ['9007199254740993', undefined], // beyond 2^53: not exact
    ['0.1', '0.1'],
    ['-0.5', '-0.5'],
    ['123.456', '123.456'],
    ['0.30000000000000004', '0.3'], // 15 significant digits
    ['0.000001', '0.000001'],
    ['1e-7', undefined], // too small to write with 15 digits
    ['12345678901234.5', '12345678901234.5'],
    ['123456789012345.6', undefined], // rounds up to the next integer
    ['1e300', undefined],
    ['null', undefined],
    ['[1]', undefined],
    ['{"a":1}', undefined],
  ];
  test.each(cases)('%s -> %j', async (json, expected) => {
    const p = await start({ ...BASE, mappings: [{ header: 'x-v', source: 'json', path: 'v' }] });
    const r = await p.exchange({ callResponse: { status: 200, body: `{"v":${json}}` } });
    expect(header(r.request!.headers, 'x-v')).toBe(expected);
  });

  // [path, the header value]: numeric segments index arrays (canonical decimals only), and are
  // plain keys in objects
  const paths: Array<[string, string | undefined]> = [
    ['list.1', 'b'],
    ['list.01', undefined],
    ['list.-1', undefined],
    ['list.x', undefined],
    ['list.2', undefined],
    ['map.0', 'zero'],
    ['map.0.deeper', undefined],
  ];
  test.each(paths)('path %s -> %j', async (path, expected) => {
    const p = await start({ ...BASE, mappings: [{ header: 'x-v', source: 'json', path }] });
    const r = await p.exchange({ callResponse: { status: 200, body: '{"list":["a","b"],"map":{"0":"zero"}}' } });
    expect(header(r.request!.headers, 'x-v')).toBe(expected);
  });
});

describe('cache', () => {
  const cached = (cache: object) => ({ ...BASE, mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }], cache });

  test('many keys through a small cache: the last maxEntries keys hit with their own values, older ones are evicted', async () => {
    const p = await start(cached({ keyHeader: 'x-user', ttlMs: 60000, maxEntries: 3 }));
    // The answer names the key it was asked for, so a hit shows whose values it returned.
    const ask = (user: string) => p.exchange({ headers: [['x-user', user]], callResponse: { status: 200, body: `{"tier":"${user}"}` } });
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    for (let i = 0; i < users.length; i++) {
      expect((await ask(users[i])).httpCalls).toHaveLength(1);
      for (let back = 0; back < 3 && back <= i; back++) {
        const r = await ask(users[i - back]);
        expect(r.httpCalls).toHaveLength(0);
        expect(header(r.request!.headers, 'x-tier')).toBe(users[i - back]);
      }
    }
    expect((await ask(users[36])).httpCalls).toHaveLength(1);
    expect(p.metric('outcome=.=cache_hit;.;callout_total')).toBe(3 * 40 - 3);
  });

  test('a key longer than maxKeyLength bypasses the cache', async () => {
    const p = await start(cached({ keyHeader: 'x-user', ttlMs: 60000, maxKeyLength: 4 }));
    const ask = (user: string) => p.exchange({ headers: [['x-user', user]], callResponse: { status: 200, body: '{"tier":"t"}' } });
    await ask('abcd');
    expect((await ask('abcd')).httpCalls).toHaveLength(0);
    await ask('abcde');
    expect((await ask('abcde')).httpCalls).toHaveLength(1);
  });
});

describe('the exact message of a refused configuration', () => {
  const bad: Array<[string, object, string]> = [
    ['method', { ...BASE, method: 'FETCH' }, 'config.method: expected "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH" or "OPTIONS", got "FETCH"'],
    ['failure mode', { ...BASE, onFailure: { mode: 'maybe' } }, 'config.onFailure.mode: expected "open" or "closed", got "maybe"'],
    ['metric style', { ...BASE, metricStyle: 'fancy' }, 'config.metricStyle: expected "labels" or "flat", got "fancy"'],
    ['integer with a fraction', { ...BASE, timeoutMs: 1.5 }, 'config.timeoutMs: expected integer, got a fraction'],
    ['integer as a string', { ...BASE, timeoutMs: '5' }, 'config.timeoutMs: expected integer, got string'],
    ['integer below the range', { ...BASE, cache: { keyHeader: 'x-u', ttlMs: 5, maxEntries: 0 } }, 'config.cache.maxEntries: expected integer in [1, 65536], got 0'],
    ['required integer missing', { ...BASE, cache: { keyHeader: 'x-u' } }, 'config.cache: missing required key "ttlMs"'],
    ['header name', { ...BASE, mappings: [{ header: ':path', source: 'bodyNonEmpty', value: '1' }] }, 'config.mappings[0].header: expected an HTTP header name (RFC 9110 token, no pseudo-header), got ":path"'],
    ['source of another type', { ...BASE, mappings: [{ header: 'x-a', source: 1 }] }, 'config.mappings[0].source: expected string, got number'],
    ['source', { ...BASE, mappings: [{ header: 'x-a', source: 'query' }] }, 'config.mappings[0].source: expected "bodyNonEmpty", "header" or "json", got "query"'],
    ['header mapping without a name', { ...BASE, mappings: [{ header: 'x-a', source: 'header' }] }, 'config.mappings[0]: missing required key "name"'],
    ['json path', { ...BASE, mappings: [{ header: 'x-a', source: 'json', path: 'a.' }] }, 'config.mappings[0].path: expected a dotted path like "user.tier" (no empty segment)'],
    ['too many forwarded headers', { ...BASE, forwardHeaders: Array.from({ length: 33 }, (_, i) => `x-${i}`) }, 'config.forwardHeaders: at most 32 headers'],
    ['cache without a key header', { ...BASE, cache: { ttlMs: 5 } }, 'config.cache: missing required key "keyHeader"'],
    ['cluster with a line break', { ...BASE, cluster: 'a\nb' }, 'config.cluster: expected a non-empty cluster name without control characters'],
    ['placeholder without a header name', { ...BASE, path: '/u/{header.}' }, 'config.path: unknown placeholder {header.} (use {header.<name>}, {path} or {method})'],
    ['space in the path', { ...BASE, path: '/u/a b' }, 'config.path: whitespace or control character at offset 4'],
    ['unmatched brace', { ...BASE, path: '/u/}' }, "config.path: unmatched '}' at offset 3 (use '}}' for a literal brace)"],
  ];
  test.each(bad)('%s', async (_, config, message) => {
    const p = await loadPlugin(wasm, { config: JSON.stringify(config), rootId: 'callout', clusters: ['metadata'] });
    expectConfigRejected(p, new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  test('a tab is allowed in the cluster name (only other control characters are refused)', async () => {
    await start({ ...BASE, cluster: 'a\tb' });
  });
});
