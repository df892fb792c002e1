// gRPC callouts through the raw ABI: a hand-built module forwards each hostcall; its callbacks are replaced by JS
// functions that make hostcalls while the host runs them (so each rule is checked inside the right callback).
// Expectations mirror Envoy's wasm_filter_test GrpcCall*/GrpcStream* and context.cc.
import { describe, expect, test } from '@jest/globals';
import { loadPlugin, type Plugin } from '../src/index';
import { encodeGrpcService, parseGrpcService } from '../src/grpc';
import { WasmBuilder, op } from '../src/testing/wasm-builder';

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, PARSE_FAILURE = 4, INTERNAL_FAILURE = 10;

function grpcModule(): Uint8Array {
  const b = new WasmBuilder();
  const fwd: Array<[string, string]> = [
    ['proxy_grpc_call', 'iiiiiiiiiiii>i'], ['proxy_grpc_stream', 'iiiiiiiii>i'], ['proxy_grpc_send', 'iiii>i'],
    ['proxy_grpc_cancel', 'i>i'], ['proxy_grpc_close', 'i>i'], ['proxy_get_status', 'iii>i'],
    ['proxy_get_buffer_bytes', 'iiiii>i'], ['proxy_get_buffer_status', 'iii>i'], ['proxy_set_buffer_bytes', 'iiiii>i'],
    ['proxy_get_header_map_value', 'iiiii>i'], ['proxy_get_header_map_size', 'ii>i'], ['proxy_get_header_map_pairs', 'iii>i'],
  ];
  const idx = fwd.map(([n, sig]) => b.import('env', n, sig));
  b.func('>', [], 'proxy_abi_version_0_2_1');
  // bump allocator: the next free address lives at 0
  b.func('i>i', [...op.i32(0), ...op.i32Load(), ...op.set(1), ...op.i32(0), ...op.get(1), ...op.get(0), ...op.i32Add, ...op.i32Store(), ...op.get(1)], 'malloc', [[1, 'i']]);
  b.addData(0, new Uint8Array([0x00, 0x10, 0, 0]));
  b.func('ii>', [], 'proxy_on_context_create');
  b.func('ii>i', op.i32(1), 'proxy_on_vm_start');
  b.func('ii>i', op.i32(1), 'proxy_on_configure');
  for (const n of ['proxy_on_grpc_receive_initial_metadata', 'proxy_on_grpc_receive', 'proxy_on_grpc_receive_trailing_metadata', 'proxy_on_grpc_close']) b.func('iii>', [], n);
  fwd.forEach(([n, sig], i) => {
    const argc = sig.split('>')[0].length;
    b.func(sig, [...Array.from({ length: argc }, (_, k) => op.get(k)).flat(), ...op.call(idx[i])], n.replace('proxy_', 'call_'));
  });
  return b.build();
}

type Exports = Record<string, (...a: number[]) => number>;
interface Harness { p: Plugin; x: Exports; events: string[] }

async function harness(opts: Parameters<typeof loadPlugin>[1] = { clusters: ['cluster'] }): Promise<Harness> {
  const p = await loadPlugin(grpcModule(), opts);
  return { p, x: p.vm.instance.exports as unknown as Exports, events: [] };
}

/** Copy bytes into the module's memory (its bump allocator). */
function put(h: Harness, data: Uint8Array | string): [number, number] {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const ptr = h.x.malloc(Math.max(1, b.length));
  h.p.vm.refresh();
  h.p.vm.mem.set(b, ptr);
  return [ptr, b.length];
}
function pairs(list: Array<[string, string]>): Uint8Array {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4 + list.length * 8);
  head.writeUInt32LE(list.length, 0);
  list.forEach(([k, v], i) => { head.writeUInt32LE(Buffer.byteLength(k), 4 + i * 8); head.writeUInt32LE(Buffer.byteLength(v), 8 + i * 8); parts.push(Buffer.from(k + '\0' + v + '\0')); });
  return Buffer.concat([head, ...parts]);
}
const u32 = (h: Harness, at: number) => { h.p.vm.refresh(); return h.p.vm.dv.getUint32(at, true); };
const RET = 64; // scratch for returned values (below the heap)

