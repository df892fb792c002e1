// gRPC callouts (proxy_grpc_call / proxy_grpc_stream / send / cancel / close) with Envoy's semantics
// (source/extensions/common/wasm/context.cc grpcCall/grpcStream/grpcSend/grpcClose/grpcCancel and the
// onGrpc*Wrapper callbacks; proxy-wasm-cpp-host exports.cc runs every gRPC hostcall on the ROOT context).
import { S } from './abi';
import { HeaderMap, copyBytes, toBytes, valueToString, type HeaderList } from './headers';

/** What the `upstream` argument named: a cluster name, or a decoded envoy.config.core.v3.GrpcService. */
export interface GrpcTarget {
  /** envoy_grpc.cluster_name (or the plain cluster name); '' for a google_grpc target. */
  cluster: string;
  /** envoy_grpc.authority ('' when absent: Envoy then uses the cluster name as :authority). */
  authority: string;
  /** google_grpc.target_uri when the proto names a Google gRPC target. */
  googleTargetUri?: string;
  /** True when `upstream` was a serialized GrpcService proto. */
  fromProto: boolean;
  /** GrpcService.initial_metadata (added to every request after the plugin's metadata). */
  protoMetadata: Array<[string, string]>;
}

export interface GrpcCallInfo {
  token: number;
  kind: 'call' | 'stream';
  target: GrpcTarget;
  /** Shorthand for target.cluster. */
  cluster: string;
  service: string;
  method: string;
  /** ":path" of the request: /service/method. */
  path: string;
  /** The plugin's initial metadata (names lower-cased, like Envoy's request header map), then the proto's. */
  initialMetadata: Array<[string, string]>;
  /** Unary call: the request message. Stream: empty (see GrpcStreamInfo.sent). */
  message: Uint8Array;
  /** Unary call timeout (0 = none); streams have none. */
  timeoutMs: number;
  /** Context that made the hostcall (effective or current); the call itself belongs to the root context. */
  contextId: number;
}

export interface GrpcStreamInfo extends GrpcCallInfo {
  /** Messages the module sent with proxy_grpc_send, in order. */
  sent: Uint8Array[];
  /** The module sent end_stream=true with a message (HTTP half-close; the stream is not locally closed for wasm). */
  endOfStreamSent: boolean;
  /** proxy_grpc_close was called (half-close: Envoy's closeStream + local_closed_). */
  localClosed: boolean;
  /** The remote end closed (trailers / reset), proxy_on_grpc_close was delivered. */
  remoteClosed: boolean;
  /** proxy_grpc_cancel (reset) or plugin teardown. */
  cancelled: boolean;
  /** Forgotten by the host (both sides closed, cancelled, or torn down): no more callbacks, tokens answer NotFound. */
  finished: boolean;
}

export interface GrpcCallRecord extends GrpcCallInfo {
  state: 'pending' | 'responded' | 'failed' | 'cancelled';
}

/** What the host offers the gRPC module (implemented by Plugin). */
export interface GrpcHost {
  /** The `clusters` option: when set, names outside it are unknown clusters. */
  knownClusters(): string[] | undefined;
  /** Run a gRPC callback on the root context; false when the VM cannot take it (failed, closed, not exported). */
  grpcCallback(name: GrpcCallbackName, token: number, n: number): boolean;
  setStatus(code: number, message: string): void;
  /** Queue an action to run after the current VM call (Envoy's addAfterVmCallAction). */
  defer(fn: () => void): void;
  warn(message: string): void;
}

export type GrpcCallbackName = 'proxy_on_grpc_receive_initial_metadata' | 'proxy_on_grpc_receive' | 'proxy_on_grpc_receive_trailing_metadata' | 'proxy_on_grpc_close';

export const enum GrpcCode { Ok = 0, Unknown = 2, DeadlineExceeded = 4, Internal = 13, Unavailable = 14 }

// ------------------------------------------------------------------ GrpcService wire decoding

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, pos = 0, readonly end = b.length) { this.pos = pos; }
  varint(): number | null {
    let v = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) return null;
      const c = this.b[this.pos++];
      if (i < 8) v += (c & 0x7f) * mul; // values beyond 2^53 are only skipped, never used
      mul *= 128;
      if (!(c & 0x80)) return v;
    }
    return null;
  }
}

interface Field { num: number; wt: number; start: number; end: number; value: number }

