import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { describeFilterPackage, expectConfigRejected } from '@meshwasm/labs/jest';
import Ajv from 'ajv';

const dir = join(__dirname, '..');
const wasmPath = join(dir, 'dist', 'blocklist.wasm');
let mod: WebAssembly.Module;

beforeAll(async () => {
  mod = await WebAssembly.compile(readFileSync(wasmPath));
});

async function plugin(config: unknown): Promise<Plugin> {
  return loadPlugin(mod, { config: config as object, pluginName: 'blocklist', rootId: 'blocklist', logLevel: 'debug' });
}

/** Status the client gets for a GET to `authority` (451 = blocked by the default response). */
async function statusFor(p: Plugin, authority: string | Uint8Array, method = 'GET', path = '/'): Promise<number> {
  const s = p.newStream();
  s.sendRequestHeaders([[':method', method], [':path', path], [':authority', authority as string], [':scheme', 'http']], true);
  if (s.localReply) { s.complete(); return s.localReply.status; }
  s.sendResponseHeaders([[':status', '200']], true);
  s.complete();
  return 200;
}

describeFilterPackage(dir, { wasm: 'blocklist.wasm' });

describe('blocklist: matching on the normalised :authority', () => {
  test('exact, suffix and wildcard entries', async () => {
    const p = await plugin({ deny: ['exact.test', '.suffix.test', '*.wild.test'] });
    const cases: Array<[string, number]> = [
      ['exact.test', 451], ['a.exact.test', 200],
      ['suffix.test', 451], ['a.suffix.test', 451], ['a.b.suffix.test', 451], ['notsuffix.test', 200],
      ['wild.test', 200], ['a.wild.test', 451], ['x.y.wild.test', 451], ['wild.test.evil', 200],
      ['EXACT.TEST:8080', 451], [' exact.test\t', 451], ['exact.test.', 451], ['exact.test.:443', 451], ['user@exact.test', 451], ['', 200],
    ];
    for (const [host, want] of cases) expect([host, await statusFor(p, host)]).toEqual([host, want]);
  });

  test('the host header is not what Envoy matches: :authority is', async () => {
    const p = await plugin({ deny: ['evil.test'] });
    const r = await p.exchange({ authority: 'good.test', headers: [['host', 'evil.test']], response: { status: 200 } });
    expect(r.response.status).toBe(200);
    const b = await p.exchange({ authority: 'evil.test', response: { status: 200 } });
    expect(b.response.status).toBe(451);
  });

  test('IDN: Unicode and punycode forms match each other, whatever the case', async () => {
    const p = await plugin({ deny: ['*.bücher.de', 'xn--mnchen-3ya.de', 'пример.рф', 'ÉCOLE.fr'] });
    const cases: Array<[string, number]> = [
      ['shop.xn--bcher-kva.de', 451], ['shop.BÜCHER.de', 451], ['bücher.de', 200],
      ['münchen.de', 451], ['MÜNCHEN.DE:443', 451], ['xn--mnchen-3ya.de', 451],
      ['xn--e1afmkfd.xn--p1ai', 451], ['ПРИМЕР.РФ', 451], ['xn--cole-9oa.fr', 451], ['école.fr', 451],
      ['ｅｘａｍｐｌｅ．com', 200],
    ];
    for (const [host, want] of cases) expect([host, await statusFor(p, host)]).toEqual([host, want]);
  });

  test('IPv6 literals: brackets, port, case and zero compression do not matter', async () => {
    const p = await plugin({ deny: ['2001:db8::1', '[::1]', '10.0.0.1'] });
    const cases: Array<[string, number]> = [
      ['[2001:db8::1]', 451], ['[2001:DB8:0:0:0:0:0:1]:8443', 451], ['[2001:0db8::0001]', 451], ['2001:db8::1', 451],
      ['[2001:db8::2]', 200], ['[::1]:80', 451], ['[0:0:0:0:0:0:0:1]', 451], ['[::ffff:10.0.0.1]', 200],
      ['10.0.0.1:8080', 451], ['10.0.0.10', 200], ['[fe80::1%25eth0]', 200], ['[not-ipv6]', 200],
    ];
    for (const [host, want] of cases) expect([host, await statusFor(p, host)]).toEqual([host, want]);
  });

  test('non-UTF-8 labels match nothing themselves, the labels to their right still match', async () => {
    const p = await plugin({ deny: ['*.example.com'] });
    const s = p.newStream();
    s.sendRequestHeaders([[':method', 'GET'], [':path', '/'], [':authority', Buffer.from([0xff, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d])]], true);
    expect(s.localReply?.status).toBe(451);
    expect(p.failed).toBe(false);
  });

  test('allow mode: only listed hosts pass; deny entries carve exceptions out of it', async () => {
    const p = await plugin({ mode: 'allow', allow: ['.corp.test'], deny: ['legacy.corp.test'] });
    expect(await statusFor(p, 'corp.test')).toBe(200);
    expect(await statusFor(p, 'api.corp.test')).toBe(200);
    expect(await statusFor(p, 'legacy.corp.test')).toBe(451);
    expect(await statusFor(p, 'other.test')).toBe(451);
    expect(await statusFor(p, '')).toBe(451);
    expect(p.metric('decision=.=blocked;.;list=.=none;.;rule=.=none;.;blocklist_requests_total')).toBe(2);
    expect(p.metric('decision=.=blocked;.;list=.=deny;.;rule=.=0;.;blocklist_requests_total')).toBe(1);
    expect(p.metric('decision=.=allowed;.;list=.=allow;.;rule=.=0;.;blocklist_requests_total')).toBe(2);
  });

  test('deny mode: allow entries are exceptions', async () => {
    const p = await plugin({ deny: ['*.example.com'], allow: ['status.example.com'] });
    expect(await statusFor(p, 'status.example.com')).toBe(200);
    expect(await statusFor(p, 'www.example.com')).toBe(451);
  });

  test('method and path-prefix conditions limit which requests are checked', async () => {
    const p = await plugin({ deny: ['evil.test'], methods: ['POST', 'PUT'], pathPrefixes: ['/upload', '/api/'] });
    expect(await statusFor(p, 'evil.test', 'GET', '/upload')).toBe(200);
    expect(await statusFor(p, 'evil.test', 'POST', '/other')).toBe(200);
    expect(await statusFor(p, 'evil.test', 'POST', '/upload/x')).toBe(451);
    expect(await statusFor(p, 'evil.test', 'PUT', '/api/v1')).toBe(451);
    expect(await statusFor(p, 'good.test', 'PUT', '/api/v1')).toBe(200);
  });

  test('the response code, body and headers are configurable', async () => {
    const p = await plugin({ deny: ['evil.test'], response: { status: 403, body: '{"error":"forbidden"}', headers: [{ name: 'Content-Type', value: 'application/json' }, { name: 'x-reason', value: 'blocklist' }] } });
    const r = await p.exchange({ authority: 'evil.test', response: { status: 200 } });
    expect(r.request).toBeNull();
    expect(r.response.status).toBe(403);
    expect(r.response.body).toBe('{"error":"forbidden"}');
    expect(r.response.headers).toEqual(expect.arrayContaining([['content-type', 'application/json'], ['x-reason', 'blocklist']]));
    expect(r.localReply!.details).toBe('blocklist_denied');
  });

  test('dry run: logs, counts and tags the request, but lets it through', async () => {
    const p = await plugin({ deny: ['a.test', '*.evil.test'], dryRun: true });
    const r = await p.exchange({ authority: 'x.EVIL.test:80', response: { status: 200, body: 'ok' } });
    expect(r.response.status).toBe(200);
    expect(r.request!.headers).toEqual(expect.arrayContaining([['x-blocklist-dry-run', 'deny[1]']]));
    expect(r.metrics['decision=.=dry_run;.;list=.=deny;.;rule=.=1;.;blocklist_requests_total']).toBe(1);
    expect(r.logs.some((l) => l.level === 'info' && l.message.includes('would block host "x.evil.test" (deny[1])'))).toBe(true);
  });

  test('10,000 entries: every entry matches, neighbours do not', async () => {
    const deny = Array.from({ length: 10000 }, (_, i) => (i % 3 === 0 ? `*.w${i}.example` : i % 3 === 1 ? `.s${i}.example` : `h${i}.example`));
    const p = await plugin({ deny });
    for (const i of [0, 1, 2, 4999, 5000, 5001, 9997, 9998, 9999]) {
      const host = i % 3 === 0 ? `a.w${i}.example` : i % 3 === 1 ? `s${i}.example` : `h${i}.example`;
      expect([host, await statusFor(p, host)]).toEqual([host, 451]);
      expect([`x${i}.example`, await statusFor(p, `x${i}.example`)]).toEqual([`x${i}.example`, 200]);
    }
    expect(p.metric('decision=.=blocked;.;list=.=deny;.;rule=.=9999;.;blocklist_requests_total')).toBe(1);
  });

  test('local replies from an earlier filter: nothing to check, nothing breaks', async () => {
    const p = await plugin({ deny: ['evil.test'] });
    const s = p.newStream();
    s.localReplyFromEarlierFilter(429, 'slow down');
    s.complete();
    expect(s.localReply!.status).toBe(429);
    expect(p.failed).toBe(false);
  });

  test('its own local reply passes back through the filter untouched', async () => {
    const p = await plugin({ deny: ['evil.test'] });
    const r = await p.exchange({ authority: 'evil.test', method: 'POST', body: 'payload', chunkSize: 1, response: { status: 200 } });
    expect(r.response.status).toBe(451);
    expect(r.failed).toBe(false);
  });
});