function grpcCall(h: Harness, upstream: Uint8Array | string, opts: { md?: Array<[string, string]>; msg?: string; timeout?: number; service?: string; method?: string } = {}): { status: number; token: number } {
  const up = put(h, upstream), s = put(h, opts.service ?? 'service'), m = put(h, opts.method ?? 'method');
  const md = put(h, pairs(opts.md ?? [['source', 'grpc_call']])), msg = put(h, opts.msg ?? 'request');
  const status = h.x.call_grpc_call(...up, ...s, ...m, ...md, ...msg, opts.timeout ?? 1000, RET);
  return { status, token: status === OK ? u32(h, RET) : 0 };
}
function grpcStream(h: Harness, upstream: Uint8Array | string, md: Array<[string, string]> = [['source', 'grpc_stream']]): { status: number; token: number } {
  const up = put(h, upstream), s = put(h, 'service'), m = put(h, 'method'), d = put(h, pairs(md));
  const status = h.x.call_grpc_stream(...up, ...s, ...m, ...d, RET);
  return { status, token: status === OK ? u32(h, RET) : 0 };
}
function send(h: Harness, token: number, msg: string, eos = false): number { const [p, n] = put(h, msg); return h.x.call_grpc_send(token, p, n, eos ? 1 : 0); }
function status(h: Harness): [number, number, string] {
  const r = h.x.call_get_status(RET, RET + 4, RET + 8);
  const p = u32(h, RET + 4), n = u32(h, RET + 8);
  return [r, u32(h, RET), n ? h.p.vm.mem.toString('utf8', p, p + n) : ''];
}
function buffer(h: Harness, type: number): [number, string] {
  const r = h.x.call_get_buffer_bytes(type, 0, 0xffffffff, RET, RET + 4);
  const p = u32(h, RET), n = u32(h, RET + 4);
  return [r, r === OK && n ? h.p.vm.mem.toString('utf8', p, p + n) : ''];
}
function mapValue(h: Harness, type: number, key: string): [number, string] {
  const [kp, kn] = put(h, key);
  const r = h.x.call_get_header_map_value(type, kp, kn, RET, RET + 4);
  const p = u32(h, RET), n = u32(h, RET + 4);
  return [r, r === OK ? h.p.vm.mem.toString('utf8', p, p + n) : ''];
}
/** Replace one gRPC callback of the module by a JS function (run by the host inside its VM call). */
function on(h: Harness, which: 'grpcInitial' | 'grpcReceive' | 'grpcTrailing' | 'grpcClose', fn: (ctx: number, token: number, n: number) => void): void {
  h.p.vm.ex[which] = ((ctx: number, token: number, n: number) => { fn(ctx, token, n); }) as never;
}