/** Walk one message level like protobuf's parser: every field well-formed (groups matched), or null. */
function fields(b: Uint8Array, start: number, end: number): Field[] | null {
  const r = new Reader(b, start, end);
  const out: Field[] = [];
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === null) return null;
    const num = Math.floor(tag / 8), wt = tag & 7;
    if (num === 0) return null;
    const f = skip(r, num, wt, end);
    if (!f) return null;
    if (f.wt === 4) return null; // an end-group without its start
    out.push(f);
  }
  return out;
}

function skip(r: Reader, num: number, wt: number, end: number, depth = 0): Field | null {
  const start = r.pos;
  switch (wt) {
    case 0: { const v = r.varint(); return v === null ? null : { num, wt, start, end: r.pos, value: v }; }
    case 1: if (r.pos + 8 > end) return null; r.pos += 8; return { num, wt, start, end: r.pos, value: 0 };
    case 5: if (r.pos + 4 > end) return null; r.pos += 4; return { num, wt, start, end: r.pos, value: 0 };
    case 2: {
      const len = r.varint();
      if (len === null || r.pos + len > end) return null;
      const s = r.pos; r.pos += len;
      return { num, wt, start: s, end: r.pos, value: len };
    }
    case 3: {
      if (depth > 64) return null;
      for (;;) {
        const tag = r.varint();
        if (tag === null) return null;
        const n = Math.floor(tag / 8), w = tag & 7;
        if (n === 0) return null;
        if (w === 4) return n === num ? { num, wt, start, end: r.pos, value: 0 } : null;
        if (!skip(r, n, w, end, depth + 1)) return null;
      }
    }
    case 4: return { num, wt, start, end: r.pos, value: 0 };
    default: return null;
  }
}

function str(b: Uint8Array, f: Field): string | null {
  try { return utf8.decode(b.subarray(f.start, f.end)); } catch { return null; } // proto3 strings must be UTF-8
}

/**
 * Parse a serialized envoy.config.core.v3.GrpcService the way Envoy's ParseFromString does: null when the bytes are
 * not a well-formed message (then Envoy treats `upstream` as a cluster name). Decodes envoy_grpc (cluster_name=1,
 * authority=2), google_grpc.target_uri and initial_metadata (HeaderValue key=1, value=2); other fields are skipped.
 * A field whose wire type does not match its declaration is an unknown field for protobuf, so it is skipped too.
 */
export function parseGrpcService(b: Uint8Array): { envoy?: { cluster: string; authority: string }; google?: { targetUri: string }; metadata: Array<[string, string]> } | null {
  const top = fields(b, 0, b.length);
  if (!top) return null;
  const out: { envoy?: { cluster: string; authority: string }; google?: { targetUri: string }; metadata: Array<[string, string]> } = { metadata: [] };
  for (const f of top) {
    if (f.wt !== 2) continue;
    if (f.num === 1) { // envoy_grpc (oneof target_specifier: the last one wins)
      const sub = fields(b, f.start, f.end); if (!sub) return null;
      const e = { cluster: '', authority: '' };
      for (const g of sub) {
        if (g.wt !== 2 || (g.num !== 1 && g.num !== 2)) continue;
        const s = str(b, g); if (s === null) return null;
        if (g.num === 1) e.cluster = s; else e.authority = s;
      }
      out.envoy = e; out.google = undefined;
    } else if (f.num === 2) { // google_grpc
      const sub = fields(b, f.start, f.end); if (!sub) return null;
      const g = { targetUri: '' };
      for (const h of sub) {
        if (h.wt !== 2 || h.num !== 1) continue;
        const s = str(b, h); if (s === null) return null;
        g.targetUri = s;
      }
      out.google = g; out.envoy = undefined;
    } else if (f.num === 5) { // initial_metadata: repeated HeaderValue
      const sub = fields(b, f.start, f.end); if (!sub) return null;
      let k = '', v = '';
      for (const h of sub) {
        if (h.wt !== 2 || (h.num !== 1 && h.num !== 2)) continue;
        const s = str(b, h); if (s === null) return null;
        if (h.num === 1) k = s; else v = s;
      }
      out.metadata.push([k.toLowerCase(), v]);
    }
  }
  return out;
}

