import { arenaOpen, arenaClose } from "./rt/owned";
import {
  FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, Status, StreamType, LogLevel,
} from "./enums";
import {
  proxy_set_tick_period_milliseconds, proxy_done, proxy_continue_stream, proxy_close_stream,
  proxy_send_local_response, proxy_http_call, proxy_set_effective_context, proxy_get_status,
  proxy_call_foreign_function, proxy_get_property,
} from "./imports";
import {
  RET_A, RET_B, RET_C, argPtr, argLen, adoptReturned, decodeUtf8, setLastStatus, encodeScratch, sameBytes,
  msgStart, msgPut, msgByte, msgEnd,
} from "./mem";
import {
  HeaderMap, Pairs, requestHeaders, requestTrailers, responseHeaders, responseTrailers,
  httpCallResponseHeaders, httpCallResponseTrailers,
} from "./headers";
import { Buffer, requestBody, responseBody, httpCallResponseBody, pluginConfiguration, vmConfiguration } from "./body";
import { logBytes, log } from "./log";
import { JsonValue, parseJsonAt } from "./json";
import { C, ctextPtr, ctextLen, E, etextPtr, etextLen, H, htextPtr, htextLen } from "./text";
import { TcpContext } from "./tcp";
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
  constructor(public token: u32, public contextId: u32, public callback: HttpCallCallback | null) {}
}
// @ts-ignore: decorator
@lazy const pendingCalls = new Array<PendingCall>();
let lastToken: u32 = 0;

/**
 * Delivery of proxy_on_http_call_response. dispatchHttpCall installs it, so a
 * filter that never dispatches a call does not link the pending-call table.
 */
let httpCallDelivery: ((rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32) => void) | null = null;

/**
 * Finds non-HTTP stream contexts (TCP connections) for http call delivery; installed by
 * ./tcp when a network filter creates its first connection context.
 */
let streamFinder: ((id: u32) => Context | null) | null = null;

/** @internal */
export function setStreamFinder(f: (id: u32) => Context | null): void {
  streamFinder = f;
}

/** @internal The live stream context (HTTP, or TCP when the filter has TCP contexts) with this id, or null. */
export function findStreamContext(id: u32): Context | null {
  let h: Context | null = findHttp(id);
  if (h === null) {
    let f = streamFinder;
    if (f !== null) h = f(id);
  }
  return h;
}

/** Token of the last successful dispatchHttpCall. */
export function lastHttpCallToken(): u32 {
  return lastToken;
}

/** Number of http calls dispatched whose response has not arrived yet. */
export function pendingHttpCalls(): i32 {
  return httpCallDelivery === null ? 0 : pendingCalls.length;
}

/** Common base of RootContext and HttpContext. */
export abstract class Context {
  /** @internal the next context of the SDK's list of roots / of live streams. */
  nextContext: Context | null = null;

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
      pendingCalls.push(new PendingCall(lastToken, this.id, callback));
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
  // @ts-ignore: decorator
  @inline get root(): RootContext { return this.owner; }

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
  // @ts-ignore: decorator
  @inline get root(): R {
    // the constructor only accepts an R
    return changetype<R>(this.owner);
  }
}

// ---------------------------------------------------------------------------
// Registry and dispatch (used by ./exports)

class RootFactory {
  constructor(public rootId: string, public factory: (id: u32) => RootContext, public next: RootFactory | null) {}
}
/** The registrations, newest first (so the LAST match in the list is the first registration). */
let factories: RootFactory | null = null;

/**
 * Registers the root context factory for `rootId` (Envoy `root_id`, Istio
 * WasmPlugin `pluginName`). The "" registration is the default: it serves
 * every root_id without a registration of its own. A root_id with neither
 * logs an error and fails configuration (no trap).
 */
export function registerRootContext(factory: (id: u32) => RootContext, rootId: string = ""): void {
  factories = new RootFactory(rootId, factory, factories);
}

/** Stands in for an unregistered root_id: configuration fails with a clear log line. */
class MissingRootContext extends RootContext {
  onConfigure(configSize: u32): bool {
    msgStart();
    msgPut(ctextPtr(C.NO_ROOT), ctextLen(C.NO_ROOT));
    let b = this.rootIdBytes;
    if (b !== null) msgPut(changetype<usize>(b), <usize>b.byteLength);
    msgByte(0x22);
    let m = msgEnd();
    logBytes(LogLevel.Error, changetype<usize>(m), <usize>m.byteLength);
    return false;
  }
}

// Root contexts and live stream contexts, linked through Context.nextContext, newest first: one
// list of roots (a VM rarely has more than one) and STREAM_BUCKETS lists of streams chosen by
// `id & (STREAM_BUCKETS - 1)`. Envoy numbers every context of a VM from one counter and never
// reuses an id, so live streams spread evenly over the buckets: a worker with thousands of live
// streams (HTTP/2, gRPC streaming, long polls) still finds one in a few steps. A stream whose root
// made no context (createHttpContext returned null) is not recorded: its callbacks find nothing
// and continue.
// @ts-ignore: decorator
@inline const STREAM_BUCKETS: u32 = 256;
let roots: Context | null = null;
let streams = new StaticArray<Context | null>(STREAM_BUCKETS);

/** The context `id` of the list starting at `c`, or null. */
function findIn(c: Context | null, id: u32): Context | null {
  while (c !== null && c.id != id) c = c.nextContext;
  return c;
}