describe('tokens and upstream resolution (Envoy context.cc grpcCall/grpcStream)', () => {
  test('call ids are 5, 9, ...; stream ids 6, 10, ... (http call ids stay 4, 8, ...)', async () => {
    const h = await harness();
    expect(grpcCall(h, 'cluster')).toEqual({ status: OK, token: 5 });
    expect(grpcStream(h, 'cluster')).toEqual({ status: OK, token: 6 });
    expect(grpcCall(h, 'cluster')).toEqual({ status: OK, token: 9 });
    expect(grpcStream(h, 'cluster')).toEqual({ status: OK, token: 10 });
    expect(h.p.pendingGrpcCalls().map((c) => c.token)).toEqual([5, 9]);
    expect(h.p.pendingGrpcStreams().map((c) => c.token)).toEqual([6, 10]);
  });

  test('an unknown cluster name is ParseFailure ("bogus service string"); without a clusters option any name goes', async () => {
    const h = await harness();
    expect(grpcCall(h, 'bogus service string').status).toBe(PARSE_FAILURE);
    expect(grpcStream(h, 'bogus service string').status).toBe(PARSE_FAILURE);
    expect(h.p.grpcCallLog()).toHaveLength(0);
    const open = await harness({});
    expect(grpcCall(open, 'anything').status).toBe(OK);
  });

  test('a serialized GrpcService names the cluster (and :authority); its initial_metadata follows the plugin\'s', async () => {
    const h = await harness();
    // + initial_metadata {key: "K", value: "v"} (field 5)
    const proto = Buffer.concat([encodeGrpcService('cluster', 'api.internal'), Buffer.from([0x2a, 0x06, 0x0a, 0x01, 0x4b, 0x12, 0x01, 0x76])]);
    const r = grpcCall(h, proto, { md: [['Source', 'proto'], ['x-b', '1']], service: 'pkg.Svc', method: 'Get', timeout: 250 });
    expect(r.status).toBe(OK);
    const c = h.p.pendingGrpcCalls()[0];
    expect(c.target).toMatchObject({ cluster: 'cluster', authority: 'api.internal', fromProto: true });
    expect(c).toMatchObject({ service: 'pkg.Svc', method: 'Get', path: '/pkg.Svc/Get', timeoutMs: 250, contextId: 0 });
    expect(c.initialMetadata).toEqual([['source', 'proto'], ['x-b', '1'], ['k', 'v']]);
    expect(Buffer.from(c.message).toString()).toBe('request');
  });

  test('a GrpcService naming an unknown cluster: InternalFailure, then proxy_on_grpc_close(14 "Cluster not available") after the VM call', async () => {
    const h = await harness();
    const closes: Array<[number, number, string]> = [];
    on(h, 'grpcClose', (_c, token, st) => { closes.push([token, st, status(h)[2]]); });
    expect(grpcCall(h, encodeGrpcService('nope')).status).toBe(INTERNAL_FAILURE);
    expect(closes).toEqual([]); // never inside the hostcall
    h.p.vm.drainAfter();
    expect(closes).toEqual([[5, 14, 'Cluster not available']]);
    expect(h.p.pendingGrpcCalls()).toEqual([]);
  });

  test('a well-formed GrpcService without a target is BadArgument; malformed bytes are a (unknown) cluster name', async () => {
    const h = await harness();
    expect(grpcCall(h, new Uint8Array([0x18, 0x01])).status).toBe(BAD_ARGUMENT); // field 3 varint only
    // Envoy itself aborts here (AsyncClientManagerImpl::factoryForGrpcService PANIC_DUE_TO_PROTO_UNSET): the host says so
    expect(h.p.logs.some((l) => /PANIC_DUE_TO_PROTO_UNSET/.test(l.message))).toBe(true);
    expect(grpcStream(h, new Uint8Array(0)).status).toBe(BAD_ARGUMENT); // empty bytes parse as an empty GrpcService
    expect(grpcCall(h, new Uint8Array([0x0a, 0x05, 0x61])).status).toBe(PARSE_FAILURE); // truncated
    // Envoy parses the proto first: a cluster name that is a well-formed message ('a' = field 12 fixed64 + 8 bytes)
    const quirk = await harness({ clusters: ['authzsvc1'] });
    expect(grpcCall(quirk, 'authzsvc1').status).toBe(BAD_ARGUMENT);
    expect(grpcCall(quirk, encodeGrpcService('authzsvc1')).status).toBe(OK);
  });

  test('mismatched token kinds (Envoy GrpcCall/GrpcStream tests): http id BadArgument; call id send BadArgument, cancel/close NotFound; stream id NotFound', async () => {
    const h = await harness();
    expect([send(h, 0xff00, 'x'), h.x.call_grpc_cancel(0xff00), h.x.call_grpc_close(0xff00)]).toEqual([BAD_ARGUMENT, BAD_ARGUMENT, BAD_ARGUMENT]);
    expect([send(h, 0xff01, 'x'), h.x.call_grpc_cancel(0xff01), h.x.call_grpc_close(0xff01)]).toEqual([BAD_ARGUMENT, NOT_FOUND, NOT_FOUND]);
    expect([send(h, 0xff02, 'x'), h.x.call_grpc_cancel(0xff02), h.x.call_grpc_close(0xff02)]).toEqual([NOT_FOUND, NOT_FOUND, NOT_FOUND]);
    const { token } = grpcCall(h, 'cluster');
    expect(send(h, token, 'x')).toBe(BAD_ARGUMENT); // a call is not a stream
  });
});

