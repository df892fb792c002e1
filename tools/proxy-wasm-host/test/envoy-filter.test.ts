// Mirrors Envoy's wasm_filter_test.cc header/lifecycle/async-call/panic cases with the kitchen fixture.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { loadPlugin, type Plugin, type PluginOptions } from '../src/index';
import { compileFixture } from './helpers';
import { MetricStore, prometheusText } from '../src/metrics';

let wasm: Uint8Array;
beforeAll(() => { wasm = compileFixture('kitchen'); });
const msgs = (p: Plugin) => p.logs.map((l) => l.message);
const load = (o: PluginOptions = {}) => loadPlugin(wasm, o);
const REQ = (op: string, extra: Array<[string, string]> = []): Array<[string, string]> => [[':authority', 'host'], [':path', '/'], [':method', 'GET'], [':scheme', 'http'], ['x-op', op], ...extra];

describe('lifecycle', () => {
  test('create -> vm_start -> configure; per stream create lazily, on_log before on_done, then on_delete', async () => {
    const p = await load({ config: 'cfg', vmConfig: 'vmcfg' });
    expect(msgs(p)).toEqual(['create 1 0', 'vm_start vmcfg', 'configure cfg']);
    p.clearLogs();
    const s = p.newStream();
    expect(msgs(p)).toEqual([]); // lazily: nothing before decodeHeaders
    s.sendRequestHeaders(REQ(''), true);
    s.sendResponseHeaders([[':status', '200']], true);
    s.complete();
    const m = msgs(p);
    expect(m[0]).toBe('create 2 1');
    expect(m.slice(-3)).toEqual(['onLog 2 / 200 add 2 reqtrailers -1/1', 'onDone 2', 'onDelete 2']);
    const s2 = p.newStream();
    expect(s2.id).toBe(3);
  });

  test('HeadersOnlyRequestHeadersOnly: edits, logs at levels, Continue', async () => {
    const p = await load();
    const s = p.newStream();
    expect(s.sendRequestHeaders(REQ('add', [['server', 'envoy']]), true)).toBe('Continue');
    expect(p.logs).toContainEqual({ level: 'debug', message: 'onRequestHeaders 2 6 eos' });
    expect(p.logs).toContainEqual({ level: 'info', message: 'header path /' });
    expect(s.requestHeaders).toContainEqual(['newheader', 'newheadervalue']);
    expect(s.requestHeaders.filter(([k]) => k === 'server')).toEqual([['server', 'envoy-wasm']]);
    expect(s.routeCacheCleared).toBe(2);
    s.complete();
    expect(p.logs).toContainEqual({ level: 'warn', message: 'onDone 2' });
  });

  test('AccessLogCreate: on_log without decodeHeaders creates the context first', async () => {
    const p = await load(); p.clearLogs();
    const s = p.newStream();
    s.localReplyFromEarlierFilter(403, 'denied');
    expect(msgs(p)).toEqual([]); // encode callbacks skipped: context never created
    s.complete();
    // no request headers in the log phase: NotFound (1), even for writes
    expect(msgs(p)).toEqual(['create 2 1', 'onLog 2  403 add 1 reqtrailers -1/1', 'onDone 2', 'onDelete 2']);
  });

  test('AllHeadersAndTrailersNotStarted: without decodeHeaders nothing is called', async () => {
    const p = await load(); p.clearLogs();
    const s = p.newStream();
    s.sendResponseHeaders([[':status', '200']], false);
    expect(s.sendResponseBody('x', false)).toBe('Continue');
    expect(s.sendResponseTrailers([['a', 'b']])).toBe('Continue');
    expect(msgs(p)).toEqual([]);
  });
});