/** Serialize a GrpcService with envoy_grpc {cluster_name, authority} (for tests and tools). */
export function encodeGrpcService(cluster: string, authority = ''): Uint8Array {
  const lenDelim = (num: number, body: Uint8Array) => {
    const out: number[] = [(num << 3) | 2];
    let n = body.length;
    do { let c = n & 0x7f; n >>>= 7; if (n) c |= 0x80; out.push(c); } while (n);
    return Buffer.concat([Buffer.from(out), body]);
  };
  const inner = [lenDelim(1, Buffer.from(cluster))];
  if (authority) inner.push(lenDelim(2, Buffer.from(authority)));
  return new Uint8Array(lenDelim(1, Buffer.concat(inner)));
}

// ------------------------------------------------------------------ the callouts

interface CallState { info: GrpcCallRecord }
interface StreamState { info: GrpcStreamInfo }

export class GrpcCallouts {
  private nextCallId = 1; // Envoy Wasm::nextGrpcCallId: 5, 9, 13, ... (id & 3 == 1)
  private nextStreamId = 2; // Envoy Wasm::nextGrpcStreamId: 6, 10, 14, ... (id & 3 == 2)
  private calls = new Map<number, CallState>();
  private streams = new Map<number, StreamState>();
  /** Every call / stream ever opened (observation). */
  readonly callLog: GrpcCallRecord[] = [];
  readonly streamLog: GrpcStreamInfo[] = [];
  /** The map / message readable during the matching callback (root context's grpc_receive_* in Envoy). */
  initialMetadata: HeaderMap | null = null;
  trailingMetadata: HeaderMap | null = null;
  message: Uint8Array | null = null;
  /** Hook for the serve command: a call or stream was opened. */
  onOpen?: (info: GrpcCallRecord | GrpcStreamInfo) => void;
  /** Hook for the serve command: the module sent on / closed / cancelled a stream, or cancelled a call. */
  onStreamEvent?: (token: number, ev: { send?: Uint8Array; endOfStream?: boolean; close?: boolean; cancel?: boolean }) => void;

  constructor(private host: GrpcHost) {}

  /** Resolve `upstream` like Envoy: GrpcService proto first, else a cluster name (unknown -> ParseFailure). */
  private target(upstream: Uint8Array): GrpcTarget | number {
    const proto = parseGrpcService(upstream);
    if (proto) {
      if (proto.envoy) return { cluster: proto.envoy.cluster, authority: proto.envoy.authority, fromProto: true, protoMetadata: proto.metadata };
      if (proto.google) return { cluster: '', authority: '', googleTargetUri: proto.google.targetUri, fromProto: true, protoMetadata: proto.metadata };
      // No target specifier (also an empty `upstream`, which parses as an empty message): Envoy's
      // AsyncClientManagerImpl::factoryForGrpcService hits PANIC_DUE_TO_PROTO_UNSET and the whole proxy aborts.
      // A host cannot abort, so it answers BadArgument (what Envoy returns when the client cannot be created) and says so.
      this.host.warn('proxy_grpc_call/stream: the GrpcService names no target (envoy_grpc / google_grpc); Envoy would abort here (PANIC_DUE_TO_PROTO_UNSET), the host answers BadArgument');
      return S.BadArgument;
    }
    const name = Buffer.from(upstream.buffer, upstream.byteOffset, upstream.length).toString('utf8');
    const known = this.host.knownClusters();
    if (known && !known.includes(name)) return S.ParseFailure;
    return { cluster: name, authority: '', fromProto: false, protoMetadata: [] };
  }

  private info(kind: 'call' | 'stream', token: number, target: GrpcTarget, service: string, method: string, md: HeaderList, message: Uint8Array, timeoutMs: number, contextId: number): GrpcCallInfo {
    const hm = new HeaderMap('request-headers', md);
    const initialMetadata = [...hm.toStringList(), ...target.protoMetadata];
    return { token, kind, target, cluster: target.cluster, service, method, path: `/${service}/${method}`, initialMetadata, message, timeoutMs, contextId };
  }

  /** A proto naming an unknown envoy_grpc cluster: Envoy's client fails inline (Unavailable "Cluster not available",
   *  delivered after the VM call because it would re-enter) and the hostcall returns InternalFailure. */
  private unknownProtoCluster(target: GrpcTarget): boolean {
    const known = this.host.knownClusters();
    return target.fromProto && target.googleTargetUri === undefined && !!known && !known.includes(target.cluster);
  }

