import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { loadPlugin, type HeaderList, type Plugin } from '@meshwasm/proxy-wasm-host';
import { runLab } from '@meshwasm/labs';
import { describeFilterPackage, expectConfigRejected, filterSchema } from '@meshwasm/labs/jest';

const pkgDir = join(__dirname, '..');
let wasm: Uint8Array;
const validateSchema = filterSchema(pkgDir);

beforeAll(() => {
  wasm = new Uint8Array(readFileSync(join(pkgDir, 'dist', 'header.wasm')));
});

async function start(config: unknown): Promise<Plugin> {
  return loadPlugin(wasm, { config: config as object, pluginName: 'header', rootId: 'header' });
}

const REQUEST: HeaderList = [
  [':authority', 'example.com'],
  [':path', '/get'],
  [':method', 'GET'],
  [':scheme', 'http'],
  ['user-agent', 'curl/8.5.0'],
  ['accept', '*/*'],
];
const RESPONSE: HeaderList = [
  [':status', '200'],
  ['content-type', 'text/plain'],
];

function all(headers: HeaderList, name: string): Array<string | Uint8Array> {
  return headers.filter(([k]) => k === name).map(([, v]) => v);
}

/** Runs request and response headers through a fresh stream; returns what each side saw. */
async function through(config: unknown, request: HeaderList = REQUEST, response: HeaderList = RESPONSE) {
  const plugin = await start(config);
  expect(plugin.configured).toBe(true);
  const s = plugin.newStream();
  expect(s.sendRequestHeaders(request, true)).toBe('Continue');
  const upstream = s.requestHeaders;
  expect(s.sendResponseHeaders(response, true)).toBe('Continue');
  const client = s.responseHeaders;
  s.complete();
  expect(plugin.failed).toBe(false);
  return { upstream, client, plugin };
}

describeFilterPackage(pkgDir, { wasm: 'header.wasm' });

describe('the course lab (examples/lab.json)', () => {
  test('adds x-training: envoy-wasm on the request and on the response', async () => {
    const report = await runLab(pkgDir);
    const first = report.results[0].result;
    expect(first.request?.headers).toContainEqual(['x-training', 'envoy-wasm']);
    expect(first.response.headers).toContainEqual(['x-training', 'envoy-wasm']);
  });
});

describe('config operations', () => {
  test('request set adds a missing header and replaces every existing value', async () => {
    const { upstream } = await through(
      { request: { set: [{ name: 'x-a', value: 'new' }, { name: 'accept', value: 'application/json' }] } },
      [...REQUEST, ['x-a', 'old1'], ['x-a', 'old2']],
    );
    expect(all(upstream, 'x-a')).toEqual(['new']);
    expect(all(upstream, 'accept')).toEqual(['application/json']);
  });

  test('request add keeps existing values (a repeated header gains an entry)', async () => {
    const { upstream } = await through({ request: { add: [{ name: 'x-b', value: '2' }, { name: 'x-b', value: '3' }] } }, [
      ...REQUEST,
      ['x-b', '1'],
    ]);
    expect(all(upstream, 'x-b')).toEqual(['1', '2', '3']);
  });

  test('add on an Envoy inline header appends to the existing entry with a comma, as Envoy does', async () => {
    const { upstream } = await through({ request: { add: [{ name: 'x-forwarded-for', value: '10.0.0.2' }] } }, [
      ...REQUEST,
      ['x-forwarded-for', '10.0.0.1'],
    ]);
    expect(all(upstream, 'x-forwarded-for')).toEqual(['10.0.0.1,10.0.0.2']);
  });

  test('request remove drops every value of the header', async () => {
    const { upstream } = await through({ request: { remove: ['x-secret', 'accept'] } }, [
      ...REQUEST,
      ['x-secret', '1'],
      ['x-secret', '2'],
    ]);
    expect(all(upstream, 'x-secret')).toEqual([]);
    expect(all(upstream, 'accept')).toEqual([]);
    expect(all(upstream, 'user-agent')).toEqual(['curl/8.5.0']);
  });

  test('removing an absent header is not an error', async () => {
    const { upstream, plugin } = await through({ request: { remove: ['x-absent'] } });
    expect(upstream).toEqual(REQUEST.map(([k, v]) => [k, v]));
    expect(plugin.logs.filter((l) => l.level === 'error' || l.level === 'critical')).toEqual([]);
  });

  test('response set, add and remove', async () => {
    const { client, upstream } = await through(
      {
        response: {
          remove: ['server'],
          set: [{ name: 'cache-control', value: 'no-store' }],
          add: [{ name: 'x-served-by', value: 'wasm' }],
        },
      },
      REQUEST,
      [...RESPONSE, ['server', 'upstream'], ['cache-control', 'max-age=60']],
    );
    expect(all(client, 'server')).toEqual([]);
    expect(all(client, 'cache-control')).toEqual(['no-store']);
    expect(all(client, 'x-served-by')).toEqual(['wasm']);
    expect(all(upstream, 'x-served-by')).toEqual([]); // response mutations never touch the request
  });

  test('per direction the order is remove, then set, then add', async () => {
    const { upstream } = await through(
      {
        request: {
          add: [{ name: 'x-o', value: 'added' }],
          set: [{ name: 'x-o', value: 'set' }],
          remove: ['x-o'],
        },
      },
      [...REQUEST, ['x-o', 'original']],
    );
    expect(all(upstream, 'x-o')).toEqual(['set', 'added']);
  });

  test('a direction with no edits changes nothing', async () => {
    const { upstream, client } = await through({ request: {} });
    expect(upstream).toEqual(REQUEST);
    expect(client).toEqual(RESPONSE);
  });
});