describe('header maps', () => {
  test('HeadersOnlyRequestHeadersAndBody: response maps during request headers are BadArgument', async () => {
    const p = await load();
    await p.exchange({ headers: [['x-op', 'resp-in-req']] });
    expect(msgs(p)).toContain('add response header 2 size -1 trailer 2');
  });

  test('a header map returns BadArgument once its phase continued (request headers in the body phase)', async () => {
    const p = await load();
    await p.exchange({ method: 'POST', headers: [['x-op', 'req-headers-in-body']], body: 'x' });
    expect(msgs(p)).toContain('req header in body 2');
  });

  test('continue_stream nulls the request headers immediately: edits after it fail', async () => {
    const p = await load();
    const s = p.newStream();
    expect(s.sendRequestHeaders(REQ('continue-in-headers'), true)).toBe('StopAllIterationAndWatermark');
    expect(msgs(p)).toContain('add after continue 2');
    expect(s.requestContinued).toBe(true);
  });

  test('continue/close with a bad stream type -> BadArgument; UPSTREAM continue -> Unimplemented', async () => {
    const p = await load();
    await p.exchange({ headers: [['x-op', 'bad-stream-type']] });
    expect(msgs(p)).toContain('continue 9999 2 close 9999 2 upstream 12');
  });

  test('AddTrailers: trailers can be added from the end_stream body callback', async () => {
    const p = await load();
    const r = await p.exchange({ method: 'POST', headers: [['x-op', 'add-trailers']], body: 'hi', response: { body: 'yo' } });
    expect(msgs(p).filter((m) => m.startsWith('add trailer'))).toEqual(['add trailer 0', 'add trailer 0']);
    expect(r.request?.trailers).toEqual([['newtrailer', 'request']]);
    expect(r.response.trailers).toEqual([['newtrailer', 'response']]);
  });

  test('AllHeadersAndTrailers: response header added, trailers delivered', async () => {
    const p = await load();
    const r = await p.exchange({ trailers: [['t', '1']], body: 'b', response: { body: 'x', trailers: [['rt', '2']] } });
    expect(r.response.headers).toContainEqual(['test-status', 'OK']);
    expect(msgs(p)).toContain('onRequestTrailers 1');
    expect(msgs(p)).toContain('onResponseTrailers 1');
    expect(r.request?.trailers).toEqual([['t', '1']]);
  });

  test('non-UTF-8 header values survive byte-exact', async () => {
    const p = await load();
    const s = p.newStream();
    const raw = Uint8Array.of(0x61, 0xff, 0xfe, 0x62);
    s.sendRequestHeaders([[':path', '/'], [':method', 'GET'], [':authority', 'h'], ['x-bin', raw]], true);
    const v = s.requestHeaders.find(([k]) => k === 'x-bin')![1];
    expect(v).toEqual(raw);
    const r = await p.exchange({ headers: [['x-bin', raw]] });
    expect(r.request!.headers.find(([k]) => k === 'x-bin')![1]).toBe('a\u00ff\u00feb');
  });
});

describe('return codes', () => {
  test('HeadersStopAndContinue: Pause(1) becomes StopAllIterationAndWatermark; 3 and 4 map to StopAll*', async () => {
    const p = await load();
    expect(p.newStream().sendRequestHeaders(REQ('pause'), true)).toBe('StopAllIterationAndWatermark');
    expect(p.newStream().sendRequestHeaders(REQ('stop-buffer'), true)).toBe('StopAllIterationAndBuffer');
    expect(p.newStream().sendRequestHeaders(REQ('stop-watermark'), true)).toBe('StopAllIterationAndWatermark');
    expect(p.newStream().sendRequestHeaders(REQ('end-stream'), true)).toBe('ContinueAndEndStream');
  });

  test('allow_on_headers_stop_iteration passes StopIteration through; body callbacks still run', async () => {
    const p = await load({ allowOnHeadersStopIteration: true });
    const s = p.newStream();
    expect(s.sendRequestHeaders(REQ('pause'), false)).toBe('StopIteration');
    expect(s.sendRequestBody('abc', true)).toBe('Continue');
    expect(msgs(p)).toContain('onRequestBody abc 3 eos');
    expect(s.requestContinued).toBe(true);
    expect(Buffer.from(s.requestBody).toString()).toBe('abc');
  });

  test('StopAll from headers: body is buffered without callbacks; a resume delivers it to this filter', async () => {
    const p = await load();
    const s = p.newStream();
    s.sendRequestHeaders(REQ('call'), false);
    expect(s.sendRequestBody('he', false)).toBe('StopAllIterationAndWatermark');
    s.sendRequestBody('llo', true);
    expect(msgs(p).some((m) => m.startsWith('onRequestBody'))).toBe(false);
    p.respondHttpCall(p.pendingHttpCalls()[0].token, { headers: [[':status', '200']], body: 'ok' });
    expect(msgs(p)).toContain('onRequestBody hello 5 eos');
    expect(s.requestContinued).toBe(true);
    expect(s.requestHeaders).toContainEqual(['x-auth', 'ok']);
    expect(Buffer.from(s.requestBody).toString()).toBe('hello');
  });
});