  call(upstream: Uint8Array, service: string, method: string, md: HeaderList, message: Uint8Array, timeoutMs: number, contextId: number): { status: number; token?: number } {
    const target = this.target(upstream);
    if (typeof target === 'number') return { status: target };
    const token = (this.nextCallId += 4); // 5, 9, ...
    if (this.unknownProtoCluster(target)) {
      this.host.defer(() => this.closeNow(token, GrpcCode.Unavailable, 'Cluster not available'));
      return { status: S.InternalFailure };
    }
    const info: GrpcCallRecord = { ...this.info('call', token, target, service, method, md, copyBytes(message), timeoutMs, contextId), state: 'pending' };
    this.calls.set(token, { info });
    this.callLog.push(info);
    this.onOpen?.(info);
    return { status: S.Ok, token };
  }

  stream(upstream: Uint8Array, service: string, method: string, md: HeaderList, contextId: number): { status: number; token?: number } {
    const target = this.target(upstream);
    if (typeof target === 'number') return { status: target };
    const token = (this.nextStreamId += 4); // 6, 10, ...
    if (this.unknownProtoCluster(target)) {
      this.host.defer(() => this.closeNow(token, GrpcCode.Unavailable, 'Cluster not available'));
      return { status: S.InternalFailure };
    }
    const info: GrpcStreamInfo = { ...this.info('stream', token, target, service, method, md, new Uint8Array(0), 0, contextId), sent: [], endOfStreamSent: false, localClosed: false, remoteClosed: false, cancelled: false, finished: false };
    this.streams.set(token, { info });
    this.streamLog.push(info);
    this.onOpen?.(info);
    return { status: S.Ok, token };
  }

  /** proxy_grpc_send: BadArgument unless a stream id; NotFound when unknown. */
  send(token: number, message: Uint8Array, endOfStream: boolean): number {
    if ((token & 3) !== 2) return S.BadArgument;
    const st = this.streams.get(token);
    if (!st) return S.NotFound;
    const i = st.info;
    if (i.localClosed || i.endOfStreamSent || i.remoteClosed) {
      // Envoy still answers Ok; the bytes cannot go anywhere on a closed direction
      this.host.warn(`proxy_grpc_send(${token}): the stream is already closed for sending; message dropped`);
      return S.Ok;
    }
    const m = copyBytes(message);
    i.sent.push(m);
    if (endOfStream) i.endOfStreamSent = true;
    this.onStreamEvent?.(token, { send: m, endOfStream });
    return S.Ok;
  }

  /** proxy_grpc_close: a call is cancelled; a stream is half-closed (forgotten if the remote already closed). */
  close(token: number): number {
    if ((token & 3) === 1) return this.cancelCall(token);
    if ((token & 3) === 2) {
      const st = this.streams.get(token);
      if (!st) return S.NotFound;
      const wasClosed = st.info.localClosed || st.info.endOfStreamSent;
      st.info.localClosed = true;
      if (!wasClosed) this.onStreamEvent?.(token, { close: true });
      if (st.info.remoteClosed) this.forget(token);
      return S.Ok;
    }
    return S.BadArgument;
  }

  /** proxy_grpc_cancel: a call is cancelled; a stream is reset. No callback follows. */
  cancel(token: number): number {
    if ((token & 3) === 1) return this.cancelCall(token);
    if ((token & 3) === 2) {
      const st = this.streams.get(token);
      if (!st) return S.NotFound;
      st.info.cancelled = true;
      this.forget(token);
      this.onStreamEvent?.(token, { cancel: true });
      return S.Ok;
    }
    return S.BadArgument;
  }

  private cancelCall(token: number): number {
    const c = this.calls.get(token);
    if (!c) return S.NotFound;
    if (c.info.state === 'pending') c.info.state = 'cancelled';
    this.calls.delete(token);
    this.onStreamEvent?.(token, { cancel: true });
    return S.Ok;
  }

  private forget(token: number): void {
    const st = this.streams.get(token);
    if (!st) return;
    st.info.finished = true;
    this.streams.delete(token);
  }

  /** Plugin teardown / VM reload: Envoy's ~Context cancels every request and resets every stream, no callbacks. */
  cancelAll(): void {
    for (const [token, c] of this.calls) { if (c.info.state === 'pending') c.info.state = 'cancelled'; this.onStreamEvent?.(token, { cancel: true }); }
    for (const [token, s] of this.streams) { s.info.cancelled = true; s.info.finished = true; this.onStreamEvent?.(token, { cancel: true }); }
    this.calls.clear(); this.streams.clear();
  }

  pendingCalls(): GrpcCallRecord[] { return [...this.calls.values()].map((c) => c.info); }
  openStreams(): GrpcStreamInfo[] { return [...this.streams.values()].map((s) => s.info); }
  isOpen(token: number): boolean { return this.calls.has(token) || this.streams.has(token); }