/** Removes context `id` from the list starting at `head`; returns the list's new head. */
function unlink(head: Context | null, id: u32): Context | null {
  let prev: Context | null = null;
  let c = head;
  while (c !== null) {
    if (c.id == id) {
      if (prev === null) return c.nextContext;
      prev.nextContext = c.nextContext;
      break;
    }
    prev = c;
    c = c.nextContext;
  }
  return head;
}

export function createRoot(id: u32): void {
  // The host's root_id is matched as UTF-8 bytes against the registered ids (no decoding).
  let rootId: ArrayBuffer | null = null;
  if (proxy_get_property(ctextPtr(C.PLUGIN_ROOT_ID), ctextLen(C.PLUGIN_ROOT_ID), RET_A, RET_B) == Status.Ok) {
    rootId = adoptReturned();
  }
  let ip = changetype<usize>(rootId);
  let il: usize = rootId === null ? 0 : <usize>rootId.byteLength;
  // The first registration of a root_id wins: the last match in the newest-first list.
  let chosen: RootFactory | null = null;
  let fallback: RootFactory | null = null;
  let f = factories;
  while (f !== null) {
    if (sameBytes(ip, il, encodeScratch(f.rootId, 3), argLen)) chosen = f;
    if (f.rootId.length == 0) fallback = f;
    f = f.next;
  }
  if (chosen === null) chosen = fallback;
  // Host without plugin_root_id and a single registration: use it.
  f = factories;
  if (chosen === null && rootId === null && f !== null && f.next === null) chosen = f;
  let ctx: RootContext;
  if (chosen === null) ctx = new MissingRootContext(id);
  else ctx = chosen.factory(id);
  ctx.rootIdBytes = rootId;
  ctx.nextContext = roots;
  roots = ctx;
}

export function findRoot(id: u32): RootContext | null {
  return changetype<RootContext | null>(findIn(roots, id));
}

/**
 * @internal Runs root `rootId`'s onVmStart (`vmStart`) or onConfigure: false when there is no such
 * root. In the owned memory mode what they allocate goes to the root's arena (rt/owned.ts).
 */
export function setUpRoot(rootId: u32, size: u32, vmStart: bool): bool {
  let r = findRoot(rootId);
  if (r === null) return false;
  if (ASC_RUNTIME == 0) arenaOpen(rootId);
  let ok = vmStart ? r.onVmStart(size) : r.onConfigure(size);
  if (ASC_RUNTIME == 0) arenaClose();
  return ok;
}

export function removeRoot(id: u32): void {
  roots = unlink(roots, id);
}

export function findHttp(id: u32): HttpContext | null {
  return changetype<HttpContext | null>(findIn(unchecked(streams[id & (STREAM_BUCKETS - 1)]), id));
}

/** Registers a stream context. `ctx` null = the root wants no per-stream work (nothing recorded). */
export function addHttp(id: u32, ctx: HttpContext | null): void {
  if (ctx === null) return;
  let b = id & (STREAM_BUCKETS - 1);
  ctx.nextContext = unchecked(streams[b]);
  unchecked(streams[b] = ctx);
}

export function removeHttp(id: u32): void {
  let b = id & (STREAM_BUCKETS - 1);
  unchecked(streams[b] = unlink(unchecked(streams[b]), id));
}

/** Delivers an http call response to its originating context. */
export function deliverHttpCallResponse(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  let d = httpCallDelivery;
  if (d !== null) {
    d(rootId, token, numHeaders, bodySize, numTrailers);
    return;
  }
  // No dispatchHttpCall in this filter: a call made with the raw ABI goes to its root.
  let r = findRoot(rootId);
  if (r !== null) r.onHttpCallResponse(new HttpCallResponse(token, numHeaders, bodySize, numTrailers));
}

function deliverPendingCall(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  let idx = -1;
  for (let i = 0, n = pendingCalls.length; i < n; i++) {
    if (unchecked(pendingCalls[i]).token == token) { idx = i; break; }
  }
  let resp = new HttpCallResponse(token, numHeaders, bodySize, numTrailers);
  if (idx < 0) {
    // Unknown token: hand it to the root (e.g. a call made with the raw ABI).
    let r = findRoot(rootId);
    if (r !== null) r.onHttpCallResponse(resp);
    return;
  }
  let pc = unchecked(pendingCalls[idx]);
  pendingCalls.splice(idx, 1);
  let origin: Context | null = null;
  if (pc.contextId == rootId) {
    origin = findRoot(rootId);
  } else {
    let h: Context | null = findHttp(pc.contextId);
    if (h === null) {
      let f = streamFinder;
      if (f !== null) h = f(pc.contextId);
    }
    if (h === null) {
      logBytes(LogLevel.Debug, htextPtr(H.CALL_LATE), htextLen(H.CALL_LATE));
      return;
    }
    if (proxy_set_effective_context(pc.contextId) != Status.Ok) {
      logBytes(LogLevel.Warn, htextPtr(H.EFFECTIVE_FAILED), htextLen(H.EFFECTIVE_FAILED));
      return;
    }
    origin = h;
  }
  if (origin === null) return;
  let cb = pc.callback;
  if (cb !== null) cb(origin, resp);
  else origin.onHttpCallResponse(resp);
}
