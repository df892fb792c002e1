// gRPC callouts: unary calls (Context.dispatchGrpcCall) and streams (Context.openGrpcStream).
//
// A filter that uses them also exports the four gRPC callbacks:
//   export * from "as-proxy-wasm/assembly/exports";        (or ./core + the callbacks it needs)
//   export * from "as-proxy-wasm/assembly/grpc-exports";
//
// Envoy semantics the SDK follows (source/extensions/common/wasm/context.cc): every callback arrives on the
// root context; the SDK finds the call/stream by token, makes the originating context the effective context
// and runs its callback/handler there. A unary call ends with exactly one of: a message (success) or a close
// with a non-zero gRPC status (failure). A stream gets initial metadata, messages, trailing metadata, then a
// close (remote side); `close()` only half-closes our side, `cancel()` resets it (no callback follows).
import { Status, MapType, BufferType, LogLevel } from "./enums";
import { proxy_set_effective_context, proxy_get_status } from "./imports";
import { RET_A, RET_B, RET_C, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8, utf8Bytes } from "./utf8";
import { argPtr, argLen } from "./args";
import { HeaderMap, Pairs } from "./headers";
import { Buffer } from "./body";
import { Context, Registered } from "./context";
import { logBytes } from "./log";
import { G, gtextPtr, gtextLen } from "./text";

// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
declare function proxy_grpc_call(
  upstream: usize, upstreamSize: usize, service: usize, serviceSize: usize, method: usize, methodSize: usize,
  metadata: usize, metadataSize: usize, message: usize, messageSize: usize, timeoutMs: u32, retToken: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_grpc_stream")
declare function proxy_grpc_stream(
  upstream: usize, upstreamSize: usize, service: usize, serviceSize: usize, method: usize, methodSize: usize,
  metadata: usize, metadataSize: usize, retToken: usize): i32;
// @ts-ignore: decorator
@external("env", "proxy_grpc_send")
declare function proxy_grpc_send(token: u32, message: usize, messageSize: usize, endOfStream: u32): i32;
// @ts-ignore: decorator
@external("env", "proxy_grpc_cancel")
declare function proxy_grpc_cancel(token: u32): i32;
// @ts-ignore: decorator
@external("env", "proxy_grpc_close")
declare function proxy_grpc_close(token: u32): i32;

/** Initial metadata of a stream: readable only during GrpcStreamHandler.onInitialMetadata. */
// @ts-ignore: decorator
@lazy export const grpcInitialMetadata = new HeaderMap(MapType.GrpcReceiveInitialMetadata);
/** Trailing metadata of a stream: readable only during GrpcStreamHandler.onTrailingMetadata. */
// @ts-ignore: decorator
@lazy export const grpcTrailingMetadata = new HeaderMap(MapType.GrpcReceiveTrailingMetadata);
/** The received message: readable only during a unary callback (success) or GrpcStreamHandler.onMessage. */
// @ts-ignore: decorator
@lazy export const grpcMessage = new Buffer(BufferType.GrpcReceiveBuffer);

/** The outcome of a unary gRPC call, valid during its callback. */
export class GrpcResponse {
  constructor(
    public readonly token: u32,
    /** gRPC status code (GrpcStatus): 0 = OK, the message is readable. */
    public readonly status: u32,
    /** Size of the response message (0 on failure). */
    public readonly messageSize: u32,
    /** grpc-message of a failure ("" on success). */
    public readonly statusMessage: string,
  ) {}

  get ok(): bool { return this.status == 0; }

  /** Response message bytes (zero-copy), or null on failure / host error. */
  message(start: u32 = 0, max: u32 = u32.MAX_VALUE): ArrayBuffer | null {
    if (this.status != 0) return null;
    return grpcMessage.get(start, max);
  }
}

/** Callback of dispatchGrpcCall, run on the originating context (effective context already set). */
export type GrpcCallCallback = (origin: Context, response: GrpcResponse) => void;

/** A unary gRPC call. `status` is the host's answer to the dispatch: check `ok` before relying on `token`. */
export class GrpcCall {
  constructor(
    public readonly status: Status,
    public readonly token: u32,
    public readonly origin: Context,
    public readonly callback: GrpcCallCallback,
  ) {}

  get ok(): bool { return this.status == Status.Ok; }

  /** Cancels the call (proxy_grpc_cancel): no callback will run. NotFound once it has completed. */
  cancel(): Status {
    if (!this.ok) return Status.NotFound;
    removeCall(this.token);
    return <Status>proxy_grpc_cancel(this.token);
  }
}

/**
 * Events of a gRPC stream, run on the context that opened it (effective context already set).
 * Extend it and override what you need; the defaults ignore the event.
 */
export class GrpcStreamHandler {
  /** Response headers of the stream; `metadata` is readable only now. */
  onInitialMetadata(stream: GrpcStream, metadata: HeaderMap, numEntries: u32): void {}
  /** One response message of `size` bytes: `stream.message()` reads it (only now). */
  onMessage(stream: GrpcStream, size: u32): void {}
  /** Trailers of the stream; `metadata` is readable only now. */
  onTrailingMetadata(stream: GrpcStream, metadata: HeaderMap, numEntries: u32): void {}
  /**
   * The remote side closed the stream with gRPC `status` (0 = OK) and `message`. The stream is finished
   * afterwards: the SDK closes our side too if the handler did not.
   */
  onClose(stream: GrpcStream, status: u32, message: string): void {}
}

/** A gRPC stream. `status` is the host's answer to the open: check `ok` first. */
export class GrpcStream {
  /** Our side is closed (close(), or cancel()). */
  localClosed: bool = false;
  /** The remote side closed (onClose ran). */
  remoteClosed: bool = false;
  /** cancel() was called. */
  cancelled: bool = false;

  constructor(
    public readonly status: Status,
    public readonly token: u32,
    public readonly origin: Context,
    public readonly handler: GrpcStreamHandler,
  ) {}

  get ok(): bool { return this.status == Status.Ok; }

  /** Sends one message (proxy_grpc_send); `endOfStream` half-closes the request side after it. */
  send<M>(message: M, endOfStream: bool = false): Status {
    if (!this.ok) return Status.NotFound;
    let p = argPtr<M>(message, 2);
    return <Status>proxy_grpc_send(this.token, p, argLen, endOfStream ? 1 : 0);
  }

  /** Half-closes our side (proxy_grpc_close): responses keep arriving until the remote closes. */
  close(): Status {
    if (!this.ok) return Status.NotFound;
    if (this.localClosed) return Status.Ok;
    this.localClosed = true;
    if (this.remoteClosed) removeStream(this.token);
    return <Status>proxy_grpc_close(this.token);
  }

  /** Resets the stream (proxy_grpc_cancel): no further event is delivered. */
  cancel(): Status {
    if (!this.ok) return Status.NotFound;
    this.cancelled = true;
    this.localClosed = true;
    removeStream(this.token);
    return <Status>proxy_grpc_cancel(this.token);
  }

  /** The message being delivered (only during onMessage), zero-copy, or null. */
  message(start: u32 = 0, max: u32 = u32.MAX_VALUE): ArrayBuffer | null {
    return grpcMessage.get(start, max);
  }
}

function varintSize(n: u32): u32 { let k: u32 = 1; while (n >= 0x80) { n >>= 7; k++; } return k; }
function putVarint(p: usize, n: u32): usize {
  while (n >= 0x80) { store<u8>(p++, <u8>(n | 0x80)); n >>= 7; }
  store<u8>(p++, <u8>n);
  return p;
}
function putBytes(p: usize, tag: u8, b: ArrayBuffer): usize {
  store<u8>(p++, tag);
  p = putVarint(p, <u32>b.byteLength);
  memory.copy(p, changetype<usize>(b), <usize>b.byteLength);
  return p + <usize>b.byteLength;
}

/**
 * A serialized envoy.config.core.v3.GrpcService { envoy_grpc { cluster_name, authority } }, the other form
 * of `upstream` (build it once, at configure time). `authority` "" = Envoy uses the cluster name.
 */
export function encodeGrpcService(cluster: string, authority: string = ""): ArrayBuffer {
  let c = utf8Bytes(cluster);
  let a = utf8Bytes(authority);
  let cl = <u32>c.byteLength, al = <u32>a.byteLength;
  let inner = 1 + varintSize(cl) + cl + (al > 0 ? 1 + varintSize(al) + al : 0);
  let out = new ArrayBuffer(<i32>(1 + varintSize(inner) + inner));
  let p = changetype<usize>(out);
  store<u8>(p++, 0x0a); // field 1 (envoy_grpc), length-delimited
  p = putVarint(p, inner);
  p = putBytes(p, 0x0a, c); // cluster_name = 1
  if (al > 0) putBytes(p, 0x12, a); // authority = 2
  return out;
}

// ---------------------------------------------------------------------------
// Dispatch (called by Context.dispatchGrpcCall / openGrpcStream)

// @ts-ignore: decorator
@lazy const calls = new Array<GrpcCall>();
// @ts-ignore: decorator
@lazy const streams = new Array<GrpcStream>();

/** Number of unary calls waiting for their outcome. */
export function pendingGrpcCalls(): i32 { return calls.length; }
/** Number of streams the SDK still tracks (not finished). */
export function openGrpcStreams(): i32 { return streams.length; }

function metadataPtr(md: Pairs | null): usize { return md === null ? 0 : md.ptr(); }
function metadataLen(md: Pairs | null): usize { return md === null ? 0 : md.byteLength(); }

export function grpcCall<U, M>(
  origin: Context, upstream: U, service: string, method: string, metadata: Pairs | null, message: M,
  timeoutMs: u32, callback: GrpcCallCallback,
): GrpcCall {
  let u = argPtr<U>(upstream, 0);
  let ul = argLen;
  let s = argPtr<string>(service, 1);
  let sl = argLen;
  let m = argPtr<string>(method, 3);
  let ml = argLen;
  let g = argPtr<M>(message, 2);
  let gl = argLen;
  let st = <Status>proxy_grpc_call(u, ul, s, sl, m, ml, metadataPtr(metadata), metadataLen(metadata), g, gl, timeoutMs, RET_C);
  let c = new GrpcCall(st, st == Status.Ok ? load<u32>(RET_C) : 0, origin, callback);
  if (st == Status.Ok) calls.push(c);
  return c;
}

export function grpcStream<U>(
  origin: Context, upstream: U, service: string, method: string, metadata: Pairs | null, handler: GrpcStreamHandler,
): GrpcStream {
  let u = argPtr<U>(upstream, 0);
  let ul = argLen;
  let s = argPtr<string>(service, 1);
  let sl = argLen;
  let m = argPtr<string>(method, 2);
  let ml = argLen;
  let st = <Status>proxy_grpc_stream(u, ul, s, sl, m, ml, metadataPtr(metadata), metadataLen(metadata), RET_C);
  let gs = new GrpcStream(st, st == Status.Ok ? load<u32>(RET_C) : 0, origin, handler);
  if (st == Status.Ok) streams.push(gs);
  return gs;
}

function callIndex(token: u32): i32 {
  for (let i = 0, n = calls.length; i < n; i++) if (unchecked(calls[i]).token == token) return i;
  return -1;
}
function streamIndex(token: u32): i32 {
  for (let i = 0, n = streams.length; i < n; i++) if (unchecked(streams[i]).token == token) return i;
  return -1;
}
function removeCall(token: u32): void { let i = callIndex(token); if (i >= 0) calls.splice(i, 1); }
function removeStream(token: u32): void { let i = streamIndex(token); if (i >= 0) streams.splice(i, 1); }

/** Makes `origin` the effective context; false when it is a stream (HTTP/TCP) context that is gone (or the host refuses). */
function enter(origin: Context, rootId: u32): bool {
  if (origin.id == rootId) return true;
  if (origin.registered == Registered.No) return false; // its stream ended
  return proxy_set_effective_context(origin.id) == Status.Ok;
}

/** proxy_get_status during a close: the grpc-message ("" when the host has none). */
function closeMessage(): string {
  let s = <Status>proxy_get_status(RET_C, RET_A, RET_B);
  setLastStatus(s);
  if (s != Status.Ok) return "";
  let msg = adoptReturned();
  return msg === null ? "" : decodeUtf8(changetype<usize>(msg), <usize>msg.byteLength);
}

/** A stream whose originating HTTP context is gone: reset it (nobody can handle its events). */
function orphan(gs: GrpcStream): void {
  logBytes(LogLevel.Debug, gtextPtr(G.STREAM_LATE), gtextLen(G.STREAM_LATE));
  gs.cancel();
}

/** The stream of `token` (null for a unary call or an unknown token). */
function streamOf(token: u32): GrpcStream | null {
  let i = streamIndex(token);
  return i < 0 ? null : unchecked(streams[i]);
}

/** Enters the stream's origin for an event; a stream whose origin is gone is cancelled (false). */
function enterStream(gs: GrpcStream, rootId: u32): bool {
  if (enter(gs.origin, rootId)) return true;
  orphan(gs);
  return false;
}

function finishCall(rootId: u32, token: u32, status: u32, size: u32, message: string): void {
  let i = callIndex(token);
  if (i < 0) {
    logBytes(LogLevel.Debug, gtextPtr(G.UNKNOWN_TOKEN), gtextLen(G.UNKNOWN_TOKEN));
    return;
  }
  let c = unchecked(calls[i]);
  calls.splice(i, 1);
  if (!enter(c.origin, rootId)) {
    logBytes(LogLevel.Debug, gtextPtr(G.CALL_LATE), gtextLen(G.CALL_LATE));
    return;
  }
  let cb = c.callback;
  cb(c.origin, new GrpcResponse(token, status, size, message));
}

// ---------------------------------------------------------------------------
// Callbacks (called by ./grpc-exports)

export function onGrpcInitialMetadata(rootId: u32, token: u32, numEntries: u32): void {
  let gs = streamOf(token);
  if (gs !== null && enterStream(gs, rootId)) gs.handler.onInitialMetadata(gs, grpcInitialMetadata, numEntries);
}

export function onGrpcReceive(rootId: u32, token: u32, size: u32): void {
  let gs = streamOf(token);
  if (gs === null) finishCall(rootId, token, 0, size, "");
  else if (enterStream(gs, rootId)) gs.handler.onMessage(gs, size);
}

export function onGrpcTrailingMetadata(rootId: u32, token: u32, numEntries: u32): void {
  let gs = streamOf(token);
  if (gs !== null && enterStream(gs, rootId)) gs.handler.onTrailingMetadata(gs, grpcTrailingMetadata, numEntries);
}

export function onGrpcClose(rootId: u32, token: u32, status: u32): void {
  let gs = streamOf(token);
  if (gs !== null) {
    gs.remoteClosed = true;
    if (!enterStream(gs, rootId)) return;
    let message = closeMessage();
    gs.handler.onClose(gs, status, message);
    // finished: release the host's entry (Envoy keeps a remotely closed stream until our side closes)
    if (!gs.localClosed) gs.close();
    else removeStream(token);
    return;
  }
  // a unary failure; Envoy reports a status (never 0 here: OK without a message arrives as Internal)
  finishCall(rootId, token, status, 0, closeMessage());
}