describe('unary calls', () => {
  test('success: proxy_on_grpc_receive(root, token, size) with GRPC_CALL_MESSAGE readable only then; the call is then gone', async () => {
    const h = await harness();
    const seen: unknown[] = [];
    on(h, 'grpcReceive', (ctx, token, size) => { seen.push([ctx, token, size, buffer(h, 5)]); });
    const { token } = grpcCall(h, 'cluster');
    expect(buffer(h, 5)).toEqual([OK, '']); // Envoy: an empty receive buffer outside the callback
    h.p.respondGrpcCall(token, 'response');
    expect(seen).toEqual([[1, 5, 8, [OK, 'response']]]);
    expect(h.p.grpcCallLog()[0].state).toBe('responded');
    expect(h.x.call_grpc_cancel(token)).toBe(NOT_FOUND);
    expect(() => h.p.respondGrpcCall(token, 'again')).toThrow('no pending gRPC call');
  });

  test('GRPC_CALL_MESSAGE is writable during proxy_on_grpc_receive by Envoy copyFrom rules, BadArgument outside', async () => {
    const h = await harness();
    const set = (start: number, len: number, data: string) => { const [p, n] = put(h, data); return h.x.call_set_buffer_bytes(5, start, len, p, n); };
    const seen: unknown[] = [];
    on(h, 'grpcReceive', () => {
      seen.push(set(0, 3, 'RES'), buffer(h, 5)[1]);     // start 0: drain 3, prepend
      seen.push(set(2, 0, 'x'));                        // middle: BadArgument
      seen.push(set(100, 0, '!'), buffer(h, 5)[1]);     // start >= size: append
      seen.push(set(0, 0, '>'), buffer(h, 5)[1]);       // start 0, length 0: prepend
    });
    const { token } = grpcCall(h, 'cluster');
    expect(set(0, 0, 'x')).toBe(BAD_ARGUMENT); // no receive buffer: BufferBase::copyFrom
    h.p.respondGrpcCall(token, 'response');
    expect(seen).toEqual([OK, 'RESponse', BAD_ARGUMENT, OK, 'RESponse!', OK, '>RESponse!']);
    expect(set(0, 0, 'x')).toBe(BAD_ARGUMENT);
    expect(buffer(h, 5)).toEqual([OK, '']);
  });

  test('failure: proxy_on_grpc_close(root, token, status); get_status = (status, message), message cleared after the callback', async () => {
    const h = await harness();
    const seen: unknown[] = [];
    on(h, 'grpcClose', (ctx, token, st) => { seen.push([ctx, token, st, status(h)]); });
    const { token } = grpcCall(h, 'cluster');
    h.p.failGrpcCall(token, 7, 'denied');
    expect(seen).toEqual([[1, token, 7, [OK, 7, 'denied']]]);
    expect(status(h)).toEqual([OK, 7, '']);
    expect(h.p.pendingGrpcCalls()).toEqual([]);
    expect(h.p.grpcCallLog()[0].state).toBe('failed');
  });

  test('an OK close without a response is Internal (13); a timeout is Unavailable "upstream request timeout"', async () => {
    const h = await harness();
    const seen: unknown[] = [];
    on(h, 'grpcClose', (_c, token, st) => { seen.push([token, st, status(h)[2]]); });
    const a = grpcCall(h, 'cluster').token, b = grpcCall(h, 'cluster').token;
    h.p.failGrpcCall(a, 0, 'ignored');
    h.p.failGrpcCall(b, 'timeout');
    expect(seen).toEqual([[a, 13, ''], [b, 14, 'upstream request timeout']]);
  });

  test('cancel (and close, which cancels a call): Ok once, then NotFound; no callback ever', async () => {
    const h = await harness();
    let calls = 0;
    on(h, 'grpcReceive', () => { calls++; }); on(h, 'grpcClose', () => { calls++; });
    const a = grpcCall(h, 'cluster').token, b = grpcCall(h, 'cluster').token;
    expect(h.x.call_grpc_cancel(a)).toBe(OK);
    expect(h.x.call_grpc_close(b)).toBe(OK);
    expect([h.x.call_grpc_cancel(a), h.x.call_grpc_close(b)]).toEqual([NOT_FOUND, NOT_FOUND]);
    expect(() => h.p.respondGrpcCall(a, 'late')).toThrow();
    expect(h.p.grpcCallLog().map((c) => c.state)).toEqual(['cancelled', 'cancelled']);
    expect(calls).toBe(0);
  });

  test('plugin teardown cancels outstanding calls and streams without callbacks (GrpcCallAfterDestroyed)', async () => {
    const h = await harness();
    let calls = 0;
    on(h, 'grpcClose', () => { calls++; });
    grpcCall(h, 'cluster'); const s = grpcStream(h, 'cluster').token;
    h.p.close();
    expect(h.p.pendingGrpcCalls()).toEqual([]);
    expect(h.p.pendingGrpcStreams()).toEqual([]);
    expect(h.p.grpcCallLog()[0].state).toBe('cancelled');
    expect(h.p.grpcStream(s)).toMatchObject({ cancelled: true, finished: true });
    expect(calls).toBe(0);
  });
});

