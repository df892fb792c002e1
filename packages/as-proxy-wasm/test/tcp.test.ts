// TcpContext (network filters) through the Envoy-faithful host: test/fixtures/tcp.ts.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

let wasm: Uint8Array<ArrayBuffer>;
beforeAll(() => { wasm = fixtures('tcp').tcp; });

const load = (config: Record<string, unknown> = {}, opts: Record<string, unknown> = {}): Promise<Plugin> =>
  loadPlugin(wasm, { config, clusters: ['auth'], ...opts });
const text = (b: Uint8Array) => Buffer.from(b).toString();
const msgs = (p: Plugin) => p.logs.map((l) => l.message);

describe('TcpContext hooks and lifecycle', () => {
  it('new connection, data both ways, client close: every hook in Envoy order (done, log, delete)', async () => {
    const p = await load();
    const c = p.newConnection({ source: '10.0.0.7:5555', destination: '127.0.0.1:15001' });
    expect(c.newConnectionStatus).toBe('Continue');
    expect(c.downstreamData('hello')).toBe('Continue');
    expect(c.upstreamData('world')).toBe('Continue');
    c.closeDownstream('remote');
    expect(text(c.sentUpstream)).toBe('hello');
    expect(text(c.sentDownstream)).toBe('world');
    expect(c.completed).toBe(true);
    expect(msgs(p)).toEqual([
      'new #2 from 10.0.0.7:5555 to port 15001 conn 2 live 1',
      'down #2 len=5 eos=0',
      'up #2 len=5 eos=0',
      'downstream close #2 peer=2',
      'done #2',
      'log #2 down=5 up=5',
      'delete #2',
    ]);
    // the context is gone from the SDK's table
    const c2 = p.newConnection();
    expect(msgs(p).at(-1)).toBe('new #3 from 127.0.0.1:45678 to port 10000 conn 3 live 1');
    c2.closeDownstream();
  });

  it('upstream end of stream: on_upstream_data(eos) then on_upstream_connection_close(UNKNOWN); the upstream closing closes the client side (LOCAL)', async () => {
    const p = await load();
    const c = p.newConnection();
    c.downstreamData('ping');
    p.clearLogs();
    c.closeUpstream();
    expect(msgs(p)).toEqual([
      'up #2 len=0 eos=1',
      'upstream close #2 peer=0',
      'downstream close #2 peer=1',
      'done #2',
      'log #2 down=4 up=0',
      'delete #2',
    ]);
    expect(c.clientEnded).toBe(true);
    expect(c.closedBy).toBe('local');
    expect(() => c.downstreamData('late')).toThrow(/connection is closed/);
  });
});

