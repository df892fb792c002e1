import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

let wasm: Uint8Array<ArrayBuffer>;
beforeAll(() => { wasm = fixtures('api').api; });

const note = (r: { response: { headers: Array<[string, string]> } }) => r.response.headers.find(([k]) => k === 'x-note')?.[1];
const load = (opts: Record<string, unknown> = {}): Promise<Plugin> =>
  loadPlugin(wasm, { config: {}, clusters: ['auth'], rootId: 'api', env: { API_ENV: 'from-env' }, ...opts });

describe('headers', () => {
  it('reads non-UTF-8 values as bytes and as U+FFFD strings, getAll, add bytes, remove, missing', async () => {
    const p = await load();
    const raw = Buffer.from([0x61, 0xff, 0x62]);
    const r = await p.exchange({ headers: [['x-op', 'bytes'], ['x-raw', raw as never], ['x-multi', 'a'], ['x-multi', 'b'], ['x-remove-me', '1']] });
    expect(r.failed).toBe(false);
    const [h, s, all, , missing] = note(r)!.split('|');
    expect(h).toBe('61ff62');
    expect(s).toBe('a\uFFFDb');
    expect(all).toBe('a,b');
    expect(missing).toBe('missing:1'); // NotFound
    const up = r.request!.headers;
    expect(up.some(([k]) => k === 'x-remove-me')).toBe(false);
    expect(up.some(([k]) => k === 'x-added')).toBe(true);
  });

  it('a header map that is gone after Continue answers BadArgument, nothing traps', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'gone']], body: 'hello' });
    expect(r.failed).toBe(false);
    expect(note(r)).toBe('2|2');
  });
});

describe('HeaderEdits and header name/value checks', () => {
  it('applies recorded edits in order with lower-cased names, byte values, and reports a gone map', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'edits'], ['x-drop', '1'], ['x-set', 'old'], ['x-set', 'older'], ['x-multi', 'a']] });
    expect(r.failed).toBe(false);
    const [count, st, gone, names, values] = note(r)!.split('|');
    expect(count).toBe('44');
    expect(st).toBe('0'); // Ok
    expect(gone).toBe('2'); // BadArgument: response headers during the request (Envoy)
    expect(names).toBe('yynnnnny');
    expect(values).toBe('yynnn');
    const up = r.request!.headers;
    expect(up.some(([k]) => k === 'x-drop')).toBe(false);
    expect(up.filter(([k]) => k === 'x-set').map(([, v]) => v)).toEqual(['one']);
    expect(up.filter(([k]) => k === 'x-multi').map(([, v]) => v)).toEqual(['a', 'c']);
    expect(up.filter(([k]) => k === 'x-bytes').map(([, v]) => v)).toEqual(['grüße']);
    expect(up.filter(([k]) => k === 'x-many').map(([, v]) => v)).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
  });
});

describe('bodies follow Envoy set_buffer_bytes rules', () => {
  const cases: Array<[string, string, string]> = [
    ['body-prepend', 'pre.hello', '0'],
    ['body-append', 'hello.post', '0'],
    ['body-replace', 'replaced', '0'],
    ['body-partial', 'partial.ello', '0'],
    ['body-drain', 'llo', '0'],
    ['body-middle', 'hello', '2'],
  ];
  it.each(cases)('%s', async (op, upstreamBody, status) => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', op]], body: 'hello' });
    expect(r.failed).toBe(false);
    expect(r.request!.body).toBe(upstreamBody);
    expect(note(r)).toBe(status);
  });

  it('reads a clamped range and the size', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'body-read']], body: 'hello' });
    expect(note(r)).toBe('ell|5');
  });

  it('redacts a pattern split across chunks with the ChunkScanner', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'redact']], response: { status: 200, body: 'a secret and another secret!', chunkSize: 4 } });
    expect(r.response.body).toBe('a ****** and another ******!');
  });
});