describe('streams', () => {
  test('metadata maps readable only during their callback, entries count as the argument; messages sent recorded', async () => {
    const h = await harness();
    const seen: unknown[] = [];
    on(h, 'grpcInitial', (ctx, token, n) => { seen.push(['initial', ctx, token, n, mapValue(h, 4, 'test'), mapValue(h, 5, 'test')[0]]); });
    on(h, 'grpcReceive', (_c, token, size) => { seen.push(['message', size, buffer(h, 5)[1]]); seen.push(['send', send(h, token, 'reply')]); });
    on(h, 'grpcTrailing', (_c, _t, n) => { seen.push(['trailing', n, mapValue(h, 5, 'foo'), mapValue(h, 4, 'test')[0]]); });
    const { token } = grpcStream(h, 'cluster');
    expect(send(h, token, 'hello')).toBe(OK);
    h.p.deliverGrpcInitialMetadata(token, [['test', 'create_initial_metadata'], ['x', '1']]);
    h.p.deliverGrpcMessage(token, 'response');
    h.p.deliverGrpcTrailingMetadata(token, { foo: 'bar' });
    expect(mapValue(h, 4, 'test')[0]).toBe(BAD_ARGUMENT);
    expect(seen).toEqual([
      ['initial', 1, token, 2, [OK, 'create_initial_metadata'], BAD_ARGUMENT],
      ['message', 8, 'response'], ['send', OK],
      ['trailing', 1, [OK, 'bar'], BAD_ARGUMENT],
    ]);
    expect(h.p.grpcStream(token)!.sent.map((m) => Buffer.from(m).toString())).toEqual(['hello', 'reply']);
  });

  test('GrpcStreamCloseLocal: close half-closes (messages still arrive), remote close then finishes the stream', async () => {
    const h = await harness();
    const seen: unknown[] = [];
    on(h, 'grpcReceive', (_c, _t, size) => { seen.push(['message', size]); });
    on(h, 'grpcClose', (_c, token, st) => { seen.push(['close', token, st, status(h)[2]]); });
    const { token } = grpcStream(h, 'cluster');
    expect(h.x.call_grpc_close(token)).toBe(OK);
    expect(h.p.grpcStream(token)).toMatchObject({ localClosed: true, remoteClosed: false, finished: false });
    expect(send(h, token, 'after close')).toBe(OK); // Envoy answers Ok; nothing goes out
    expect(h.p.grpcStream(token)!.sent).toEqual([]);
    h.p.deliverGrpcMessage(token, 'late');
    h.p.remoteCloseGrpcStream(token, 0, 'ok');
    expect(seen).toEqual([['message', 4], ['close', token, 0, 'ok']]);
    expect(h.p.grpcStream(token)).toMatchObject({ remoteClosed: true, finished: true });
    expect(h.p.pendingGrpcStreams()).toEqual([]);
    expect(h.x.call_grpc_close(token)).toBe(NOT_FOUND);
  });

  test('GrpcStreamCloseRemote: after the remote close the stream stays until the module closes it (here in its close callback)', async () => {
    const h = await harness();
    const { token } = grpcStream(h, 'cluster');
    const other = grpcStream(h, 'cluster').token;
    on(h, 'grpcClose', (_c, t) => { if (t === token) expect(h.x.call_grpc_close(t)).toBe(OK); });
    h.p.remoteCloseGrpcStream(token, 0, 'close');
    h.p.remoteCloseGrpcStream(other, 2, 'boom');
    expect(h.p.grpcStream(token)).toMatchObject({ remoteClosed: true, localClosed: true, finished: true });
    expect(h.p.grpcStream(other)).toMatchObject({ remoteClosed: true, localClosed: false, finished: false });
    expect(() => h.p.deliverGrpcMessage(other, 'x')).toThrow('already closed by the remote');
    expect(h.x.call_grpc_close(other)).toBe(OK);
    expect(h.p.grpcStream(other)!.finished).toBe(true);
  });

  test('GrpcStreamCancel: reset, no further callbacks; end_stream on send is an HTTP half-close, not a wasm close', async () => {
    const h = await harness();
    let calls = 0;
    on(h, 'grpcInitial', (_c, token) => { calls++; expect(h.x.call_grpc_cancel(token)).toBe(OK); });
    on(h, 'grpcReceive', () => { calls++; });
    const { token } = grpcStream(h, 'cluster');
    expect(send(h, token, 'last', true)).toBe(OK);
    expect(h.p.grpcStream(token)).toMatchObject({ endOfStreamSent: true, localClosed: false });
    h.p.deliverGrpcInitialMetadata(token, [['test', 'reset']]);
    expect(() => h.p.deliverGrpcMessage(token, 'x')).toThrow('no open gRPC stream');
    expect(h.p.grpcStream(token)).toMatchObject({ cancelled: true, finished: true });
    expect(calls).toBe(1);
    expect(h.x.call_grpc_cancel(token)).toBe(NOT_FOUND);
  });

  test('a failed VM gets no gRPC callbacks', async () => {
    const h = await harness();
    const { token } = grpcStream(h, 'cluster');
    on(h, 'grpcReceive', () => { throw new WebAssembly.RuntimeError('unreachable'); });
    h.p.deliverGrpcMessage(token, 'x');
    expect(h.p.failed).toBe(true);
    let calls = 0;
    on(h, 'grpcReceive', () => { calls++; });
    h.p.deliverGrpcMessage(token, 'y');
    expect(calls).toBe(0);
  });
});

