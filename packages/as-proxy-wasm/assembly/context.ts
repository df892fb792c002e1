// The contexts a filter extends: RootContext (one per plugin), HttpContext / HttpStream<Root> (one
// per HTTP stream), TcpContext (one per connection of a network filter), and the http calls any
// of them can dispatch. The registry and the dispatch of the ABI callbacks are in ./dispatch.

import {
  FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, Status, StreamType, LogLevel,
} from "./enums";
import {
  proxy_set_tick_period_milliseconds, proxy_done, proxy_continue_stream, proxy_close_stream,
  proxy_send_local_response, proxy_http_call, proxy_set_effective_context, proxy_get_status,
  proxy_call_foreign_function,
} from "./imports";
import { RET_A, RET_B, RET_C, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";
import { argPtr, argLen } from "./args";
import {
  HeaderMap, Pairs, requestHeaders, requestTrailers, responseHeaders, responseTrailers,
  httpCallResponseHeaders, httpCallResponseTrailers,
} from "./headers";
import { Buffer, requestBody, responseBody, httpCallResponseBody, pluginConfiguration, vmConfiguration } from "./body";
import { logBytes } from "./log";
import { JsonValue, parseJsonAt } from "./json";
import { E, etextPtr, etextLen, H, htextPtr, htextLen } from "./text";
import { FilterStatus, PeerType, downstreamData, upstreamData } from "./tcp";
import { GrpcCall, GrpcCallCallback, GrpcStream, GrpcStreamHandler, grpcCall, grpcStream } from "./grpc";

/** Callback of dispatchHttpCall, run on the originating context (effective context already set). */
export type HttpCallCallback = (origin: Context, response: HttpCallResponse) => void;

/** The outcome of an http call, valid during the callback. */
export class HttpCallResponse {
  constructor(
    public readonly token: u32,
    public readonly numHeaders: u32,
    public readonly bodySize: u32,
    public readonly numTrailers: u32,
  ) {}

  /** True when the call failed (reset, timeout inside Envoy's client...): Envoy reports no headers. */
  get failed(): bool {
    return this.numHeaders == 0;
  }

  get headers(): HeaderMap { return httpCallResponseHeaders; }
  get trailers(): HeaderMap { return httpCallResponseTrailers; }

  /** ":status" as a number, or 0 when absent/failed. */
  get status(): i32 {
    let v = httpCallResponseHeaders.getBytes<string>(":status");
    if (v === null) return 0;
    let n = 0;
    let p = changetype<usize>(v);
    for (let i = 0; i < v.byteLength; i++) {
      let d = <i32>load<u8>(p + <usize>i) - 0x30;
      if (d < 0 || d > 9) return 0;
      n = n * 10 + d;
    }
    return n;
  }

  /** Body bytes (zero-copy), or null. */
  body(start: u32 = 0, max: u32 = u32.MAX_VALUE): ArrayBuffer | null {
    return httpCallResponseBody.get(start, max);
  }

  bodyString(): string | null {
    return httpCallResponseBody.getString();
  }
}

/** Result of proxy_get_status (after an http call / gRPC close). */
export class CallStatus {
  constructor(public readonly code: u32, public readonly message: string) {}
}

/** proxy_get_status, or null when the host has none (see lastStatus()). */
export function getCallStatus(): CallStatus | null {
  let s = <Status>proxy_get_status(RET_C, RET_A, RET_B);
  setLastStatus(s);
  if (s != Status.Ok) return null;
  let code = load<u32>(RET_C);
  let msg = adoptReturned();
  return new CallStatus(code, msg === null ? "" : decodeUtf8(changetype<usize>(msg), <usize>msg.byteLength));
}

class PendingCall {
  constructor(public token: u32, public origin: Context, public callback: HttpCallCallback | null) {}
}
// @ts-ignore: decorator
@lazy const pendingCalls = new Array<PendingCall>();
let lastToken: u32 = 0;

/**
 * Delivery of proxy_on_http_call_response to the pending calls. dispatchHttpCall installs it, so a
 * filter that never dispatches a call does not link the pending-call table nor this delivery.
 */
let httpCallDelivery: ((root: RootContext | null, rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32) => void) | null = null;

/**
 * @internal Delivers an http call response (proxy_on_http_call_response of root `rootId`, null when
 * it is gone) to the context that dispatched the call; without dispatchHttpCall in the filter (a
 * call made with the raw ABI), to the root.
 */
export function deliverHttpCall(root: RootContext | null, rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  let d = httpCallDelivery;
  if (d !== null) {
    d(root, rootId, token, numHeaders, bodySize, numTrailers);
    return;
  }
  if (root !== null) root.onHttpCallResponse(new HttpCallResponse(token, numHeaders, bodySize, numTrailers));
}

/** Takes the call of `token` out of the pending calls and runs its callback on its origin context, made the effective one. */
function deliverPendingCall(root: RootContext | null, rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  let resp = new HttpCallResponse(token, numHeaders, bodySize, numTrailers);
  let pc: PendingCall | null = null;
  for (let i = 0, n = pendingCalls.length; i < n; i++) {
    if (unchecked(pendingCalls[i]).token == token) {
      pc = unchecked(pendingCalls[i]);
      pendingCalls.splice(i, 1);
      break;
    }
  }
  if (pc === null) { // unknown token: a call made with the raw ABI goes to the root
    if (root !== null) root.onHttpCallResponse(resp);
    return;
  }
  let origin = pc.origin;
  if (origin.id != rootId) {
    if (origin.registered == Registered.No) { // its stream ended
      logBytes(LogLevel.Debug, htextPtr(H.CALL_LATE), htextLen(H.CALL_LATE));
      return;
    }
    if (proxy_set_effective_context(origin.id) != Status.Ok) {
      logBytes(LogLevel.Warn, htextPtr(H.EFFECTIVE_FAILED), htextLen(H.EFFECTIVE_FAILED));
      return;
    }
  }
  let cb = pc.callback;
  if (cb !== null) cb(origin, resp);
  else origin.onHttpCallResponse(resp);
}

/** Token of the last successful dispatchHttpCall. */
export function lastHttpCallToken(): u32 {
  return lastToken;
}

/** Number of http calls dispatched whose response has not arrived yet. */
export function pendingHttpCalls(): i32 {
  return httpCallDelivery === null ? 0 : pendingCalls.length;
}

/** @internal Where ./dispatch keeps a context: the kind of a live context, No before and after. */
export enum Registered { No = 0, Root = 1, Http = 2, Tcp = 3 }

/** Common base of RootContext, HttpContext and TcpContext. */
export abstract class Context {
  /** @internal the next context of the SDK's list of roots / of live streams (./dispatch). */
  nextContext: Context | null = null;
  /** @internal which list of ./dispatch holds this context (No once it is deleted). */
  registered: Registered = Registered.No;

  constructor(public readonly id: u32) {}

  /**
   * For pooled contexts: gives this context, kept after its onDelete, the id of a new stream, so
   * that `createHttpContext` / `createTcpContext` can return it again (Envoy never reuses an id).
   * Reset the filter's own per-stream fields next to this call.
   */
  reuseFor(id: u32): void {
    // `id` is read-only for filters; the pool is the one place where it changes
    store<u32>(changetype<usize>(this), id, offsetof<Context>("id"));
  }

  /** The root context this context belongs to (itself for a root). */
  abstract get rootContext(): RootContext;

  /**
   * proxy_http_call to `cluster`. `headers` must contain :method, :path and
   * :authority (Envoy answers BadArgument otherwise, or for an unknown
   * cluster). `timeoutMs` 0 = no timeout. When the response (or failure)
   * arrives, the SDK makes this context the effective context and calls
   * `callback(this, response)` if given, else `this.onHttpCallResponse(response)`.
   */
  dispatchHttpCall<B>(
    cluster: string, headers: Pairs, body: B, trailers: Pairs | null, timeoutMs: u32,
    callback: HttpCallCallback | null = null,
  ): Status {
    let c = argPtr<string>(cluster, 0);
    let cl = argLen;
    let b = argPtr<B>(body, 2);
    let bl = argLen;
    let tp: usize = 0, tl: usize = 0;
    if (trailers !== null) { tp = trailers.ptr(); tl = trailers.byteLength(); }
    let s = <Status>proxy_http_call(c, cl, headers.ptr(), headers.byteLength(), b, bl, tp, tl, timeoutMs, RET_C);
    if (s == Status.Ok) {
      lastToken = load<u32>(RET_C);
      pendingCalls.push(new PendingCall(lastToken, this, callback));
      httpCallDelivery = deliverPendingCall;
    }
    return s;
  }

  /**
   * proxy_grpc_call: a unary gRPC call of `service`/`method` on `upstream` (a cluster name, or the bytes of a
   * serialized envoy.config.core.v3.GrpcService). `metadata` = request initial metadata (or null),
   * `timeoutMs` 0 = none. Check `.ok` on the result (Envoy: unknown cluster = ParseFailure). The outcome
   * runs `callback(this, response)` with this context as the effective context. Needs the exports of
   * "as-proxy-wasm/assembly/grpc-exports".
   */
  dispatchGrpcCall<U, M>(
    upstream: U, service: string, method: string, metadata: Pairs | null, message: M, timeoutMs: u32,
    callback: GrpcCallCallback,
  ): GrpcCall {
    return grpcCall<U, M>(this, upstream, service, method, metadata, message, timeoutMs, callback);
  }

  /**
   * proxy_grpc_stream: opens a gRPC stream of `service`/`method` on `upstream` (as for dispatchGrpcCall);
   * its events go to `handler` on this context. Check `.ok`, then `send()`, `close()` (half-close) or
   * `cancel()` (reset). Needs the exports of "as-proxy-wasm/assembly/grpc-exports".
   */
  openGrpcStream<U>(upstream: U, service: string, method: string, metadata: Pairs | null, handler: GrpcStreamHandler): GrpcStream {
    return grpcStream<U>(this, upstream, service, method, metadata, handler);
  }

  /** Called for an http call response when dispatchHttpCall got no callback. */
  onHttpCallResponse(response: HttpCallResponse): void {}

  /** proxy_call_foreign_function (e.g. "clear_route_cache", "compress"); null on error (see lastStatus()). */
  callForeignFunction<A>(name: string, args: A): ArrayBuffer | null {
    let n = argPtr<string>(name, 0);
    let nl = argLen;
    let a = argPtr<A>(args, 2);
    let s = <Status>proxy_call_foreign_function(n, nl, a, argLen, RET_A, RET_B);
    setLastStatus(s);
    if (s != Status.Ok) return null;
    return adoptReturned();
  }
}

/**
 * One per plugin (root_id) per VM. Override the hooks you need; create the
 * per-stream contexts in `createHttpContext`.
 */
export class RootContext extends Context {
  /** @internal the host's plugin_root_id bytes (null when the host has none). */
  rootIdBytes: ArrayBuffer | null = null;
  /** The root_id this context was created for ("" when the host has none), decoded on use. */
  get rootId(): string {
    let b = this.rootIdBytes;
    return b === null ? "" : decodeUtf8(changetype<usize>(b), <usize>b.byteLength);
  }

  get rootContext(): RootContext { return this; }

  /** VM start; `vmConfigSize` bytes are in `vmConfiguration`. false rejects the VM. */
  onVmStart(vmConfigSize: u32): bool { return true; }

  /** Plugin configuration; `configSize` bytes in `pluginConfiguration` (see `configJson()`). false rejects it. */
  onConfigure(configSize: u32): bool { return true; }

  onTick(): void {}
  onQueueReady(queueId: u32): void {}
  /** Return false to finish asynchronously, then call `done()`. */
  onDone(): bool { return true; }
  onDelete(): void {}

  /** Creates the context of a new HTTP stream, or null for "no per-stream work" (everything continues). */
  createHttpContext(contextId: u32): HttpContext | null { return null; }

  /**
   * Network filters (exports from `as-proxy-wasm/assembly/tcp-exports`): creates the context of a
   * new TCP connection. Asked first for every new stream context; null falls back to
   * `createHttpContext` (Envoy does not tell the module which filter kind it runs in).
   */
  createTcpContext(contextId: u32): TcpContext | null { return null; }

  /** proxy_set_tick_period_milliseconds (0 disables). */
  setTickPeriod(ms: u32): Status {
    return <Status>proxy_set_tick_period_milliseconds(ms);
  }

  /** proxy_done: completes an asynchronous onDone. */
  done(): Status {
    return <Status>proxy_done();
  }

  /** Plugin configuration bytes (only during onConfigure), or null. */
  pluginConfig(): ArrayBuffer | null { return pluginConfiguration.get(); }
  /** Plugin configuration as a string (only during onConfigure), or null. */
  pluginConfigString(): string | null { return pluginConfiguration.getString(); }
  /** VM configuration bytes, or null. */
  vmConfig(): ArrayBuffer | null { return vmConfiguration.get(); }

  /**
   * The one-liner configuration path: reads the plugin configuration, parses
   * it as JSON and returns the root object; on a missing/invalid/non-object document it
   * logs a precise error (prefixed `config`) and returns null, so
   * `onConfigure` can `return false`. An empty configuration reads as `{}`
   * unless `allowEmpty` is false. Check the typed reads with `configOk(v)`.
   */
  configJson(allowEmpty: bool = true): JsonValue | null {
    let buf = pluginConfiguration.get();
    let n: usize = 0;
    if (buf !== null) n = <usize>buf.byteLength;
    if (!allowEmpty) {
      // (a block of its own, so that the optimizer drops it when allowEmpty is the constant true)
      let empty = n == 0;
      if (empty) logBytes(LogLevel.Error, etextPtr(E.CONFIG_EMPTY), etextLen(E.CONFIG_EMPTY));
      if (empty) return null;
    }
    let v = parseJsonAt(changetype<usize>(buf), n, null, buf);
    if (!v.hasError()) v.asObject(); // the document must be an object
    return logJsonError(v) ? null : v;
  }

  /**
   * After typed reads on `v` (from configJson): returns true when every read
   * succeeded and (when `strict`) no unknown key was present; otherwise logs
   * the first error at error level and returns false.
   */
  configOk(v: JsonValue, strict: bool = true): bool {
    if (strict) v.rejectUnknownKeys();
    return !logJsonError(v);
  }
}

/** Logs the first error of `v`'s document at error level (its UTF-8, no string); true when there is one. */
function logJsonError(v: JsonValue): bool {
  let e = v.errorBytes();
  if (e === null) return false;
  logBytes(LogLevel.Error, changetype<usize>(e), <usize>e.byteLength);
  return true;
}

/**
 * The context of one HTTP stream, with an untyped `root`. Filters extend `HttpStream<TheirRoot>`
 * (below) instead, whose `root` has the filter's root type; the SDK dispatches to this class.
 */
export class HttpContext extends Context {
  /** `owner`: the root this stream belongs to (read it as `root`). */
  constructor(id: u32, public readonly owner: RootContext) {
    super(id);
  }

  /** The root context this stream belongs to. */
  get root(): RootContext { return this.owner; }

  get rootContext(): RootContext { return this.owner; }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus { return FilterDataStatus.Continue; }
  onRequestTrailers(numTrailers: u32): FilterTrailersStatus { return FilterTrailersStatus.Continue; }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus { return FilterDataStatus.Continue; }
  onResponseTrailers(numTrailers: u32): FilterTrailersStatus { return FilterTrailersStatus.Continue; }
  /** Access-log phase (Envoy: before onDone/onDelete); request/response headers readable, request trailers not. */
  onLog(): void {}
  /** Stream finished (Envoy ignores the result for HTTP streams). */
  onDone(): void {}
  onDelete(): void {}

  get requestHeaders(): HeaderMap { return requestHeaders; }
  get requestTrailers(): HeaderMap { return requestTrailers; }
  get responseHeaders(): HeaderMap { return responseHeaders; }
  get responseTrailers(): HeaderMap { return responseTrailers; }
  get requestBody(): Buffer { return requestBody; }
  get responseBody(): Buffer { return responseBody; }

  /** Resumes a request paused by a hook (Envoy runs it after the current callback returns). */
  continueRequest(): Status { return <Status>proxy_continue_stream(StreamType.HttpRequest); }
  /** Resumes a paused response. */
  continueResponse(): Status { return <Status>proxy_continue_stream(StreamType.HttpResponse); }
  /** Resets the stream (response code details "wasm_close_stream"). */
  closeRequest(): Status { return <Status>proxy_close_stream(StreamType.HttpRequest); }
  closeResponse(): Status { return <Status>proxy_close_stream(StreamType.HttpResponse); }

  /**
   * Sends a local reply instead of (or replacing) the upstream response.
   * Envoy defers it until the hook returns, forces the hook's result to Stop,
   * lower-cases header names, adds content-length/content-type: text/plain,
   * and runs the reply through this filter's response hooks.
   * `details` becomes response.code_details (spaces -> '_'). `grpcStatus` -1 = none.
   */
  sendLocalResponse<B>(statusCode: u32, details: string, body: B, headers: Pairs | null = null, grpcStatus: i32 = -1): Status {
    let d = argPtr<string>(details, 0);
    let dl = argLen;
    let b = argPtr<B>(body, 2);
    let bl = argLen;
    let hp: usize = 0, hl: usize = 0;
    if (headers !== null) { hp = headers.ptr(); hl = headers.byteLength(); }
    return <Status>proxy_send_local_response(statusCode, d, dl, b, bl, hp, hl, grpcStatus);
  }
}

/**
 * The context of one HTTP stream of root type `R`: the way to write a filter's stream. `root` is
 * typed, so the stream reads its root's configuration without a cast:
 *
 *   class HeaderFilter extends HttpStream<HeaderRoot> {
 *     onRequestHeaders(n: u32, end: bool): FilterHeadersStatus {
 *       this.root.request.applyTo(MapType.HttpRequestHeaders);
 *       ...
 *   // in HeaderRoot: createHttpContext(id: u32): HttpContext | null { return new HeaderFilter(id, this); }
 */
export class HttpStream<R extends RootContext> extends HttpContext {
  constructor(id: u32, root: R) {
    super(id, root);
  }

  /** The root context this stream belongs to, as the filter's root type. */
  get root(): R {
    // the constructor only accepts an R
    return changetype<R>(this.owner);
  }
}

/**
 * The context of one TCP connection through a network filter. Override the hooks you need and
 * return it from `RootContext.createTcpContext`.
 */
export class TcpContext extends Context {
  constructor(id: u32, public readonly root: RootContext) {
    super(id);
  }

  get rootContext(): RootContext { return this.root; }

  /** The connection was accepted. StopIteration delays the next filters (tcp_proxy connects later). */
  onNewConnection(): FilterStatus { return FilterStatus.Continue; }
  /** Client bytes: `dataSize` bytes in `downstreamData` (all held bytes, not only the new chunk). */
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  /** Bytes for the client (from the upstream): `dataSize` bytes in `upstreamData`. */
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  /** The connection closed: `peer` is Local (the proxy closed it) or Remote (the client did). */
  onDownstreamConnectionClose(peer: PeerType): void {}
  /** The upstream finished sending (Envoy calls it after an upstream end_of_stream, peer Unknown). */
  onUpstreamConnectionClose(peer: PeerType): void {}
  /** TCP order after the close: onDone, onLog, onDelete. */
  onDone(): void {}
  onLog(): void {}
  onDelete(): void {}

  get downstreamData(): Buffer { return downstreamData; }
  get upstreamData(): Buffer { return upstreamData; }

  /**
   * Releases client bytes held by StopIteration to the upstream (Envoy continueReading(), run
   * after the current callback returns).
   */
  continueDownstream(): Status { return <Status>proxy_continue_stream(StreamType.Downstream); }
  /**
   * Envoy answers Unimplemented: held upstream bytes are released only by a later onUpstreamData
   * returning Continue. Kept for completeness (the status is returned, nothing traps).
   */
  continueUpstream(): Status { return <Status>proxy_continue_stream(StreamType.Upstream); }
  /** Closes the connection after the callback (Envoy FlushWrite, details "wasm_downstream_close"). */
  closeDownstream(): Status { return <Status>proxy_close_stream(StreamType.Downstream); }
  /**
   * Envoy closes the connection this filter runs on (the same downstream connection, FlushWrite,
   * details "wasm_upstream_close"); tcp_proxy then drops the upstream.
   */
  closeUpstream(): Status { return <Status>proxy_close_stream(StreamType.Upstream); }
}