describe('header names are case-insensitive', () => {
  test('config names in any case match the lower-case names Envoy passes', async () => {
    const { upstream } = await through(
      { request: { set: [{ name: 'X-Training', value: 'envoy-wasm' }], remove: ['User-Agent'] } },
      [...REQUEST, ['x-training', 'old']],
    );
    expect(all(upstream, 'x-training')).toEqual(['envoy-wasm']);
    expect(all(upstream, 'X-Training')).toEqual([]);
    expect(all(upstream, 'user-agent')).toEqual([]);
  });

  test('mixed-case request names from the client are matched', async () => {
    const { upstream } = await through({ request: { remove: ['x-drop'] } }, [...REQUEST, ['X-Drop', 'yes']]);
    expect(all(upstream, 'x-drop')).toEqual([]);
  });
});

describe('pseudo-headers', () => {
  test('request.set may rewrite :path and :authority (Envoy re-routes on the new values)', async () => {
    const { upstream } = await through({
      request: { set: [{ name: ':path', value: '/v2/get' }, { name: ':authority', value: 'internal.svc' }] },
    });
    expect(all(upstream, ':path')).toEqual(['/v2/get']);
    expect(all(upstream, ':authority')).toEqual(['internal.svc']);
  });

  test.each([
    [{ request: { set: [{ name: ':method', value: 'POST' }] } }, 'config.request.set[0].name: pseudo-header :method refused'],
    [{ request: { add: [{ name: ':path', value: '/x' }] } }, 'config.request.add[0].name: pseudo-header :path refused'],
    [{ request: { remove: [':authority'] } }, 'config.request.remove[0]: pseudo-header :authority refused'],
    [{ response: { set: [{ name: ':status', value: '500' }] } }, 'config.response.set[0].name: pseudo-header :status refused'],
  ])('%j is refused at configure, and by schema.json', async (config, message) => {
    const plugin = await start(config);
    expect(plugin.configured).toBe(false);
    expect(plugin.failed).toBe(false);
    expect(plugin.logs.some((l) => l.level === 'error' && l.message.includes(message))).toBe(true);
    // the schema said yes to these until the fuzzer compared the two (tools/fuzz)
    expect(schemaAccepts(config)).toBe(false);
  });

  test('schema.json accepts what the filter accepts: :path and :authority (any case) in request.set', async () => {
    const config = { request: { set: [{ name: ':path', value: '/v2' }, { name: ':Authority', value: 'a.svc' }] } };
    expect((await start(config)).configured).toBe(true);
    expect(schemaAccepts(config)).toBe(true);
  });
});

function schemaAccepts(config: unknown): boolean {
  const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(__dirname, '..', 'schema.json'), 'utf8')));
  return validate(config) as boolean;
}

describe('byte-safe values', () => {
  const raw = new Uint8Array([0x61, 0xff, 0xfe, 0x80, 0x62]); // "a\xff\xfe\x80b": not UTF-8

  test('a non-UTF-8 value passes through untouched', async () => {
    const { upstream } = await through({ request: { set: [{ name: 'x-training', value: 'envoy-wasm' }] } }, [
      ...REQUEST,
      ['x-bin', raw],
    ]);
    const got = all(upstream, 'x-bin');
    expect(got).toHaveLength(1);
    expect(Buffer.from(got[0] as Uint8Array)).toEqual(Buffer.from(raw));
  });

  test('a non-UTF-8 value can be replaced and removed', async () => {
    const { upstream } = await through(
      { request: { set: [{ name: 'x-bin', value: 'clean' }], remove: ['x-bin2'] } },
      [...REQUEST, ['x-bin', raw], ['x-bin2', raw]],
    );
    expect(all(upstream, 'x-bin')).toEqual(['clean']);
    expect(all(upstream, 'x-bin2')).toEqual([]);
  });

  test('a configured UTF-8 value arrives as UTF-8', async () => {
    const { upstream } = await through({ request: { set: [{ name: 'x-greeting', value: 'grüße ✓' }] } });
    expect(all(upstream, 'x-greeting')).toEqual(['grüße ✓']);
  });
});