describe('local replies', () => {
  test('deferred until the callback returns, then through this filter\'s own response callbacks (Rust http_headers README)', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'local']] });
    expect(msgs(p)).toContain('after local 0');
    expect(r.request).toBeNull();
    expect(r.response.status).toBe(200);
    expect(r.response.body).toBe('Hello, World!\n');
    expect(r.localReply?.details).toBe('hello__details');
    const seen = msgs(p).filter((m) => m.startsWith('<- '));
    expect(seen).toEqual(['<- :status: 200', '<- hello: World', '<- powered-by: proxy-wasm', '<- content-length: 14', '<- content-type: text/plain']);
    expect(r.response.headers).toContainEqual(['test-status', 'OK']);
    expect(msgs(p)).toContain('onResponseBody Hello, World!\n eos');
  });

  test('a local reply from the response headers phase replaces the response directly (no second pass)', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'resp-local']], response: { status: 200, body: 'upstream' } });
    expect(r.response.status).toBe(502);
    expect(r.response.body).toBe('bad gateway\n');
    expect(msgs(p).filter((m) => m.startsWith('<- :status'))).toEqual(['<- :status: 200']);
  });

  test('a local reply from the request body phase (403)', async () => {
    const p = await load();
    const r = await p.exchange({ method: 'POST', headers: [['x-op', 'body-local']], body: 'data' });
    expect(r.response.status).toBe(403);
    expect(r.response.body).toBe('Access forbidden.');
  });

  test('CloseRequest: close_stream resets with details wasm_close_stream', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'close']] });
    expect(msgs(p)).toContain('close 0');
    expect(r.reset).toBe(true);
    expect(r.details).toBe('wasm_close_stream');
  });
});

describe('gRPC local replies', () => {
  const GRPC: Array<[string, string]> = [['content-type', 'application/grpc']];
  test('a local reply on a gRPC request becomes trailers-only: 200, grpc-status mapped from the HTTP code, grpc-message percent-encoded', async () => {
    const p = await load();
    const r = await p.exchange({ method: 'POST', path: '/pkg.Svc/Call', headers: [['x-op', 'grpc-local'], ...GRPC] });
    expect(r.request).toBeNull();
    expect(r.response.status).toBe(200);
    expect(r.response.headers).toEqual([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '14'], ['grpc-message', 'back end: down 100%25%0A'], ['x-extra', '1'], ['test-status', 'OK']]); // + its own on_response_headers
    expect(r.response.body).toBe('');
    expect(r.localReply).toMatchObject({ status: 503, details: 'no_backend', body: 'back end: down 100%\n' });
  });

  test('the grpc_status argument wins over the mapping; no body -> no grpc-message; plain HTTP requests unchanged', async () => {
    const p = await load();
    const g = await p.exchange({ headers: [['x-op', 'grpc-code'], ['content-type', 'application/grpc+proto']] });
    expect(g.response.headers).toEqual([[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '16'], ['test-status', 'OK']]);
    const h = await p.exchange({ headers: [['x-op', 'grpc-local'], ['content-type', 'application/json']] });
    expect(h.response.status).toBe(503);
    expect(h.response.body).toBe('back end: down 100%\n');
  });

  test('wasm_fail_stream on a gRPC request: grpc-status 14 (Unavailable)', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'trap-req-headers'], ...GRPC] });
    expect(r.response.status).toBe(200);
    expect(r.response.headers).toContainEqual(['grpc-status', '14']);
    expect(r.details).toBe('wasm_fail_stream');
  });
});