describe('downstream data: StopIteration accumulates, edits, continue', () => {
  it('rewrites a token split across chunks (the held bytes come back with the next chunk)', async () => {
    const p = await load();
    const c = p.newConnection();
    expect(c.downstreamData('my sec')).toBe('StopIteration');
    expect(text(c.heldDownstream)).toBe('my sec');
    expect(c.sentUpstream.length).toBe(0);
    expect(c.downstreamData('ret is safe')).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('my ****** is safe');
    expect(msgs(p)).toContain('down #2 len=17 eos=0'); // 6 held + 11 new
    expect(msgs(p)).toContain('masked: Ok');
  });

  it('holds until min_bytes, then releases everything at once', async () => {
    const p = await load({ min_bytes: 8 });
    const c = p.newConnection();
    expect(c.downstreamData('abc')).toBe('StopIteration');
    expect(c.downstreamData('def')).toBe('StopIteration');
    expect(c.sentUpstream.length).toBe(0);
    expect(c.downstreamData('gh')).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('abcdefgh');
    expect(msgs(p).filter((m) => m.startsWith('holding'))).toEqual(['holding 3/8', 'holding 6/8']);
    // end of stream releases whatever is held
    expect(c.downstreamData('x', true)).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('abcdefghx');
    expect(c.upstreamEnded).toBe(true);
  });

  it('closes on the forbidden word: close_stream(DOWNSTREAM) after the callback, peer LOCAL, data never forwarded', async () => {
    const p = await load({ forbidden: 'DROP' });
    const c = p.newConnection();
    expect(c.downstreamData('please DROP table')).toBe('StopIteration');
    expect(c.closed).toBe(true);
    expect(c.closeDetails).toBe('wasm_downstream_close');
    expect(c.sentUpstream.length).toBe(0);
    expect(msgs(p).slice(-5)).toEqual([
      'forbidden word: closing, status Ok',
      'downstream close #2 peer=1',
      'done #2',
      'log #2 down=0 up=0',
      'delete #2',
    ]);
  });

  it('pauses on an http call from the TCP context and resumes with continueDownstream (answer 200) or closes (403)', async () => {
    const p = await load();
    const c = p.newConnection();
    expect(c.downstreamData('CALL me')).toBe('StopIteration');
    const [call] = p.pendingHttpCalls();
    expect(call.cluster).toBe('auth');
    expect(call.contextId).toBe(c.id);
    p.respondHttpCall(call.token, { headers: [[':status', '200']] });
    expect(msgs(p)).toContain('call answered 200 on #2 held 7');
    expect(msgs(p)).toContain('continue Ok');
    expect(text(c.sentUpstream)).toBe('CALL me');
    expect(c.closed).toBe(false);

    const d = p.newConnection();
    d.downstreamData('CALL again');
    p.respondHttpCall(p.pendingHttpCalls()[0].token, { headers: [[':status', '403']] });
    expect(d.closed).toBe(true);
    expect(d.closeDetails).toBe('wasm_downstream_close');
    expect(d.sentUpstream.length).toBe(0);
  });
});

describe('gRPC calls from a TCP context (grpc-exports next to tcp-exports)', () => {
  it('the outcome runs on the connection: ok continues the held bytes, a failure closes', async () => {
    const p = await load({}, { clusters: ['auth', 'authz'] });
    const c = p.newConnection();
    expect(c.downstreamData('GRPC ping')).toBe('StopIteration');
    const [call] = p.pendingGrpcCalls();
    expect(call.contextId).toBe(c.id);
    p.respondGrpcCall(call.token, 'ok');
    expect(msgs(p)).toContain('grpc answered 0 on #2 held 9');
    expect(text(c.sentUpstream)).toBe('GRPC ping');

    const d = p.newConnection();
    d.downstreamData('GRPC again');
    p.failGrpcCall(p.pendingGrpcCalls()[0].token, 7, 'denied');
    expect(msgs(p)).toContain('grpc answered 7 on #3 held 10');
    expect(d.closed).toBe(true);
    expect(d.sentUpstream.length).toBe(0);
  });
});

describe('upstream data edits at the allowed offsets (Envoy Buffer::copyFrom)', () => {
  const cases: Array<[string, string, string]> = [
    ['prepend', '<<world', 'prepend Ok'],
    ['append', 'world>>', 'append Ok'],
    ['replace-prefix', 'XYrld', 'replace-prefix Ok'],
    ['middle', 'world', 'middle BadArgument'],
  ];
  for (const [edit, out, log] of cases) {
    it(`${edit}`, async () => {
      const p = await load({ upstream_edit: edit });
      const c = p.newConnection();
      c.upstreamData('world');
      expect(text(c.sentDownstream)).toBe(out);
      expect(msgs(p)).toContain(log);
    });
  }

  it('a held upstream direction accumulates (the next callback sees old + new bytes)', async () => {
    const p = await load({ upstream_edit: 'hold' });
    const c = p.newConnection();
    expect(c.upstreamData('ab')).toBe('StopIteration');
    expect(c.upstreamData('cd')).toBe('StopIteration');
    expect(text(c.heldUpstream)).toBe('abcd');
    expect(msgs(p)).toContain('up #2 len=4 eos=0');
    expect(c.sentDownstream.length).toBe(0);
  });
});

