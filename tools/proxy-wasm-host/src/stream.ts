// One HTTP stream through this filter, with Envoy's FilterManager + wasm Context semantics.
import type { Plugin } from './plugin';
import type { FilterStatus } from './abi';
import { HeaderMap, valueToString, bytesToText, type HeaderList, type HeaderValue } from './headers';
import { lookupContextProperty, type PropertyValue } from './properties';

export interface StreamOptions { properties?: Record<string, PropertyValue> }
export interface LocalReply { status: number; body: string; bodyBytes: Uint8Array; headers: HeaderList; details: string; grpcStatus: number | null }

const EMPTY = new Uint8Array(0);
const S_OK = 0, S_NOT_FOUND = 1, S_BAD_ARGUMENT = 2;

/**
 * A body buffer (Envoy's Buffer::Instance for one filter). Appends are amortised O(1): the
 * storage doubles when full, so buffering a body chunk by chunk is linear, not quadratic.
 * `bytes` is a view of the first `length` bytes; storage handed in by a caller is never written.
 */
class Body {
  private buf: Uint8Array;
  private len: number;
  private owned = false;
  constructor(bytes: Uint8Array = EMPTY) { this.buf = bytes; this.len = bytes.length; }
  get length(): number { return this.len; }
  get bytes(): Uint8Array { return this.len === this.buf.length ? this.buf : this.buf.subarray(0, this.len); }
  set bytes(b: Uint8Array) { this.buf = b; this.len = b.length; this.owned = false; }
  append(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.len === 0) { this.bytes = b; return; }
    const need = this.len + b.length;
    if (!this.owned || need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.owned ? this.buf.length * 2 : need * 2));
      grown.set(this.buf.subarray(0, this.len), 0);
      this.buf = grown;
      this.owned = true;
    }
    this.buf.set(b, this.len);
    this.len = need;
  }
  take(): Uint8Array { const b = this.bytes; this.buf = EMPTY; this.len = 0; this.owned = false; return b; }
}

/** State of one direction (request = decode, response = encode). */
class Dir {
  list: HeaderList | null = null;
  map: HeaderMap | null = null;
  seen = false;              // headers were delivered to this filter (or passed it)
  headersAvail = false;      // Envoy request_headers_/response_headers_ pointer
  bodyAvail: Body | null = null;
  trailersAvail = false;
  eos = false;               // end_stream of the current body callback
  trailers: HeaderMap | null = null;
  pendingTrailers: HeaderMap | null = null;
  stopped = false;
  stoppedAll = 0;            // 0, 3 (Buffer), 4 (Watermark)
  stopStatus: FilterStatus = 'Continue';
  buffering = false;         // wasm buffering_*_body_
  fm = new Body();           // FilterManager buffered data for this filter
  endStream = false;
  ended = false;             // ContinueAndEndStream: ignore further data
  done = false;              // no more processing (local reply / reset)
  headersReleased = false;
  relHeaders: HeaderMap | null = null;
  released: Uint8Array[] = [];
  relTrailers: HeaderMap | null = null;
  constructor(readonly kind: 'request-headers' | 'response-headers') {}
  hmap(): HeaderMap {
    if (!this.map) { this.map = new HeaderMap(this.kind, this.list ?? []); this.list = null; }
    return this.map;
  }
  count(): number { return this.map ? this.map.size : this.list ? this.list.length : 0; }
  current(): HeaderList { return this.map ? this.map.toList() : this.list ? this.list.map(([k, v]) => [k.toLowerCase(), v] as [string, HeaderValue]) : []; }
  releasedBody(): Uint8Array {
    if (this.released.length === 0) return EMPTY;
    if (this.released.length === 1) return this.released[0];
    return Buffer.concat(this.released);
  }
}

function headersStatus(r: number, stopNext: boolean, allowStop: boolean): FilterStatus {
  if (stopNext) return 'StopAllIterationAndWatermark';
  switch (r) {
    case 0: return 'Continue';
    case 1: return allowStop ? 'StopIteration' : 'StopAllIterationAndWatermark';
    case 2: return 'ContinueAndEndStream';
    case 3: return 'StopAllIterationAndBuffer';
    default: return 'StopAllIterationAndWatermark';
  }
}
function bodyStatus(r: number, stopNext: boolean): FilterStatus {
  if (stopNext) return 'StopIterationNoBuffer';
  switch (r) {
    case 0: return 'Continue';
    case 1: return 'StopIterationAndBuffer';
    case 2: return 'StopIterationAndWatermark';
    default: return 'StopIterationNoBuffer';
  }
}
const toBytes = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? Buffer.from(c) : c);