describe('http calls', () => {
  test('AsyncCall: token 4 on the root context, content-length added, trailers, resume the request', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call']], callResponse: { status: 200, body: 'response' }, response: { body: 'up' } });
    expect(msgs(p)).toContain('call 0 token 4');
    expect(r.httpCalls).toEqual([{ cluster: 'cluster', headers: [[':method', 'POST'], [':path', '/auth'], [':authority', 'foo'], ['content-length', '11']], body: 'hello world', timeoutMs: 1000 }]);
    expect(msgs(p)).toContain('call response root=1 token=4 headers=2 body=8 trailers=0');
    expect(msgs(p)).toContain('set effective 0 bogus 2');
    expect(msgs(p)).toContain(':status -> 200 body response');
    expect(r.request?.headers).toContainEqual(['x-auth', 'ok']);
    expect(r.response.body).toBe('up');
    const r2 = await p.exchange({ headers: [['x-op', 'call']] });
    expect(r2.httpCalls).toHaveLength(1);
    expect(msgs(p)).toContain('call 0 token 8');
  });

  test('AsyncCall errors: unknown cluster and missing :path are BadArgument', async () => {
    const p = await load({ clusters: ['cluster'] });
    await p.exchange({ headers: [['x-op', 'call-errors']] });
    expect(msgs(p)).toContain('bad cluster 2');
    expect(msgs(p)).toContain('no path 2');
  });

  test('denied call -> 403 local reply from the http call response', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call']], callResponse: { status: 401 } });
    expect(r.response.status).toBe(403);
    expect(r.response.body).toBe('Access forbidden.\n');
    expect(r.request).toBeNull();
  });

  test('AsyncCallFailure: reset arrives as (token, 0, 0, 0) with get_status BrokenConnection "reset"', async () => {
    const p = await load();
    const s = p.newStream();
    s.sendRequestHeaders(REQ('call'), true);
    p.failHttpCall(4, 'reset');
    expect(msgs(p)).toContain('call response root=1 token=4 headers=0 body=0 trailers=0');
    expect(msgs(p)).toContain('async_call failed status=11 reset');
    expect(s.requestPaused).toBe(true);
  });

  test('a timeout arrives as Envoy router 504 "upstream request timeout"', async () => {
    const p = await load();
    const r = await p.exchange({ headers: [['x-op', 'call']], callResponse: 'timeout' });
    expect(msgs(p)).toContain(':status -> 504 body upstream request timeout');
    expect(r.response.status).toBe(403);
  });
});

describe('metrics', () => {
  test('ids, counter rules, gauge, histogram, get', async () => {
    const p = await load();
    await p.exchange({ headers: [['x-op', 'metrics']] });
    expect(msgs(p)).toContain('metric inc0 2 neg 2 histo 2 get 1 unknown 1');
    expect(p.metric('requests_total')).toBe(1);
    expect(p.metric('active')).toBe(3);
    expect(p.metrics()).toEqual({ requests_total: 1, active: 3, sizes: { count: 1, sum: 7 } });
  });

  test('Prometheus exposition: wasmcustom. stripped, no envoy_ prefix, stats_tags -> labels', async () => {
    const st = new MetricStore();
    const id = st.define(0, 'istio_requests_total_reporter=.=destination;.;response_code=.=200;.;');
    st.record(st.get(id)!, 3n);
    const txt = prometheusText([{ m: st.get(id)!, buckets: st.buckets }], [
      { tagName: 'reporter', regex: '(reporter=\\.=(.*?);\\.;)' }, { tagName: 'response_code', regex: '(response_code=\\.=(.*?);\\.;)' }]);
    expect(txt).toBe('# TYPE istio_requests_total_ counter\nistio_requests_total_{reporter="destination",response_code="200"} 3\n');
    const p = await load();
    await p.exchange({ headers: [['x-op', 'metrics']] });
    const prom = p.prometheus();
    expect(prom).toContain('# TYPE requests_total counter\nrequests_total 1\n');
    expect(prom).toContain('# TYPE active gauge\nactive 3\n');
    expect(prom).toContain('sizes_bucket{le="10"} 1\n');
    expect(prom).toContain('sizes_bucket{le="5"} 0\n');
    expect(prom).toContain('sizes_count 1\n');
  });
});

