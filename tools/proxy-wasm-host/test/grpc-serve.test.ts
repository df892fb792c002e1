// serve dispatches gRPC callouts to the real cluster over HTTP/2 (a node:http2 gRPC server on 127.0.0.1).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvoyLikeProxy } from '../src/serve';
import { FrameReader, grpcFrame, grpcTimeoutHeader } from '../src/grpc-client';
import { compileSdkFixture } from './helpers';

const seen: Array<{ path: string; headers: IncomingHttpHeaders; messages: string[] }> = [];

function grpcServer(): Promise<Http2Server> {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const path = String(headers[':path']);
    const reader = new FrameReader();
    const rec = { path, headers, messages: [] as string[] };
    seen.push(rec);
    const reply = (msg: string) => stream.write(grpcFrame(Buffer.from(msg)));
    if (path === '/pkg.Svc/Get') {
      stream.on('data', (c: Buffer) => { for (const m of reader.push(c)) rec.messages.push(m.toString()); });
      stream.on('end', () => {
        const msg = rec.messages[0] ?? '';
        if (msg === 'slow') return; // never answers: the client's timeout fires
        if (msg === 'notrailers') { stream.respond({ ':status': 200, 'content-type': 'application/grpc' }); reply('half'); stream.end(); return; }
        if (msg === 'deny') { stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'no%20way' }, { endStream: true }); return; }
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        reply(`pong:${msg}:${headers['x-client']}:${headers['grpc-timeout']}:${headers.te}:${headers['content-type']}`);
        stream.end();
      });
    } else if (path === '/pkg.Svc/Chat') {
      // answers once the first message says how: 'http503' = a non-gRPC 503 (no grpc-status), else an echo chat
      let mode: 'wait' | 'chat' | 'failed' = 'wait';
      stream.on('data', (c: Buffer) => {
        for (const m of reader.push(c)) {
          rec.messages.push(m.toString());
          if (mode === 'wait') {
            if (m.toString() === 'http503') { mode = 'failed'; stream.respond({ ':status': 503 }); stream.end('busy'); }
            else { mode = 'chat'; stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-server': 'h2' }, { waitForTrailers: true }); }
          }
          if (mode === 'chat') reply(`echo:${m}`);
        }
      });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'bye', 'x-count': String(rec.messages.length) }));
      stream.on('end', () => { if (mode !== 'failed') stream.end(); });
    } else {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
    }
    stream.on('error', () => {});
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function get(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      const cs: Buffer[] = [];
      res.on('data', (c: Buffer) => cs.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(cs).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('grpc-timeout like Envoy Grpc::Common::toGrpcTimeout: 0 is sent as 0m, 8 digits of ms, then S/M/H', () => {
  expect([0, 1500, 99999999, 100000000, 4294967295].map(grpcTimeoutHeader)).toEqual(['0m', '1500m', '99999999m', '100000S', '4294967S']);
  expect(grpcTimeoutHeader(1e18)).toBe('99999999H');
});

describe('serve: gRPC callouts over HTTP/2 to the cluster', () => {
  let server: Http2Server, proxy: EnvoyLikeProxy, port = 0;
  beforeAll(async () => {
    const wasm = compileSdkFixture('grpc_serve');
    server = await grpcServer();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-serve-'));
    writeFileSync(join(dir, 'grpc.wasm'), wasm);
    const grpcPort = (server.address() as AddressInfo).port;
    const yaml = `
static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: grpc } } ] } ] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: grpc
                vm_config: { vm_id: grpc-serve, runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${join(dir, 'grpc.wasm')} } } }
          - name: envoy.filters.http.router
  clusters:
  - name: grpc
    type: STATIC
    load_assignment: { cluster_name: grpc, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${grpcPort} } } } } ] } ] }
`;
    writeFileSync(join(dir, 'envoy.yaml'), yaml);
    proxy = await EnvoyLikeProxy.fromFile(join(dir, 'envoy.yaml'), { portOverrides: { main: 0 }, warn: () => {}, log: () => {} });
    await proxy.start();
    port = proxy.listeners[0].port;
  }, 180000);
  afterAll(async () => { await proxy?.stop(); await new Promise<void>((r) => (server ? server.close(() => r()) : r())); });

  test('unary: gRPC framing and headers (POST /service/method, application/grpc, te: trailers, grpc-timeout, metadata), the answer resumes the request', async () => {
    const r = await get(port, { 'x-op': 'call', 'x-msg': 'ping', 'x-timeout': '1500' });
    expect(r).toEqual({ status: 200, body: 'ok:pong:ping:wasm:1500m:trailers:application/grpc' });
    const s = seen.find((x) => x.path === '/pkg.Svc/Get')!;
    expect(s.headers[':method']).toBe('POST');
    expect(s.headers[':authority']).toBe('grpc');
  });

  test('unary timeout 0: Envoy still sets the call\'s timeout option, so grpc-timeout: 0m goes out (and no local timer)', async () => {
    expect(await get(port, { 'x-op': 'call', 'x-msg': 'zero', 'x-timeout': '0' })).toEqual({ status: 200, body: 'ok:pong:zero:wasm:0m:trailers:application/grpc' });
  });

  test('unary failure: trailers-only grpc-status/grpc-message (percent-decoded)', async () => {
    expect(await get(port, { 'x-op': 'call', 'x-msg': 'deny' })).toEqual({ status: 200, body: 'fail:7:no way' });
  });

  test('unary timeout: the host cancels the HTTP/2 stream and reports 14 "upstream request timeout"', async () => {
    expect(await get(port, { 'x-op': 'call', 'x-msg': 'slow', 'x-timeout': '100' })).toEqual({ status: 200, body: 'fail:14:upstream request timeout' });
  });

  test('unary answer ending without trailers: Envoy onData(end_stream) -> streamError(Unknown) -> failure 2', async () => {
    expect(await get(port, { 'x-op': 'call', 'x-msg': 'notrailers' })).toEqual({ status: 200, body: 'fail:2:' });
  });

  test('stream answered by a non-gRPC 503: empty initial metadata, empty trailing metadata, close(httpToGrpcStatus = 14) (Envoy onHeaders + streamError)', async () => {
    expect(await get(port, { 'x-op': 'stream', 'x-msg': 'http503' })).toEqual({ status: 200, body: 'initial:-;trailing:-;close:14:' });
  });

  test('stream: messages both ways, initial metadata, trailers and the remote close after our half-close', async () => {
    const r = await get(port, { 'x-op': 'stream', 'x-msg': 'hi' });
    expect(r).toEqual({ status: 200, body: 'initial:h2;msg:echo:hi;msg:echo:hi2;trailing:2;close:0:bye' });
    expect(seen.filter((x) => x.path === '/pkg.Svc/Chat').pop()!.messages).toEqual(['hi', 'hi2']);
  });
});