export class HttpStream {
  readonly req = new Dir('request-headers');
  readonly resp = new Dir('response-headers');
  created = false;
  completed = false;
  closed = false;
  skip = false;              // fail-open on a failed VM: the filter is skipped entirely
  inLog = false;
  failReplySent = false;
  localReplyActive = false;
  private fromLocal = false;
  details = '';
  localReply: LocalReply | null = null;
  routeCacheCleared = 0;
  filterState: Record<string, PropertyValue> = {};
  private readonly startMs = Date.now();

  /** The VM generation this stream was created on (FAIL_RELOAD replaces a failed VM for new streams only). */
  readonly gen: number;
  constructor(private p: Plugin, readonly id: number, private opts: StreamOptions) { this.gen = p.generation; }
  /** The VM of this stream failed (or was replaced by a reload): no more callbacks. */
  private get vmFailed(): boolean { return this.p.failed || this.gen !== this.p.generation; }

  // ---------------------------------------------------------------- public view
  get requestHeaders(): HeaderList { return this.req.current(); }
  get responseHeaders(): HeaderList { return this.resp.current(); }
  get requestTrailers(): HeaderList { return this.req.trailers?.toList() ?? this.req.pendingTrailers?.toList() ?? []; }
  get responseTrailers(): HeaderList { return this.resp.trailers?.toList() ?? this.resp.pendingTrailers?.toList() ?? []; }
  get requestBody(): Uint8Array { return this.req.releasedBody(); }
  get responseBody(): Uint8Array { return this.resp.releasedBody(); }
  get requestContinued(): boolean { return this.req.headersReleased; }
  get responseContinued(): boolean { return this.resp.headersReleased; }
  /** Headers as the upstream received them (null if the request never left this filter). */
  get upstreamRequest(): { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap | null } | null {
    return this.req.headersReleased ? { headers: this.req.relHeaders ?? this.req.hmap(), body: this.req.releasedBody(), trailers: this.req.relTrailers } : null;
  }
  /** What the client received (null if no response headers were released yet). */
  get clientResponse(): { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap | null } | null {
    return this.resp.headersReleased ? { headers: this.resp.relHeaders ?? this.resp.hmap(), body: this.resp.releasedBody(), trailers: this.resp.relTrailers } : null;
  }
  /** Whether this direction is currently held by the filter. */
  get requestPaused(): boolean { return this.req.stopped && !this.req.done; }
  get responsePaused(): boolean { return this.resp.stopped && !this.resp.done; }

  sendRequestHeaders(h: HeaderList, endStream = false): FilterStatus { return this.onHeaders(this.req, false, h, endStream); }
  sendRequestBody(chunk: string | Uint8Array, endStream: boolean): FilterStatus { return this.onData(this.req, false, toBytes(chunk), endStream); }
  sendRequestTrailers(t: HeaderList): FilterStatus { return this.onTrailers(this.req, false, t); }
  sendResponseHeaders(h: HeaderList, endStream = false): FilterStatus { return this.onHeaders(this.resp, true, h, endStream); }
  sendResponseBody(chunk: string | Uint8Array, endStream: boolean): FilterStatus { return this.onData(this.resp, true, toBytes(chunk), endStream); }
  sendResponseTrailers(t: HeaderList): FilterStatus { return this.onTrailers(this.resp, true, t); }

  /** A filter before this one answered locally: our decode callbacks never run; encode callbacks are skipped
   *  because the context was never created; on_log still runs at complete() (and creates the context). */
  localReplyFromEarlierFilter(status: number, body = '', headers: HeaderList = []): void {
    const hm = new HeaderMap('response-headers', [[':status', String(status)], ...headers]);
    const b = Buffer.from(body);
    if (b.length) { hm.replace('content-length', String(b.length)); if (!hm.has('content-type')) hm.add('content-type', 'text/plain'); }
    this.req.done = true;
    this.localReply = { status, body, bodyBytes: b, headers: hm.toList(), details: 'local_reply_from_earlier_filter', grpcStatus: null };
    this.fromLocal = true;
    this.onHeaders(this.resp, true, hm.toList(), b.length === 0);
    if (b.length) this.onData(this.resp, true, b, true);
    this.fromLocal = false;
    this.localReplyActive = true;
  }