describe('traps and failure policy', () => {
  for (const phase of ['req-headers', 'req-body', 'req-trailers', 'resp-headers', 'resp-body', 'resp-trailers']) {
    test(`Panic on ${phase}: fail closed -> one 503 wasm_fail_stream, later requests too`, async () => {
      const p = await load();
      const r = await p.exchange({ method: 'POST', headers: [['x-op', `trap-${phase}`]], body: 'b', trailers: [['t', '1']], response: { body: 'r', trailers: [['u', '2']] } });
      expect(p.failed).toBe(true);
      if (phase === 'resp-body' || phase === 'resp-trailers') expect(r.reset).toBe(true); // headers already sent downstream: reset
      else expect(r.response.status).toBe(503);
      expect(r.details).toBe('wasm_fail_stream');
      expect(msgs(p).join('\n')).toMatch(/Function: proxy_on_(request|response)_(headers|body|trailers) failed: Uncaught RuntimeError: unreachable/);
      const again = await p.exchange({});
      expect(again.response.status).toBe(503);
      expect(again.localReply?.details).toBe('wasm_fail_stream');
      expect(again.logs).toEqual([]); // no callbacks at all, no on_log
    });
  }

  test('fail open: the trapping callback continues, later requests skip the filter', async () => {
    const p = await load({ failurePolicy: 'FAIL_OPEN' });
    const r = await p.exchange({ headers: [['x-op', 'trap-req-headers']], response: { body: 'up' } });
    expect(p.failed).toBe(true);
    expect(r.response.status).toBe(200);
    expect(r.request).not.toBeNull();
    const again = await p.exchange({ headers: [['x-op', 'add']] });
    expect(again.request?.headers).not.toContainEqual(['newheader', 'newheadervalue']);
    expect(again.response.headers).not.toContainEqual(['test-status', 'OK']);
  });

  test('FAIL_RELOAD: fail closed until the backoff elapsed, then a fresh configured VM for new streams', async () => {
    let now = 10_000;
    const p = await load({ failurePolicy: 'FAIL_RELOAD', clockMs: () => now, config: 'c1' });
    const r = await p.exchange({ headers: [['x-op', 'trap-req-headers']] });
    expect(p.failed).toBe(true);
    expect(r.response.status).toBe(503);
    // before the backoff elapsed, new streams fail closed
    now += 999;
    const held = await p.exchange({ headers: [['x-op', 'add']] });
    expect(held.response.status).toBe(503);
    expect(held.localReply?.details).toBe('wasm_fail_stream');
    expect(p.reloads).toBe(0);
    now += 1; // base backoff 1 s elapsed since the failure
    p.clearLogs();
    const ok = await p.exchange({ headers: [['x-op', 'add,metrics']] });
    expect(p.reloads).toBe(1);
    expect(p.failed).toBe(false);
    expect(ok.response.status).toBe(200);
    expect(ok.request?.headers).toContainEqual(['newheader', 'newheadervalue']);
    expect(msgs(p)).toContain('configure c1'); // re-instantiated and configured
    expect(msgs(p)).toContain('create 2 1'); // a fresh VM: context ids start again
    expect(msgs(p).some((m) => m.startsWith('Wasm VM of ') && m.includes('reloading it (reload 1'))).toBe(true);
    // a stream completed on the healthy VM: the backoff is back at its base (1 s) for the next failure
    await p.exchange({ headers: [['x-op', 'trap-req-headers']] });
    expect(p.failed).toBe(true);
    now += 1000;
    // reload 2 fails again on its first stream: the next reload waits for the doubled backoff (2 s)
    expect((await p.exchange({ headers: [['x-op', 'trap-req-headers']] })).response.status).toBe(503);
    expect(p.reloads).toBe(2);
    now += 1999;
    expect((await p.exchange({})).response.status).toBe(503);
    expect(p.reloads).toBe(2);
    now += 1;
    expect((await p.exchange({})).response.status).toBe(200);
    expect(p.reloads).toBe(3);
    expect(p.metric('requests_total')).toBeGreaterThanOrEqual(1); // metrics live in the host: they survive reloads
  });

  test('FAIL_RELOAD: a stream of the failed VM gets no callbacks from the new VM; its http call is cancelled', async () => {
    let now = 0;
    const p = await load({ failurePolicy: 'FAIL_RELOAD', clockMs: () => now, clusters: ['cluster'] });
    const held = p.newStream();
    held.sendRequestHeaders(REQ('call'), true);
    const token = p.pendingHttpCalls()[0].token;
    await p.exchange({ headers: [['x-op', 'trap-req-headers']] });
    now += 1000;
    expect((await p.exchange({})).response.status).toBe(200);
    expect(p.reloads).toBe(1);
    expect(() => p.respondHttpCall(token, { headers: [[':status', '200']] })).toThrow(/no pending http call/);
    const before = p.logs.length;
    held.complete();
    expect(p.logs.length).toBe(before); // no on_log/on_done into the new VM for a context it never created
  });

  test('FAIL_RELOAD does not revive a configuration rejected at startup (on_configure trapped)', async () => {
    let now = 0;
    const p = await load({ failurePolicy: 'FAIL_RELOAD', clockMs: () => now, config: 'trap' });
    expect(p.configured).toBe(false);
    now += 60_000;
    expect((await p.exchange({})).configured).toBe(false);
    const s = p.newStream();
    s.sendRequestHeaders(REQ('add'), true);
    expect(s.localReply?.details).toBe('wasm_fail_stream');
    expect(p.reloads).toBe(0);
  });

  test('FAIL_CLOSED never reloads', async () => {
    let now = 0;
    const p = await load({ clockMs: () => now });
    await p.exchange({ headers: [['x-op', 'trap-req-headers']] });
    now += 3_600_000;
    expect((await p.exchange({})).response.status).toBe(503);
    expect(p.reloads).toBe(0);
  });

  test('a trap in on_configure rejects the configuration', async () => {
    const p = await load({ config: 'trap' });
    expect(p.configured).toBe(false);
    expect(p.failed).toBe(true);
  });

  test('a trap in on_tick fails the VM; a waiting request then gets 503', async () => {
    const p = await load({ config: 'tick-trap' });
    expect(p.tickPeriod).toBe(1000);
    const s = p.newStream();
    s.sendRequestHeaders(REQ('pause'), true);
    expect(p.tick()).toBe(true);
    expect(p.failed).toBe(true);
    expect(s.localReply?.status).toBe(503);
  });
});