describe('local responses and http calls', () => {
  it('sendLocalResponse answers without reaching upstream', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'local']] });
    expect(r.request).toBeNull();
    expect(r.response.status).toBe(403);
    expect(r.response.body).toBe('nope');
    expect(r.response.headers).toContainEqual(['x-why', 'test']);
    expect(r.localReply!.details).toBe('denied_by_api');
  });

  it('an http call to an unknown cluster returns BadArgument (no callback, no trap)', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call-unknown']] });
    expect(r.failed).toBe(false);
    expect(note(r)).toBe('dispatch:2:BadArgument:Ok:Unimplemented:Status(13)'); // statusName
  });

  it('the callback runs on the originating stream, edits its headers and resumes it', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call']], callResponse: { status: 201, body: 'ok', headers: [['x-up', 'u']] } });
    expect(r.httpCalls[0]).toMatchObject({ cluster: 'auth', body: 'payload', timeoutMs: 500 });
    expect(r.request!.headers).toContainEqual(['x-call', '201:ok:u']);
  });

  it('a failed call (reset) is distinguishable and exposes get_status', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call']], callResponse: 'reset' });
    expect(r.request!.headers).toContainEqual(['x-call', 'failed:11:reset']);
  });
});

describe('metrics, properties, logging', () => {
  it('counter, gauge, histogram, bounded label family and increment(0) = BadArgument', async () => {
    const p = await load();
    await p.exchange({ headers: [['x-op', 'a']] });
    await p.exchange({ headers: [['x-op', 'b']] });
    await p.exchange({ headers: [['x-op', 'c']] });
    const r = await p.exchange({ headers: [['x-op', 'metrics']] });
    expect(note(r)).toBe('4|2|code=.=2_0_0;.;m');
    expect(p.metric('api_requests_total')).toBe(4);
    expect(p.metric('api_inflight')).toBe(0);
    expect(p.metric('op=.=a;.;api_ops_total')).toBe(1);
    expect(p.metric('op=.=other;.;api_ops_total')).toBe(2);
    expect(p.metric('api_sizes')).toMatchObject({ count: 1 });
  });

  it('typed property getters', async () => {
    const p = await load({ properties: { listener_direction: 1 } });
    const r = await p.exchange({ path: '/p?q=1', method: 'POST', headers: [['x-op', 'props']] });
    const [path, method, root, dir] = note(r)!.split('|');
    expect(path).toBe('/p?q=1');
    expect(method).toBe('POST');
    expect(root).toBe('api');
    expect(dir).toBe('1');
  });

  it('logs at levels honouring the host level', async () => {
    const p = await load({ logLevel: 'info' });
    await p.exchange({ headers: [['x-op', 'log']] });
    const msgs = p.logs.map((l) => `${l.level}:${l.message}`);
    expect(msgs).toContain('info:info line');
    expect(msgs).toContain('warn:warn line');
    expect(msgs.some((m) => m.includes('debug line'))).toBe(false);
  });
});

describe('shared data, queues, tick, env', () => {
  it('shared data with CAS', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'shared']] });
    const [a, , bad, none] = note(r)!.split('|');
    expect(a).toBe('v1');
    expect(bad).toBe('8'); // CasMismatch with a stale cas
    expect(none).toBe('1'); // NotFound
    // (the value read back after the mismatch is not asserted: the host currently stores a view of
    // wasm memory instead of a copy — Buffer#slice — reported to the host engineer)
  });

  it('queues: enqueue, resolve, onQueueReady dequeues then Empty', async () => {
    const p = await load({ vmId: 'q-test' });
    const r = await p.exchange({ headers: [['x-op', 'queue']] });
    expect(note(r)).toBe('0|same|0');
    const r2 = await p.exchange({ headers: [['x-op', 'shared-read']] });
    expect(r2.failed).toBe(false);
  });

  it('tick period and onTick', async () => {
    const p = await load({ config: { tick_ms: 50 } });
    expect(p.tickPeriod).toBe(50);
    expect(p.tick()).toBe(true);
  });

  it('environment variables and clocks', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'env']] });
    expect(note(r)).toBe('from-env|rt|mono');
  });
});
