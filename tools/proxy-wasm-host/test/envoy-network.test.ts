// Mirrors Envoy's test/extensions/filters/network/wasm/wasm_filter_test.cc (network filter contexts) on a raw-ABI
// fixture (test/fixtures/envoy_network.ts), plus the TCP-context answers of the other hostcalls.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { loadPlugin, type Plugin, type PluginOptions } from '../src/index';
import { compileFixture } from './helpers';

let wasm: Uint8Array;
beforeAll(() => { wasm = compileFixture('envoy_network'); });

const load = (mode: string, opts: PluginOptions = {}) => loadPlugin(wasm, { config: mode, clusters: ['cluster'], ...opts });
const traces = (p: Plugin) => p.logs.filter((l) => l.level === 'trace').map((l) => l.message);
const infos = (p: Plugin) => p.logs.filter((l) => l.level === 'info').map((l) => l.message);
const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('wasm_filter_test.cc (network)', () => {
  test('HappyPath: data both ways, set_buffer_bytes(0, 5, "write") replaces "Fake", upstream eos -> upstream close (0), local close (1), then done, log, delete', async () => {
    const p = await load('logging');
    const c = p.newConnection();
    expect(c.newConnectionStatus).toBe('Continue');
    expect(c.downstreamData('Fake')).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('write');
    expect(c.upstreamData('Done', true)).toBe('Continue');
    expect(text(c.sentDownstream)).toBe('Done');
    c.closeDownstream('local');
    c.closeDownstream('local'); // Envoy: a second close is a no-op (no second event)
    expect(traces(p)).toEqual([
      'onNewConnection 2',
      'onDownstreamData 2 len=4 end_stream=0\nFake',
      'onUpstreamData 2 len=4 end_stream=1\nDone',
      'onUpstreamConnectionClose 2 0',
      'onDownstreamConnectionClose 2 1',
      'onDone 2', 'onLog 2', 'onDelete 2', // onCloseTCP: done BEFORE log (HTTP is log, done, delete)
    ]);
  });

  test('CloseStream: a remote close reports peer 2', async () => {
    const p = await load('logging');
    const c = p.newConnection();
    c.closeDownstream('remote');
    expect(traces(p)).toEqual(['onNewConnection 2', 'onDownstreamConnectionClose 2 2', 'onDone 2', 'onLog 2', 'onDelete 2']);
    expect(c.completed).toBe(true);
    expect(p.connections.size).toBe(0);
  });

  test('an upstream reset (no end of stream): only the LOCAL downstream close, no on_upstream_data / on_upstream_connection_close', async () => {
    const p = await load('logging');
    const c = p.newConnection();
    c.closeUpstream({ reset: true });
    expect(traces(p)).toEqual(['onNewConnection 2', 'onDownstreamConnectionClose 2 1', 'onDone 2', 'onLog 2', 'onDelete 2']);
    expect([c.closedBy, c.clientEnded, c.completed]).toEqual(['local', false, true]);
  });

  test('CloseDownstream / CloseUpstream: close_stream closes the connection after the callback (FlushWrite), which still answers Continue', async () => {
    for (const [dir, details] of [['down', 'wasm_downstream_close'], ['up', 'wasm_upstream_close']] as const) {
      const p = await load('close_stream');
      const c = p.newConnection();
      expect(dir === 'down' ? c.downstreamData('Fake') : c.upstreamData('Fake')).toBe('Continue');
      expect(c.closed).toBe(true);
      expect(c.closeDetails).toBe(details);
      expect(c.closedBy).toBe('local');
      // closed before the filter manager went on: nothing forwarded
      expect(dir === 'down' ? c.sentUpstream.length : c.sentDownstream.length).toBe(0);
      expect(traces(p).slice(-4)).toEqual(['onDownstreamConnectionClose 2 1', 'onDone 2', 'onLog 2', 'onDelete 2']);
    }
  });

  test('PanicOnNewConnection: StopIteration and the connection is closed, no more callbacks', async () => {
    const p = await load('panic');
    const c = p.newConnection();
    expect(c.newConnectionStatus).toBe('StopIteration');
    expect(c.closed).toBe(true);
    expect(c.failed).toBe(true);
    expect(p.logs.some((l) => l.level === 'critical' && l.message.startsWith('Function: proxy_on_new_connection failed: Uncaught RuntimeError: unreachable'))).toBe(true);
    expect(traces(p)).toEqual([]); // no close/done/log/delete on a failed VM
  });

  test('PanicOnDownstreamData / PanicOnUpstreamData: StopIteration, the connection is closed, the bytes go nowhere', async () => {
    for (const dir of ['down', 'up'] as const) {
      const p = await load('panic_data');
      const c = p.newConnection();
      expect(c.newConnectionStatus).toBe('Continue');
      expect(dir === 'down' ? c.downstreamData('Fake') : c.upstreamData('Fake')).toBe('StopIteration');
      expect(p.failed).toBe(true);
      expect(c.closed).toBe(true);
      expect(c.closedBy).toBe('local');
      expect(c.sentUpstream.length + c.sentDownstream.length).toBe(0);
      expect(traces(p)).toEqual(['onNewConnection 2']);
    }
  });

  test('BadCode (failed VM): fail closed closes each new connection with StopIteration; fail open skips the filter', async () => {
    const closed = await load('panic');
    closed.newConnection();
    expect(closed.failed).toBe(true);
    const next = closed.newConnection();
    expect(next.newConnectionStatus).toBe('StopIteration');
    expect(next.closed).toBe(true);
    expect(() => next.downstreamData('x')).toThrow(/connection is closed/); // the driver refuses data on a closed connection

    const open = await load('panic', { failurePolicy: 'FAIL_OPEN' });
    const first = open.newConnection();
    expect(first.newConnectionStatus).toBe('Continue'); // CHECK_FAIL_NET fail open
    expect(first.downstreamData('a')).toBe('Continue');
    expect(text(first.sentUpstream)).toBe('a');
    const skipped = open.newConnection();
    expect(skipped.skip).toBe(true);
    expect(skipped.downstreamData('Fake')).toBe('Continue');
    expect(text(skipped.sentUpstream)).toBe('Fake');
  });

  test('FAIL_RELOAD: connections fail closed until the backoff elapsed, then a fresh VM serves new connections', async () => {
    let now = 0;
    const p = await load('panic_data', { failurePolicy: 'FAIL_RELOAD', reloadBackoffMs: 1000, clockMs: () => now });
    const c = p.newConnection();
    expect(c.downstreamData('boom')).toBe('StopIteration');
    expect(p.failed).toBe(true);
    now = 500;
    const early = p.newConnection();
    expect(early.newConnectionStatus).toBe('StopIteration');
    expect(early.closed).toBe(true);
    now = 1500;
    const fresh = p.newConnection();
    expect(p.reloads).toBe(1);
    expect(p.failed).toBe(false);
    expect(fresh.newConnectionStatus).toBe('Continue');
    expect(fresh.id).toBe(2); // context ids restart on the new VM
    expect(fresh.closed).toBe(false);
  });

  test('StopAndResumeDownstreamViaAsyncCall: continue_stream(DOWNSTREAM) from the http call response releases the held bytes', async () => {
    const p = await load('resume_call');
    const c = p.newConnection();
    expect(c.downstreamData('abc')).toBe('StopIteration');
    const [call] = p.pendingHttpCalls();
    expect(call.headers).toEqual([[':method', 'POST'], [':path', '/'], [':authority', 'foo'], ['content-length', '6']]);
    expect(c.sentUpstream.length).toBe(0);
    p.respondHttpCall(call.token, { headers: [[':status', '200']] });
    expect(infos(p)).toEqual(['effective 0', 'continueDownstream']);
    expect(text(c.sentUpstream)).toBe('abc');
  });

  test('StopAndResumeUpstreamViaAsyncCall: continue_stream(UPSTREAM) is Unimplemented, the bytes stay held', async () => {
    const p = await load('resume_call');
    const c = p.newConnection();
    expect(c.upstreamData('xyz')).toBe('StopIteration');
    p.respondHttpCall(p.pendingHttpCalls()[0].token, { headers: [[':status', '200']] });
    expect(infos(p)).toEqual(['effective 0', 'continueUpstream unimplemented']);
    expect(text(c.heldUpstream)).toBe('xyz');
    expect(c.sentDownstream.length).toBe(0);
  });
});