describe('properties, shared data, queues, WASI', () => {
  test('properties: stream attributes, plugin_name, xds.*, user values, set_property filter state', async () => {
    const p = await load({ pluginName: 'kitchen', properties: { 'xds.listener_direction': 1n, 'my.custom': 'yes' } });
    await p.exchange({ path: '/abc?q=1', headers: [['x-op', 'props']] });
    expect(msgs(p)).toContain('props path=/abc?q=1 plugin=kitchen dir=1 custom=yes');
    expect(msgs(p)).toContain('state v1');
  });

  test('shared data CAS', async () => {
    const p = await load({ vmId: 'cas-test' });
    await p.exchange({ headers: [['x-op', 'shared']] });
    expect(msgs(p)).toContain('shared v1 mismatch 8 ok 0 missing 1');
  });

  test('shared data and queue items are copies of the bytes, not views into wasm memory', async () => {
    const p = await load({ vmConfig: 'queue', vmId: 'copy-test' });
    await p.exchange({ headers: [['x-op', 'shared-copy']] });
    const m = msgs(p);
    expect(m).toContain('shared copy abc');
    expect(m.some((x) => /^queue \d+ abc 0$/.test(x))).toBe(true);
  });

  test('SharedQueue: register in vm_start, resolve, enqueue from a stream, on_queue_ready on the root', async () => {
    const p = await load({ vmConfig: 'queue', vmId: 'queue-test' });
    await p.exchange({ headers: [['x-op', 'enqueue']] });
    const m = msgs(p);
    expect(m).toContain('resolve 1 0'.replace('1', m.find((x) => x.startsWith('queue registered'))!.split(' ')[2]));
    expect(m.some((x) => /^queue \d+ data1 0$/.test(x))).toBe(true);
    expect(m).toContain('then 7');
    expect(m).toContain('bad resolve 0 1');
  });

  test('WASI: fd_write -> logs (stdout info, stderr error), random_get limit, clocks, environ from env', async () => {
    const p = await load({ vmConfig: 'env', env: { ENVOY_HTTP_WASM_TEST_HEADERS_HOST_ENV: 'foo', KEY_VALUE_ENV: 'bar' } });
    expect(msgs(p)).toContain('env ENVOY_HTTP_WASM_TEST_HEADERS_HOST_ENV=foo;KEY_VALUE_ENV=bar');
    await p.exchange({ headers: [['x-op', 'wasi']] });
    expect(p.logs).toContainEqual({ level: 'info', message: 'to stdout' });
    expect(p.logs).toContainEqual({ level: 'error', message: 'to stderr' });
    expect(msgs(p)).toContain('random 0 0 28 clock ok bad clock notsup');
    const q = await load({ vmConfig: 'env' });
    expect(msgs(q)).toContain('env ');
  });

  test('logSink gets Envoy-formatted lines: stream prefix "<name> <root_id> <vm_id>", root prefix "<root_id> <vm_id>"', async () => {
    const lines: string[] = [];
    const p = await load({ pluginName: 'my_plugin', rootId: 'my_root_id', vmId: 'my_vm_id', config: 'c', logSink: (l) => lines.push(l) });
    await p.exchange({});
    expect(lines).toContain('[info] wasm log my_root_id my_vm_id: configure c');
    expect(lines).toContain('[info] wasm log my_plugin my_root_id my_vm_id: header path /');
    const q = await load({ logSink: (l) => lines.push(l), config: 'bare' });
    expect(q.configured).toBe(true);
    expect(lines).toContain('[info] wasm log: configure bare');
  });

  test('logLevel drops lower levels', async () => {
    const p = await load({ logLevel: 'warn' });
    await p.exchange({});
    expect(p.logs.every((l) => ['warn', 'error', 'critical'].includes(l.level))).toBe(true);
    expect(msgs(p)).toContain('onDone 2');
  });
});