  // ------------------------------------------------------------------ deliveries (remote side)

  private pendingCall(token: number): CallState {
    const c = this.calls.get(token);
    if (!c) throw new Error(`no pending gRPC call with token ${token}`);
    return c;
  }
  private openStream(token: number): StreamState {
    const s = this.streams.get(token);
    if (!s) throw new Error(`no open gRPC stream with token ${token}`);
    if (s.info.remoteClosed) throw new Error(`gRPC stream ${token} was already closed by the remote side`);
    return s;
  }

  /**
   * proxy_set_buffer_bytes(GRPC_CALL_MESSAGE): during proxy_on_grpc_receive Envoy hands out the received message as a
   * mutable Buffer::Instance (context.cc getBuffer GrpcReceiveBuffer), so Envoy's Buffer::copyFrom applies: start 0
   * drains `len` bytes then prepends, start >= size appends, anything else is BadArgument. The edit is only seen by
   * reads in the same callback (the buffer is dropped after it). Outside the callback: BufferBase::copyFrom, BadArgument.
   */
  setMessage(start: number, len: number, data: Uint8Array): number {
    const b = this.message;
    if (b === null) return S.BadArgument;
    const d = Uint8Array.from(data);
    let out: Uint8Array;
    if (start === 0) { const rest = b.subarray(Math.min(len, b.length)); out = new Uint8Array(d.length + rest.length); out.set(d, 0); out.set(rest, d.length); }
    else if (start >= b.length) { out = new Uint8Array(b.length + d.length); out.set(b, 0); out.set(d, b.length); }
    else return S.BadArgument;
    this.message = out;
    return S.Ok;
  }

  /** Unary success (Envoy onSuccessRaw): proxy_on_grpc_receive(token, size); the call is then forgotten. */
  respondCall(token: number, message: Uint8Array): void {
    const c = this.pendingCall(token);
    c.info.state = 'responded';
    this.message = message;
    this.host.grpcCallback('proxy_on_grpc_receive', token, message.length);
    this.message = null;
    this.calls.delete(token);
  }

  /** Unary failure (Envoy onFailure): proxy_on_grpc_close(token, status) with get_status = (status, message).
   *  A status of 0 with no response message is Envoy's Internal (13) with an empty message. */
  failCall(token: number, status: number, message: string): void {
    const c = this.pendingCall(token);
    c.info.state = 'failed';
    if (status === GrpcCode.Ok) { status = GrpcCode.Internal; message = ''; }
    this.closeNow(token, status, message);
    this.calls.delete(token);
  }

  streamInitialMetadata(token: number, md: HeaderList): void {
    this.openStream(token);
    this.initialMetadata = new HeaderMap('other', md);
    this.host.grpcCallback('proxy_on_grpc_receive_initial_metadata', token, this.initialMetadata.size);
    this.initialMetadata = null;
  }

  streamMessage(token: number, message: Uint8Array): void {
    this.openStream(token);
    this.message = message;
    this.host.grpcCallback('proxy_on_grpc_receive', token, message.length);
    this.message = null;
  }

  streamTrailingMetadata(token: number, md: HeaderList): void {
    this.openStream(token);
    this.trailingMetadata = new HeaderMap('other', md);
    this.host.grpcCallback('proxy_on_grpc_receive_trailing_metadata', token, this.trailingMetadata.size);
    this.trailingMetadata = null;
  }

  /** Remote close (Envoy onRemoteClose): remote_closed_, proxy_on_grpc_close; forgotten if the module closed too. */
  streamRemoteClose(token: number, status: number, message: string): void {
    const s = this.openStream(token);
    s.info.remoteClosed = true;
    this.closeNow(token, status, message);
    const st = this.streams.get(token);
    if (st && st.info.localClosed) this.forget(token);
  }

  private closeNow(token: number, status: number, message: string): void {
    this.host.setStatus(status >>> 0, message);
    this.host.grpcCallback('proxy_on_grpc_close', token, status >>> 0);
    this.host.setStatus(status >>> 0, ''); // Envoy clears the message (not the code) after the VM call
  }
}

/** Build the header list of a delivery from a convenience record. */
export function toHeaderList(md: HeaderList | Record<string, string> | undefined): HeaderList {
  if (!md) return [];
  return Array.isArray(md) ? md : Object.entries(md);
}

export { valueToString, toBytes };