describe('GrpcService decoding (protobuf wire rules)', () => {
  test('envoy_grpc fields, groups skipped, mismatched wire types are unknown fields, invalid UTF-8 fails', () => {
    expect(parseGrpcService(encodeGrpcService('c1', 'a1'))).toEqual({ envoy: { cluster: 'c1', authority: 'a1' }, metadata: [] });
    // field 9 group (start 0x4b ... end 0x4c) then envoy_grpc
    expect(parseGrpcService(Buffer.concat([Buffer.from([0x4b, 0x08, 0x01, 0x4c]), encodeGrpcService('c2')]))?.envoy?.cluster).toBe('c2');
    expect(parseGrpcService(Buffer.from([0x4b, 0x08, 0x01]))).toBeNull(); // unterminated group
    expect(parseGrpcService(Buffer.from([0x08, 0x01]))).toEqual({ metadata: [] }); // field 1 as varint: unknown field
    expect(parseGrpcService(Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0xff]))).toBeNull(); // cluster_name not UTF-8
    expect(parseGrpcService(Buffer.from('cluster'))).toBeNull();
    expect(parseGrpcService(Buffer.from([0x12, 0x05, 0x0a, 0x03, 0x61, 0x3a, 0x31]))).toEqual({ google: { targetUri: 'a:1' }, metadata: [] });
  });
});