describe('blocklist: configuration is refused with one log line naming the field', () => {
  test.each([
    ['wrong type', { deny: 'evil.test' }, /config\.deny: expected array/],
    ['empty rules', { deny: [] }, /config\.deny: expected a non-empty list of at most 100000 entries/],
    ['no deny list in deny mode', {}, /config: deny mode needs a non-empty "deny" list/],
    ['an empty configuration', '', /^config: deny mode needs a non-empty "deny" list/],
    ['a blank configuration (Istio: no pluginConfig)', ' \n\t ', /^config: deny mode needs a non-empty "deny" list/],
    ['no allow list in allow mode', { mode: 'allow', deny: ['a.test'] }, /config: allow mode needs a non-empty "allow" list/],
    ['bad mode', { mode: 'block', deny: ['a.test'] }, /config\.mode: expected "deny" or "allow"/],
    ['invalid status code', { deny: ['a.test'], response: { status: 99 } }, /config\.response\.status: expected integer in \[200, 599\]/],
    ['status code as a string', { deny: ['a.test'], response: { status: '451' } }, /config\.response\.status: expected integer, got string/],
    ['entry with a port', { deny: ['a.test:8080'] }, /config\.deny\[0\]: "a\.test:8080": a port is not part of a host entry/],
    ['wildcard in the middle', { deny: ['a.*.test'] }, /config\.deny\[0\]: "a\.\*\.test": expected "name", ".name" or "\*\.name"/],
    ['empty label', { deny: ['a..test'] }, /config\.deny\[0\]: "a\.\.test": empty label/],
    ['wildcard IPv6', { deny: ['*.2001:db8::1'] }, /config\.deny\[0\]: .*IPv6 literals only match exactly/],
    // found by the fuzzer: '[' read as an IPv6 bracket and the '+' after it as a port
    ['a regular expression (found by the fuzzer)', { deny: ['[a-z]+'] }, /config\.deny\[0\]: "\[a-z\]\+": '\[' cannot be part of a host name \(entries are names or IP addresses, not patterns\)$/],
    ['a pattern in a suffix entry', { allow: ['.corp.test'], deny: ['.(a|b).test'], mode: 'allow' }, /config\.deny\[0\]: "\.\(a\|b\)\.test": '\|' cannot be part of a host name/],
    ['bad method', { deny: ['a.test'], methods: ['GET POST'] }, /config\.methods\[0\]: "GET POST" is not an HTTP method token/],
    ['repeated method (found by the fuzzer)', { deny: ['a.test'], methods: ['GET', 'PUT', 'GET'] }, /config\.methods\[2\]: "GET" is listed twice/],
    ['bad path prefix', { deny: ['a.test'], pathPrefixes: ['api'] }, /config\.pathPrefixes\[0\]: expected a path prefix starting with '\/'/],
    ['header injection', { deny: ['a.test'], response: { headers: [{ name: 'x', value: 'a\r\nb' }] } }, /config\.response\.headers\[0\]\.value: header value contains CR, LF or NUL/],
    ['unknown key', { deny: ['a.test'], dryrun: true }, /config: unknown key "dryrun"/],
  ])('%s', async (_name, config, message) => {
    expectConfigRejected(await plugin(config), message);
  });
});