describe('HTTP-only calls inside a TCP context answer like Envoy, nothing traps', () => {
  it('header maps BadArgument (pairs: empty), bodies empty / BadArgument, local response Ok (ignored), continue/close HTTP Ok, continueUpstream Unimplemented', async () => {
    const p = await load();
    const c = p.newConnection();
    expect(c.downstreamData('HTTP?')).toBe('Continue');
    expect(msgs(p)).toContain(
      'http get=null:BadArgument pairs=0:Ok set=BadArgument body=0 bodySet=BadArgument local=Ok continueRequest=Ok closeResponse=Ok continueUpstream=Unimplemented continue(7)=BadArgument',
    );
    expect(c.ignoredLocalResponses).toBe(1);
    expect(c.closed).toBe(false);
    expect(text(c.sentUpstream)).toBe('HTTP?');
  });
});

describe('a trap in a TCP callback: failure policy', () => {
  it('fail closed: the connection is closed (no more callbacks), later connections are closed at once', async () => {
    const p = await load();
    const c = p.newConnection();
    expect(c.downstreamData('PANIC')).toBe('StopIteration');
    expect(p.failed).toBe(true);
    expect(c.closed).toBe(true);
    expect(c.failed).toBe(true);
    expect(c.sentUpstream.length).toBe(0);
    expect(msgs(p).some((m) => m.startsWith('Function: proxy_on_downstream_data failed: Uncaught RuntimeError: unreachable'))).toBe(true);
    expect(msgs(p)).not.toContain('done #2');
    const d = p.newConnection();
    expect(d.newConnectionStatus).toBe('StopIteration');
    expect(d.closed).toBe(true);
  });

  it('fail open: the callback continues (bytes pass), later connections skip the filter', async () => {
    const p = await load({}, { failurePolicy: 'FAIL_OPEN' });
    const c = p.newConnection();
    expect(c.downstreamData('PANIC now')).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('PANIC now');
    expect(c.closed).toBe(false);
    p.clearLogs();
    const d = p.newConnection();
    expect(d.skip).toBe(true);
    expect(d.downstreamData('x')).toBe('Continue');
    expect(text(d.sentUpstream)).toBe('x');
    d.closeDownstream();
    expect(msgs(p)).toEqual([]);
  });
});

describe('the README example', () => {
  it('holds until 4 bytes, prefixes upstream data, logs at close; QUIT closes', async () => {
    const p = await loadPlugin(fixtures('tcp_readme').tcp_readme);
    const c = p.newConnection();
    expect(c.downstreamData('he')).toBe('StopIteration');
    expect(c.downstreamData('llo')).toBe('Continue');
    expect(text(c.sentUpstream)).toBe('hello');
    expect(c.upstreamData('hi')).toBe('Continue');
    expect(text(c.sentDownstream)).toBe('> hi');
    c.closeDownstream('remote');
    expect(msgs(p)).toEqual(['closed by the client', 'in=5 out=2']);

    p.clearLogs();
    const q = p.newConnection();
    expect(q.downstreamData('QUIT')).toBe('StopIteration');
    expect(q.closed).toBe(true);
    expect(q.closeDetails).toBe('wasm_downstream_close');
    expect(msgs(p)).toEqual(['closed by the proxy', 'in=0 out=0']);
  });
});

describe('memory', () => {
  it('a long-lived connection fed many small chunks stays within 128 KiB of linear memory (data callbacks count as collector debt)', async () => {
    const p = await loadPlugin(fixtures('tcp_readme').tcp_readme);
    const c = p.newConnection();
    for (let i = 0; i < 50000; i++) c.downstreamData('abcdefgh');
    expect(p.memoryBytes()).toBeLessThanOrEqual(128 * 1024);
    for (let i = 0; i < 5000; i++) { const d = p.newConnection(); d.downstreamData('hello'); d.upstreamData('world'); d.closeDownstream(); }
    expect(p.memoryBytes()).toBeLessThanOrEqual(128 * 1024);
  });
});
