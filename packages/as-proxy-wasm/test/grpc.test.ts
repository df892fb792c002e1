// gRPC calls and streams through the SDK (test/fixtures/grpc.ts) on the Envoy-faithful host.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin, type Plugin, type HttpStream } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

let wasm: Uint8Array<ArrayBuffer>;
beforeAll(() => { wasm = fixtures('grpc').grpc; });

const load = (): Promise<Plugin> => loadPlugin(wasm, { clusters: ['grpc'] });
const REQ = (op: string, extra: Array<[string, string]> = []): Array<[string, string]> =>
  [[':method', 'GET'], [':path', '/'], [':authority', 'x'], ['x-op', op], ...extra];
const events = (s: HttpStream) => s.requestHeaders.filter(([k]) => k === 'x-ev').map(([, v]) => String(v));

async function start(op: string, extra: Array<[string, string]> = []): Promise<{ p: Plugin; s: HttpStream; status: string }> {
  const p = await load();
  const s = p.newStream();
  const status = s.sendRequestHeaders(REQ(op, extra), true);
  return { p, s, status };
}

describe('unary gRPC calls', () => {
  it('success: request metadata and message sent, the callback runs on the originating stream (effective context) and resumes it', async () => {
    const { p, s, status } = await start('call', [['x-msg', 'ping']]);
    expect(status).toBe('StopAllIterationAndWatermark');
    const [call] = p.pendingGrpcCalls();
    expect(call).toMatchObject({ token: 5, cluster: 'grpc', service: 'pkg.Svc', method: 'Get', path: '/pkg.Svc/Get', timeoutMs: 1500, contextId: s.id });
    expect(call.initialMetadata).toEqual([['x-src', 'as-proxy-wasm'], ['x-upper', '1']]);
    expect(Buffer.from(call.message).toString()).toBe('ping');
    p.respondGrpcCall(5, 'pong!');
    expect(s.requestContinued).toBe(true);
    expect(events(s)).toEqual(['token:5', 'ok:pong!:5', 'pending:0']);
    expect(p.failed).toBe(false);
  });

  it('failure: status and grpc-message reach the callback, no message', async () => {
    const { p, s } = await start('call', [['x-msg', 'ping']]);
    p.failGrpcCall(5, 7, 'permission denied');
    expect(events(s)).toEqual(['token:5', 'fail:7:permission denied:null', 'pending:0']);
    expect(s.requestContinued).toBe(true);
  });

  it('timeout: Unavailable "upstream request timeout" (what Envoy\'s client reports)', async () => {
    const { p, s } = await start('call');
    p.failGrpcCall(5, 'timeout');
    expect(events(s)).toEqual(['token:5', 'fail:14:upstream request timeout:null', 'pending:0']);
  });

  it('a serialized GrpcService (encodeGrpcService) names the cluster and :authority', async () => {
    const { p, s } = await start('call-proto', [['x-msg', 'm']]);
    expect(p.pendingGrpcCalls()[0].target).toMatchObject({ cluster: 'grpc', authority: 'api.internal', fromProto: true });
    expect(p.pendingGrpcCalls()[0].timeoutMs).toBe(0);
    p.respondGrpcCall(5, '');
    expect(events(s)).toEqual(['token:5', 'ok::0', 'pending:0']);
  });

  it('unknown cluster: ParseFailure (4), a checkable result, nothing pending, no trap', async () => {
    const { p, s, status } = await start('call-unknown');
    expect(status).toBe('Continue');
    expect(events(s)).toEqual(['dispatch:4:not-ok:cancel:1:pending:0']);
    expect(p.grpcCallLog()).toEqual([]);
  });

  it('cancel: Ok, then NotFound; the host forgets the call and no callback runs', async () => {
    const { p, s } = await start('call-cancel');
    expect(events(s)).toEqual(['cancel:0:1:pending:0']);
    expect(p.grpcCallLog()[0].state).toBe('cancelled');
    expect(p.pendingGrpcCalls()).toEqual([]);
  });

  it('bad token kinds answer the host\'s statuses (call id on a stream: send 2, cancel 1; http id: 2, 2; gone stream: 1, 1; http id as a call: 2)', async () => {
    const { s, p } = await start('bad-tokens');
    expect(events(s)).toEqual(['tokens:2122112']);
    expect(p.failed).toBe(false);
  });

  it('plugin teardown cancels the outstanding call: no callback, no trap', async () => {
    const { p, s } = await start('call');
    p.close();
    expect(p.grpcCallLog()[0].state).toBe('cancelled');
    expect(events(s)).toEqual(['token:5']);
    expect(p.failed).toBe(false);
  });
});