describe('blocklist: schema.json and on_configure agree', () => {
  test('every config the filter accepts is valid against schema.json, and every schema-invalid config is refused', async () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')));
    const configs: unknown[] = [
    { deny: ['a.test'] }, { mode: 'allow', allow: ['.corp.test', '[::1]'], deny: ['x.corp.test'], methods: ['GET'], pathPrefixes: ['/a'], response: { status: 403, body: 'no', headers: [{ name: 'x', value: 'y' }] }, dryRun: true, dryRunHeader: 'x-dry' },
    { deny: 'a.test' }, { deny: [] }, {}, { mode: 'allow', deny: ['a.test'] }, { mode: 'block', deny: ['a.test'] }, { deny: ['a.test'], response: { status: 99 } },
    { deny: ['a.test'], response: { status: 600 } }, { deny: ['a.test'], response: { status: 451.5 } }, { deny: ['a.test:8080'] }, { deny: ['a.*.test'] },
    { deny: ['*.2001:db8::1'] }, { deny: ['[a-z]+'] }, { deny: ['a.test'], methods: ['GET POST'] }, { deny: ['a.test'], pathPrefixes: ['api'] }, { deny: ['a.test'], dryrun: true },
  ];
    for (const config of configs) {
      const p = await plugin(config);
      const valid = validate(config) as boolean;
      expect({ config, valid, configured: p.configured && valid }).toEqual({ config, valid, configured: p.configured });
      if (!valid) expect({ config, configured: p.configured }).toEqual({ config, configured: false });
    }
  });
});