  /** Stream end (HCM deferred destroy): on_log, then on_done, then on_delete. */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    if (this.skip || this.vmFailed || this.p.closed) { this.p.streamDone(this); return; }
    const ex = this.p.ex;
    if (!this.created) { this.ensureCreated(); if (this.vmFailed) { this.p.streamDone(this); return; } }
    this.inLog = true;
    if (ex.onLog) this.p.invoke('proxy_on_log', ex.onLog, this.id, this.id);
    this.inLog = false;
    if (!this.vmFailed && ex.onDone) this.p.invoke('proxy_on_done', ex.onDone, this.id, this.id);
    if (!this.vmFailed && ex.onDelete) this.p.invoke('proxy_on_delete', ex.onDelete, this.id, this.id);
    if (!this.vmFailed) this.p.streamSucceeded();
    this.p.streamDone(this);
    this.p.drainAfter();
  }

  /** Plugin closing: the stream is dropped without callbacks. */
  abandon(): void { this.completed = true; this.closed = true; this.p.streamDone(this); }

  // ---------------------------------------------------------------- phases
  private ensureCreated(): void {
    if (this.created) return;
    this.created = true;
    const f = this.p.ex.ctxCreate;
    if (f) this.p.invoke('proxy_on_context_create', f, this.id, this.id, this.p.rootContextId);
  }

  private ignored(d: Dir, resp: boolean): boolean {
    if (this.closed || d.done) return true;
    if (resp && this.localReplyActive && !this.fromLocal) return true; // upstream response after a local reply
    return false;
  }

  private onHeaders(d: Dir, resp: boolean, h: HeaderList, eos: boolean): FilterStatus {
    if (this.ignored(d, resp)) return 'Continue';
    if (d.seen) throw new Error(`${resp ? 'response' : 'request'} headers were already sent on stream ${this.id}`);
    d.list = h; d.map = null; d.seen = true; d.endStream = eos;
    const p = this.p;
    if (this.skip) { this.release(d, resp); return 'Continue'; }
    if (this.vmFailed) {
      if (!resp && !this.created) {
        // a new stream on a failed VM (Envoy FilterConfig::createFilter)
        this.skip = true;
        if (p.failOpen) { this.release(d, resp); return 'Continue'; }
        this.failStream();
        return 'StopAllIterationAndWatermark';
      }
      if (p.failOpen || resp) { this.release(d, resp); return 'Continue'; }
      return 'StopAllIterationAndWatermark';
    }
    if (!resp) this.ensureCreated();
    else if (!this.created) { this.release(d, resp); return 'Continue'; }
    if (this.vmFailed) return this.onTrap(d, resp, 0);
    const fn = resp ? p.ex.respHeaders : p.ex.reqHeaders;
    d.headersAvail = true;
    let st: FilterStatus = 'Continue';
    if (fn) {
      p.stopNext = false;
      const r = p.invoke(resp ? 'proxy_on_response_headers' : 'proxy_on_request_headers', fn, this.id, this.id, d.count(), eos ? 1 : 0);
      if (this.vmFailed) return this.onTrap(d, resp, 0);
      st = headersStatus(r, p.stopNext, p.allowStopIteration);
      p.stopNext = false;
    }
    this.applyHeaders(d, resp, st);
    p.drainAfter();
    return st;
  }

  private applyHeaders(d: Dir, resp: boolean, st: FilterStatus): void {
    d.stopStatus = st;
    switch (st) {
      case 'Continue': d.headersAvail = false; this.release(d, resp); break;
      case 'ContinueAndEndStream': d.headersAvail = false; d.ended = true; d.endStream = true; this.release(d, resp); break;
      case 'StopIteration': d.stopped = true; break;
      case 'StopAllIterationAndBuffer': d.stopped = true; d.stoppedAll = 3; break;
      default: d.stopped = true; d.stoppedAll = 4; break;
    }
  }

  private onData(d: Dir, resp: boolean, chunk: Uint8Array, eos: boolean): FilterStatus {
    if (this.ignored(d, resp)) return 'Continue';
    if (!d.seen) throw new Error(`${resp ? 'response' : 'request'} body before headers on stream ${this.id}`);
    if (d.ended) return 'Continue';
    if (eos) d.endStream = true;
    const p = this.p;
    if (this.skip || !this.created || (this.vmFailed && (p.failOpen || resp))) { this.passData(d, chunk); return 'Continue'; }
    if (this.vmFailed) return 'StopIterationNoBuffer';
    if (d.stoppedAll) {
      d.fm.append(chunk);
      if (d.stoppedAll === 3) this.checkLimit(d, resp);
      return d.stopStatus;
    }
    return this.callData(d, resp, chunk, eos);
  }

  private passData(d: Dir, chunk: Uint8Array): void {
    if (d.stopped || !d.headersReleased) d.fm.append(chunk);
    else if (chunk.length) d.released.push(chunk);
  }

  private callData(d: Dir, resp: boolean, chunk: Uint8Array, eos: boolean): FilterStatus {
    const p = this.p;
    const fn = resp ? p.ex.respBody : p.ex.reqBody;
    let visible: Body, merged: boolean;
    if (d.buffering) { d.fm.append(chunk); visible = d.fm; merged = true; } else { visible = new Body(chunk); merged = false; }
    d.bodyAvail = visible; d.eos = eos;
    let st: FilterStatus = 'Continue';
    if (fn) {
      p.stopNext = false;
      const r = p.invoke(resp ? 'proxy_on_response_body' : 'proxy_on_request_body', fn, this.id, this.id, visible.length, eos ? 1 : 0);
      if (this.vmFailed) { if (!merged) d.fm.append(visible.bytes); return this.onTrap(d, resp, 1); }
      st = bodyStatus(r, p.stopNext);
      p.stopNext = false;
    }
    d.buffering = false;
    switch (st) {
      case 'Continue':
        d.bodyAvail = null;
        if (!merged) d.fm.append(visible.bytes);
        this.resume(d, resp);
        break;
      case 'StopIterationAndBuffer':
        if (!merged) d.fm.append(visible.bytes);
        d.buffering = true; d.stopped = true; d.bodyAvail = d.fm;
        this.checkLimit(d, resp);
        break;
      case 'StopIterationAndWatermark':
        if (!merged) d.fm.append(visible.bytes);
        d.stopped = true;
        break;
      default:
        d.stopped = true; // NoBuffer: the chunk is not kept for later filters
        break;
    }
    d.stopStatus = st;
    p.drainAfter();
    return st;
  }

  private checkLimit(d: Dir, resp: boolean): void {
    if (d.fm.length <= this.p.bufferLimit) return;
    const p = this.p;
    if (!resp) p.after.push(() => this.sendLocalReply(413, 'request_payload_too_large', Buffer.from('Payload Too Large'), [], null));
    else if (!this.resp.headersReleased) p.after.push(() => this.sendLocalReply(500, 'response_payload_too_large', Buffer.from('Internal Server Error'), [], null));
    else p.after.push(() => { this.closed = true; this.details ||= 'response_payload_too_large'; });
    p.drainAfter();
  }

  private onTrailers(d: Dir, resp: boolean, t: HeaderList): FilterStatus {
    if (this.ignored(d, resp)) return 'Continue';
    if (!d.seen) throw new Error(`${resp ? 'response' : 'request'} trailers before headers on stream ${this.id}`);
    if (d.ended) return 'Continue';
    d.endStream = true;
    const kind = resp ? 'response-trailers' : 'request-trailers';
    const m = new HeaderMap(kind, t);
    const p = this.p;
    if (this.skip || !this.created || (this.vmFailed && (p.failOpen || resp))) {
      if (d.stopped || !d.headersReleased) d.pendingTrailers = m; else d.relTrailers = m;
      return 'Continue';
    }
    if (this.vmFailed) return 'StopIteration';
    if (d.stoppedAll) { d.pendingTrailers = m; return d.stopStatus; }
    return this.callTrailers(d, resp, m);
  }

  private callTrailers(d: Dir, resp: boolean, m: HeaderMap): FilterStatus {
    const p = this.p;
    const fn = resp ? p.ex.respTrailers : p.ex.reqTrailers;
    d.trailers = m; d.trailersAvail = true;
    let st: FilterStatus = 'Continue';
    if (fn) {
      p.stopNext = false;
      const r = p.invoke(resp ? 'proxy_on_response_trailers' : 'proxy_on_request_trailers', fn, this.id, this.id, m.size);
      if (this.vmFailed) return this.onTrap(d, resp, 2);
      st = p.stopNext || r !== 0 ? 'StopIteration' : 'Continue';
      p.stopNext = false;
    }
    d.stopStatus = st;
    if (st === 'Continue') { d.trailersAvail = false; this.resume(d, resp); } else d.stopped = true;
    p.drainAfter();
    return st;
  }

  /** FilterManager commonContinue for a filter that stopped with StopIteration (not StopAll). */
  private resume(d: Dir, resp: boolean): void {
    d.stopped = false; d.stoppedAll = 0;
    if (!d.headersReleased) this.release(d, resp);
    else this.flush(d);
  }

  private release(d: Dir, _resp: boolean): void {
    d.headersReleased = true;
    d.headersAvail = false;
    // the released map is the stream's map (no more edits are allowed); materialized on demand
    if (d.fm.length || d.trailers || d.pendingTrailers) this.flush(d);
  }
  private flush(d: Dir): void {
    if (d.fm.length) d.released.push(d.fm.take());
    if (d.trailers && !d.relTrailers && !d.trailersAvail && d.trailers.size) d.relTrailers = d.trailers;
    if (d.pendingTrailers && !d.stopped) { d.relTrailers = d.pendingTrailers; d.pendingTrailers = null; }
  }

  // ---------------------------------------------------------------- hostcall side
  mapFor(type: number, write: boolean): HeaderMap | number {
    const d = type < 2 ? this.req : this.resp;
    if (this.inLog) {
      let m: HeaderMap | null = null;
      if (type === 0 || type === 2) m = d.seen ? d.hmap() : null;
      else if (type === 3) m = d.trailers ?? d.relTrailers;
      if (!m) return S_NOT_FOUND;
      return write ? S_BAD_ARGUMENT : m;
    }
    if (type === 0 || type === 2) return d.headersAvail ? d.hmap() : S_BAD_ARGUMENT;
    if (d.trailersAvail && d.trailers) return d.trailers;
    if (d.bodyAvail && d.eos && !d.trailers && !d.pendingTrailers) {
      // Envoy addDecodedTrailers()/addEncodedTrailers(): only from the end_stream body callback
      d.trailers = new HeaderMap(type === 1 ? 'request-trailers' : 'response-trailers');
      return d.trailers;
    }
    if (d.bodyAvail && d.eos && d.trailers) return d.trailers;
    return S_BAD_ARGUMENT;
  }

  bodyFor(type: number): Uint8Array {
    const d = type === 0 ? this.req : this.resp;
    return d.bodyAvail ? d.bodyAvail.bytes : EMPTY;
  }

  /** Envoy Buffer::copyFrom semantics for set_buffer_bytes. */
  setBody(type: number, start: number, len: number, data: Uint8Array): number {
    const d = type === 0 ? this.req : this.resp;
    const b = d.bodyAvail;
    if (!b) return S_NOT_FOUND;
    const size = b.length;
    if (start === 0) {
      const rest = b.bytes.subarray(Math.min(len, size));
      const out = new Uint8Array(data.length + rest.length);
      out.set(data, 0); out.set(rest, data.length);
      b.bytes = out;
      return S_OK;
    }
    if (start >= size) {
      const out = new Uint8Array(size + data.length);
      out.set(b.bytes, 0); out.set(data, size);
      b.bytes = out;
      return S_OK;
    }
    return S_BAD_ARGUMENT;
  }

  continueStream(type: number): void {
    // Envoy nulls the request pointers immediately, for HTTP_RESPONSE too (context.cc falls through)
    this.req.headersAvail = false; this.req.bodyAvail = null; this.req.trailersAvail = false;
    const d = type === 0 ? this.req : this.resp;
    this.p.after.push(() => this.continueDir(d, type === 1));
  }

  closeStream(_type: number): void {
    this.p.after.push(() => { this.closed = true; this.details ||= 'wasm_close_stream'; });
  }

  private continueDir(d: Dir, resp: boolean): void {
    if (this.closed || d.done || !d.stopped) return;
    if (this.vmFailed && !this.p.failOpen) return;
    const wasAll = d.stoppedAll;
    d.stoppedAll = 0;
    if (!wasAll) { this.resume(d, resp); return; }
    d.stopped = false;
    if (!d.headersReleased) { d.headersReleased = true; d.headersAvail = false; }
    if (d.fm.length) {
      const chunk = d.fm.take();
      if (this.vmFailed) { d.released.push(chunk); }
      else {
        this.callData(d, resp, chunk, d.endStream && !d.pendingTrailers);
        if (d.stopped || this.closed || d.done) return;
      }
    }
    if (d.pendingTrailers) {
      const t = d.pendingTrailers; d.pendingTrailers = null;
      if (this.vmFailed) d.relTrailers = t; else this.callTrailers(d, resp, t);
    }
  }

  sendLocalReply(status: number, details: string, body: Uint8Array, headers: HeaderList, grpcStatus: number | null): void {
    if (this.closed) return;
    const asked = body;
    let hm: HeaderMap;
    if (this.isGrpcRequest()) {
      // Envoy Utility::sendLocalReply for gRPC requests: a trailers-only response (HTTP 200, grpc-status from the
      // argument or mapped from the HTTP code, grpc-message = the percent-encoded body), no body
      hm = new HeaderMap('response-headers', [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(grpcStatus ?? httpToGrpcStatus(status))]]);
      if (body.length) hm.add('grpc-message', grpcPercentEncode(body));
      for (const [k, v] of headers) hm.add(k, v);
      body = EMPTY;
    } else {
      hm = new HeaderMap('response-headers', [[':status', String(status)]]);
      for (const [k, v] of headers) hm.add(k, v);
      if (body.length) { hm.replace('content-length', String(body.length)); if (!hm.has('content-type')) hm.add('content-type', 'text/plain'); }
    }
    this.localReply = { status, body: bytesToText(asked), bodyBytes: asked, headers: hm.toList(), details, grpcStatus };
    this.details = details;
    this.req.done = true; this.req.headersAvail = false; this.req.bodyAvail = null; this.req.trailersAvail = false;
    const r = this.resp;
    if (r.headersReleased) { this.closed = true; return; } // headers already sent downstream: reset
    if (r.seen) {
      // the response already started encoding: Envoy sends the reply directly, bypassing the filters
      r.map = hm; r.list = null; r.headersReleased = true; r.relHeaders = hm; r.fm.take();
      r.released = body.length ? [body] : []; r.relTrailers = null; r.endStream = true; r.done = true;
      r.headersAvail = false; r.bodyAvail = null; r.trailersAvail = false; r.stopped = false;
      return;
    }
    this.localReplyActive = true;
    this.fromLocal = true;
    try {
      this.onHeaders(r, true, hm.toList(), body.length === 0);
      if (body.length && !this.closed) this.onData(r, true, body, true);
    } finally { this.fromLocal = false; }
  }

  /** Envoy Grpc::Common::isGrpcRequestHeaders: content-type application/grpc (or application/grpc+...). */
  private isGrpcRequest(): boolean {
    if (!this.req.seen) return false;
    const ct = this.req.map ? this.req.map.get('content-type') : this.req.list?.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    if (ct === undefined) return false;
    const v = valueToString(ct);
    return v === 'application/grpc' || v.startsWith('application/grpc+') || v.startsWith('application/grpc;');
  }

  private failStream(): void {
    if (this.failReplySent) return;
    this.failReplySent = true;
    this.sendLocalReply(503, 'wasm_fail_stream', EMPTY, [], 14);
  }

  /** The VM trapped inside one of this stream's callbacks. kind: 0 headers, 1 body, 2 trailers. */
  private onTrap(d: Dir, resp: boolean, kind: number): FilterStatus {
    const p = this.p;
    if (p.failOpen) {
      d.headersAvail = false; d.bodyAvail = null; d.trailersAvail = false; d.buffering = false;
      this.resume(d, resp);
      return 'Continue';
    }
    this.failStream();
    return kind === 0 ? 'StopAllIterationAndWatermark' : kind === 1 ? 'StopIterationNoBuffer' : 'StopIteration';
  }

  /** The VM failed in a root-context callback (http call response, tick, queue) while this stream waited. */
  vmFailedElsewhere(): void {
    if (this.completed || this.closed) return;
    for (const [d, resp] of [[this.req, false], [this.resp, true]] as Array<[Dir, boolean]>) {
      if (!d.stopped || d.done) continue;
      if (this.p.failOpen) this.continueDir(d, resp);
      else { this.failStream(); return; }
    }
  }

  // ---------------------------------------------------------------- properties
  property(segs: string[], pluginProps: Record<string, PropertyValue> | undefined): PropertyValue | undefined {
    return lookupContextProperty(segs, this.filterState, this.opts.properties, pluginProps, (first) => this.derived(first));
  }

  private derived(first: string): Record<string, PropertyValue> | undefined {
    if (first === 'request' && this.req.seen) {
      const m = this.req.hmap();
      const s = (n: string) => { const x = m.get(n); return x === undefined ? undefined : valueToString(x); };
      const path = s(':path') ?? '';
      const q = path.indexOf('?');
      const out: Record<string, PropertyValue> = {
        'request.path': path, 'request.url_path': q < 0 ? path : path.slice(0, q), 'request.query': q < 0 ? '' : path.slice(q + 1),
        'request.headers': headerObject(m), 'request.protocol': 'HTTP/1.1', 'request.time': new Date(this.startMs),
        'request.size': BigInt(this.req.released.reduce((a, b) => a + b.length, 0) + this.req.fm.length),
      };
      const add = (k: string, v: string | undefined) => { if (v !== undefined) out[k] = v; };
      add('request.host', s(':authority')); add('request.scheme', s(':scheme')); add('request.method', s(':method'));
      add('request.referer', s('referer')); add('request.useragent', s('user-agent')); add('request.id', s('x-request-id'));
      return out;
    }
    if (first === 'response' && (this.resp.seen || this.localReply)) {
      const m = this.resp.seen ? this.resp.hmap() : new HeaderMap('response-headers', this.localReply!.headers);
      const out: Record<string, PropertyValue> = { 'response.headers': headerObject(m), 'response.code_details': this.details || 'via_upstream' };
      const st = m.get(':status');
      if (st !== undefined) out['response.code'] = BigInt(parseInt(valueToString(st), 10) || 0);
      const t = this.resp.trailers ?? this.resp.relTrailers;
      if (t) out['response.trailers'] = headerObject(t);
      out['response.size'] = BigInt(this.resp.released.reduce((a, b) => a + b.length, 0));
      return out;
    }
    if (first === 'connection') return { 'connection.id': BigInt(this.id), 'connection.mtls': false };
    if (first === 'source') return { 'source.address': '127.0.0.1:45678', 'source.port': 45678n };
    if (first === 'destination') return { 'destination.address': '127.0.0.1:10000', 'destination.port': 10000n };
    return undefined;
  }
}

/** Envoy Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(http: number): number {
  switch (http) {
    case 400: return 13; // Internal
    case 401: return 16; // Unauthenticated
    case 403: return 7;  // PermissionDenied
    case 404: return 12; // Unimplemented
    case 429: case 502: case 503: case 504: return 14; // Unavailable
    default: return 2;   // Unknown
  }
}

/** grpc-message encoding (gRPC spec / Envoy PercentEncoding): bytes outside ' '..'~' and '%' become %XX. */
export function grpcPercentEncode(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += c < 0x20 || c > 0x7e || c === 0x25 ? '%' + c.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(c);
  return out;
}

function headerObject(m: HeaderMap): Record<string, PropertyValue> {
  const o: Record<string, PropertyValue> = {};
  for (let i = 0; i < m.names.length; i++) {
    const k = m.names[i], v = valueToString(m.values[i]);
    o[k] = k in o ? `${o[k] as string},${v}` : v;
  }
  return o;
}