describe('gRPC streams', () => {
  it('metadata in and out, messages both ways, trailers, then the remote close (the SDK closes our side)', async () => {
    const { p, s } = await start('stream', [['x-msg', 'hello']]);
    const [st] = p.pendingGrpcStreams();
    expect(st).toMatchObject({ token: 6, kind: 'stream', service: 'pkg.Svc', method: 'Chat', contextId: s.id });
    expect(st.initialMetadata).toEqual([['x-src', 'as-proxy-wasm'], ['x-upper', '1']]);
    p.deliverGrpcInitialMetadata(6, [['x-md', 'v1'], ['other', '2']]);
    p.deliverGrpcMessage(6, 'one');
    p.deliverGrpcMessage(6, 'two');
    p.deliverGrpcTrailingMetadata(6, { 'x-t': 't1' });
    expect(s.requestContinued).toBe(false);
    p.remoteCloseGrpcStream(6, 0, 'done');
    expect(s.requestContinued).toBe(true);
    expect(events(s)).toEqual([
      'stream:6:send:0:open:1', 'initial:2:v1', 'message:one:3', 'send:0', 'message:two:3', 'send:0',
      'trailing:1:t1:initial:gone', 'closed:0:done:open',
    ]);
    expect(p.grpcStream(6)!.sent.map((m) => Buffer.from(m).toString())).toEqual(['hello', 'echo:one', 'echo:two']);
    expect(p.grpcStream(6)).toMatchObject({ remoteClosed: true, localClosed: true, finished: true });
    expect(p.pendingGrpcStreams()).toEqual([]);
  });

  it('local close first (half-close): messages still arrive, the remote close finishes it', async () => {
    const { p, s } = await start('stream', [['x-msg', 'bye'], ['x-close-first', '1']]);
    expect(p.grpcStream(6)).toMatchObject({ localClosed: true, finished: false });
    p.deliverGrpcMessage(6, 'late');
    p.remoteCloseGrpcStream(6, 0, 'ok');
    expect(events(s)).toEqual(['stream:6:send:0:open:1', 'close:0', 'message:late:4', 'send:0', 'closed:0:ok:local']);
    expect(p.grpcStream(6)!.sent.map((m) => Buffer.from(m).toString())).toEqual(['bye']); // the echo after close is dropped
    expect(p.grpcStream(6)!.finished).toBe(true);
  });

  it('close from a message handler, then a failing remote close with its status and message', async () => {
    const { p, s } = await start('stream', [['x-msg', 'a']]);
    p.deliverGrpcMessage(6, 'close');
    p.remoteCloseGrpcStream(6, 13, 'internal');
    expect(events(s).slice(1)).toEqual(['message:close:5', 'close:0', 'closed:13:internal:local']);
  });

  it('cancel from a message handler: reset, no further events', async () => {
    const { p, s } = await start('stream', [['x-msg', 'a']]);
    p.deliverGrpcMessage(6, 'cancel');
    expect(() => p.deliverGrpcMessage(6, 'more')).toThrow('no open gRPC stream');
    expect(events(s).slice(1)).toEqual(['message:cancel:6', 'cancel:0:0']);
    expect(p.grpcStream(6)).toMatchObject({ cancelled: true, finished: true });
  });

  it('an event after the opening HTTP stream ended: the SDK cancels the stream', async () => {
    const { p, s } = await start('stream', [['x-msg', 'a']]);
    s.complete();
    p.deliverGrpcMessage(6, 'orphan');
    expect(p.grpcStream(6)).toMatchObject({ cancelled: true, finished: true });
    expect(p.failed).toBe(false);
  });

  it('a stream owned by the root context outlives the request and answers from the root', async () => {
    const { p, s } = await start('root-stream');
    expect(events(s)).toEqual(['root-stream:6']);
    s.complete();
    expect(p.grpcStream(6)!.contextId).toBe(s.id); // the hostcall was made during the stream's callback
    p.deliverGrpcMessage(6, 'tick');
    expect(p.grpcStream(6)!.sent.map((m) => Buffer.from(m).toString())).toEqual(['root:tick']);
    p.remoteCloseGrpcStream(6, 0, '');
    expect(p.grpcStream(6)!.finished).toBe(true);
  });

  it('unknown cluster: ParseFailure; the handle answers NotFound without a token', async () => {
    const { s, p } = await start('stream-unknown');
    expect(events(s)).toEqual(['open:4:send:1:close:1']);
    expect(p.grpcStreamLog()).toEqual([]);
  });
});