describe('bad configuration is refused at on_configure with a precise log line, and nothing traps', () => {
  test.each([
    ['not JSON', '{"request": ', 'config: invalid JSON'],
    ['a wrong type for a direction', { request: 'x-training' }, 'config.request: expected object, got string'],
    ['a wrong type for set', { request: { set: { name: 'a', value: 'b' } } }, 'config.request.set: expected array, got object'],
    ['a number as value', { request: { set: [{ name: 'x-a', value: 1 }] } }, 'config.request.set[0].value: expected string, got number'],
    ['a missing value', { response: { add: [{ name: 'x-a' }] } }, 'config.response.add[0]: missing required key "value"'],
    ['an unknown top-level key', { requests: {} }, 'config: unknown key "requests"'],
    ['an unknown operation', { request: { sett: [] } }, 'config.request: unknown key "sett"'],
    ['an unknown key in an entry', { request: { set: [{ name: 'a', value: 'b', when: 'x' }] } }, 'config.request.set[0]: unknown key "when"'],
    ['an invalid header name', { request: { set: [{ name: 'bad name', value: 'b' }] } }, 'config.request.set[0].name: invalid header name bad name'],
    ['an empty header name', { request: { remove: [''] } }, 'config.request.remove[0]: header name must have 1..256 characters'],
    ['CRLF in a value', { request: { set: [{ name: 'x-a', value: 'b\r\nx-injected: 1' }] } }, 'config.request.set[0].value: header value contains CR, LF or NUL'],
    ['too many entries', { request: { remove: Array.from({ length: 65 }, (_, i) => `x-${i}`) } }, 'config.request: remove: more than 64 entries'],
  ])('%s', async (_what, config, message) => {
    const plugin = await start(config);
    expect(plugin.configured).toBe(false);
    expect(plugin.failed).toBe(false);
    const errors = plugin.logs.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors.some((m) => m.includes(message))).toBe(true);
  });
});

describe('an empty configuration is refused, naming the missing fields', () => {
  test.each([['empty', ''], ['blank (Istio: no pluginConfig)', ' \n\t '], ['{}', '{}']])('%s', async (_what, config) => {
    const plugin = await start(config);
    expectConfigRejected(plugin, 'config: missing "request" or "response" (an empty configuration changes nothing)');
    expect(validateSchema({})).toBe(false);
  });
});

describe('memory', () => {
  test('linear memory stays flat over many exchanges', async () => {
    const plugin = await start(JSON.parse(readFileSync(join(pkgDir, 'examples', 'lab.json'), 'utf8')));
    const once = () => {
      const s = plugin.newStream();
      s.sendRequestHeaders(REQUEST, true);
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    };
    for (let i = 0; i < 2_000; i++) once();
    const warm = plugin.memoryBytes();
    for (let i = 0; i < 20_000; i++) once();
    expect(plugin.memoryBytes()).toBe(warm);
    expect(warm).toBeLessThanOrEqual(128 * 1024);
    expect(plugin.failed).toBe(false);
  });

  test('the largest configuration (6 lists of 64 edits, 8 KB values) costs memory linear in its size', async () => {
    // Configuration memory lives in the root context's arena (owned memory mode) until Envoy
    // deletes the root: recording must copy O(size) bytes (HeaderEdits grows by doubling; growing
    // by one record at a time kept ~10x the configuration's size here, with every old buffer).
    const edits = Array.from({ length: 64 }, (_, i) => ({ name: `x-h${i}`, value: 'v'.repeat(8000) }));
    const config = { request: { set: edits, add: edits }, response: { set: edits, add: edits } };
    const size = JSON.stringify(config).length;
    const plugin = await start(config);
    expect(plugin.configured).toBe(true);
    expect(plugin.memoryBytes()).toBeLessThan(8 * size);
    const s = plugin.newStream();
    s.sendRequestHeaders(REQUEST, true);
    expect(all(s.requestHeaders, 'x-h63')).toHaveLength(2); // set, then add
    s.complete();
  });
});