describe('TCP context answers of the other hostcalls (Envoy context.cc)', () => {
  test('buffers, header maps, local responses and HTTP stream types inside a TCP context', async () => {
    const p = await load('buffers');
    const c = p.newConnection();
    expect(c.downstreamData('data')).toBe('Continue');
    // DOWNSTREAM_DATA readable; UPSTREAM_DATA not current -> Ok + empty; middle insert and edits of absent buffers
    // BadArgument; no body -> Ok + empty / BadArgument; header maps absent -> BadArgument (pairs: Ok + empty);
    // send_local_response -> Ok, nothing sent; continue/close of HTTP types -> Ok; continue(UPSTREAM) -> 12; type 4 -> 2
    expect(infos(p)).toEqual([
      'down data up-buffer=[]:0 middle=2 set-up=2 body=[]:0 set-body=2 header=null:2 pairs=0:0 add=2 size=-1:2 local=0 continue(0)=0 close(1)=0 continue(3)=12 close(4)=2',
    ]);
    expect(c.ignoredLocalResponses).toBe(1);
    expect(c.closed).toBe(false);
    expect(text(c.sentUpstream)).toBe('data');
  });

  test('the same hostcalls from the root context: body Ok + empty, edits BadArgument, continue/close of every stream type Ok (no callbacks to act on), UPSTREAM continue 12', async () => {
    const p = await load('root_calls');
    expect(p.configured).toBe(true);
    expect(infos(p)).toEqual(['root body=[]:0 set-body=2 continue(0)=0 continue(1)=0 close(0)=0 close(1)=0 close(2)=0 continue(3)=12 close(4)=2']);
  });

  test('an HTTP stream context reads DOWNSTREAM_DATA as Ok + empty and cannot set it (Envoy: no network buffer); ids are shared', async () => {
    const p = await load('buffers');
    const c = p.newConnection();
    expect(c.id).toBe(2);
    const s = p.newStream();
    expect(s.id).toBe(3);
    s.sendRequestHeaders([[':path', '/'], [':method', 'GET'], [':authority', 'h']], true);
    expect(infos(p)).toEqual(['http down=[]:0 set=2']);
  });

  test('properties: source, destination, connection id, user values, upstream absent before tcp_proxy connects; set_property is connection filter state', async () => {
    const p = await load('props', { pluginName: 'tcp-plugin' });
    p.newConnection({ source: '10.1.2.3:40000', destination: '10.0.0.1:9000', connectionId: 77, properties: { 'connection.requested_server_name': 'db.local' } });
    expect(infos(p)).toEqual([
      'props src=10.1.2.3:40000 dst=10.0.0.1:9000 conn=77 cid=77 up=null sni=db.local plugin=tcp-plugin',
      'set_property 0 -> v1',
    ]);
  });

  test('StopIteration from on_new_connection: tcp_proxy is not connected until data continues through the filter', async () => {
    const p = await load('hold_new');
    const c = p.newConnection();
    expect(c.newConnectionStatus).toBe('StopIteration');
    expect(c.upstreamConnected).toBe(false);
    expect(() => c.upstreamData('early')).toThrow(/no upstream yet/);
    expect(c.downstreamData('Fake')).toBe('Continue');
    expect(c.upstreamConnected).toBe(true);
    expect(text(c.sentUpstream)).toBe('write');
    p.close();
    expect(c.closed).toBe(true);
    expect(traces(p)).not.toContain('onDone 2'); // plugin teardown: no callbacks for the connection
  });
});
