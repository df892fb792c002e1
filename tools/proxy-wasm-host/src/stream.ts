// One HTTP stream through this filter, with Envoy's FilterManager + wasm Context semantics.
import { S, MapType, BufferType, StreamType, type FilterStatus } from './abi';
import type { ContextOwner } from './owner';
import type { Vm } from './vm';
import { HeaderMap, valueToString, bytesToText, type HeaderList } from './headers';
import { lookupContextProperty, type PropertyValue } from './properties';

import { Body, Dir, EMPTY, headersStatus, bodyStatus, toBytes, type StreamOptions, type LocalReply } from './stream-state';
import { streamAttributes } from './stream-attributes';
import { httpToGrpcStatus, grpcPercentEncode } from './grpc-status';

export type { StreamOptions, LocalReply };

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
  readonly startMs = Date.now();

  /** The VM generation this stream was created on (FAIL_RELOAD replaces a failed VM for new streams only). */
  readonly gen: number;
  private readonly vm: Vm;
  constructor(private p: ContextOwner, readonly id: number, private opts: StreamOptions) { this.gen = p.generation; this.vm = p.vm; }
  /** The VM of this stream failed (or was replaced by a reload): no more callbacks. */
  private get vmFailed(): boolean { return this.vm.failed || this.gen !== this.p.generation; }

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
    if (this.skip || this.vmFailed || this.p.closed) { this.p.contextDone(this.id, this); return; }
    const ex = this.vm.ex;
    if (!this.created) { this.ensureCreated(); if (this.vmFailed) { this.p.contextDone(this.id, this); return; } }
    this.inLog = true;
    if (ex.onLog) this.vm.invoke('proxy_on_log', ex.onLog, this.id, this.id);
    this.inLog = false;
    if (!this.vmFailed && ex.onDone) this.vm.invoke('proxy_on_done', ex.onDone, this.id, this.id);
    if (!this.vmFailed && ex.onDelete) this.vm.invoke('proxy_on_delete', ex.onDelete, this.id, this.id);
    if (!this.vmFailed) this.p.streamSucceeded();
    this.p.contextDone(this.id, this);
    this.vm.drainAfter();
  }

  /** Plugin closing: the stream is dropped without callbacks. */
  abandon(): void { this.completed = true; this.closed = true; this.p.contextDone(this.id, this); }

  // ---------------------------------------------------------------- phases
  private ensureCreated(): void {
    if (this.created) return;
    this.created = true;
    const f = this.vm.ex.ctxCreate;
    if (f) this.vm.invoke('proxy_on_context_create', f, this.id, this.id, this.p.rootContextId);
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
    const fn = resp ? this.vm.ex.respHeaders : this.vm.ex.reqHeaders;
    d.headersAvail = true;
    let st: FilterStatus = 'Continue';
    if (fn) {
      this.vm.stopNext = false;
      const r = this.vm.invoke(resp ? 'proxy_on_response_headers' : 'proxy_on_request_headers', fn, this.id, this.id, d.count(), eos ? 1 : 0);
      if (this.vmFailed) return this.onTrap(d, resp, 0);
      st = headersStatus(r, this.vm.stopNext, p.allowStopIteration);
      this.vm.stopNext = false;
    }
    this.applyHeaders(d, resp, st);
    this.vm.drainAfter();
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
    const fn = resp ? this.vm.ex.respBody : this.vm.ex.reqBody;
    let visible: Body, merged: boolean;
    if (d.buffering) { d.fm.append(chunk); visible = d.fm; merged = true; } else { visible = new Body(chunk); merged = false; }
    d.bodyAvail = visible; d.eos = eos;
    let st: FilterStatus = 'Continue';
    if (fn) {
      this.vm.stopNext = false;
      const r = this.vm.invoke(resp ? 'proxy_on_response_body' : 'proxy_on_request_body', fn, this.id, this.id, visible.length, eos ? 1 : 0);
      if (this.vmFailed) { if (!merged) d.fm.append(visible.bytes); return this.onTrap(d, resp, 1); }
      st = bodyStatus(r, this.vm.stopNext);
      this.vm.stopNext = false;
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
    this.vm.drainAfter();
    return st;
  }

  private checkLimit(d: Dir, resp: boolean): void {
    if (d.fm.length <= this.p.bufferLimit) return;
    if (!resp) this.vm.after.push(() => this.sendLocalReply(413, 'request_payload_too_large', Buffer.from('Payload Too Large'), [], null));
    else if (!this.resp.headersReleased) this.vm.after.push(() => this.sendLocalReply(500, 'response_payload_too_large', Buffer.from('Internal Server Error'), [], null));
    else this.vm.after.push(() => { this.closed = true; this.details ||= 'response_payload_too_large'; });
    this.vm.drainAfter();
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
    const fn = resp ? this.vm.ex.respTrailers : this.vm.ex.reqTrailers;
    d.trailers = m; d.trailersAvail = true;
    let st: FilterStatus = 'Continue';
    if (fn) {
      this.vm.stopNext = false;
      const r = this.vm.invoke(resp ? 'proxy_on_response_trailers' : 'proxy_on_request_trailers', fn, this.id, this.id, m.size);
      if (this.vmFailed) return this.onTrap(d, resp, 2);
      st = this.vm.stopNext || r !== 0 ? 'StopIteration' : 'Continue';
      this.vm.stopNext = false;
    }
    d.stopStatus = st;
    if (st === 'Continue') { d.trailersAvail = false; this.resume(d, resp); } else d.stopped = true;
    this.vm.drainAfter();
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
  mapFor(type: MapType, write: boolean): HeaderMap | number {
    const d = type === MapType.RequestHeaders || type === MapType.RequestTrailers ? this.req : this.resp;
    const headers = type === MapType.RequestHeaders || type === MapType.ResponseHeaders;
    if (this.inLog) {
      let m: HeaderMap | null = null;
      if (headers) m = d.seen ? d.hmap() : null;
      else if (type === MapType.ResponseTrailers) m = d.trailers ?? d.relTrailers;
      if (!m) return S.NotFound;
      return write ? S.BadArgument : m;
    }
    if (headers) return d.headersAvail ? d.hmap() : S.BadArgument;
    if (d.trailersAvail && d.trailers) return d.trailers;
    if (d.bodyAvail && d.eos && !d.trailers && !d.pendingTrailers) {
      // Envoy addDecodedTrailers()/addEncodedTrailers(): only from the end_stream body callback
      d.trailers = new HeaderMap(type === MapType.RequestTrailers ? 'request-trailers' : 'response-trailers');
      return d.trailers;
    }
    if (d.bodyAvail && d.eos && d.trailers) return d.trailers;
    return S.BadArgument;
  }

  bodyFor(type: BufferType.HttpRequestBody | BufferType.HttpResponseBody): Uint8Array {
    const d = type === BufferType.HttpRequestBody ? this.req : this.resp;
    return d.bodyAvail ? d.bodyAvail.bytes : EMPTY;
  }

  /** Envoy Buffer::copyFrom semantics for set_buffer_bytes. */
  setBody(type: BufferType.HttpRequestBody | BufferType.HttpResponseBody, start: number, len: number, data: Uint8Array): number {
    const d = type === BufferType.HttpRequestBody ? this.req : this.resp;
    const b = d.bodyAvail;
    if (!b) return S.NotFound;
    const size = b.length;
    if (start === 0) {
      const rest = b.bytes.subarray(Math.min(len, size));
      const out = new Uint8Array(data.length + rest.length);
      out.set(data, 0); out.set(rest, data.length);
      b.bytes = out;
      return S.Ok;
    }
    if (start >= size) {
      const out = new Uint8Array(size + data.length);
      out.set(b.bytes, 0); out.set(data, size);
      b.bytes = out;
      return S.Ok;
    }
    return S.BadArgument;
  }

  continueStream(type: StreamType.Request | StreamType.Response): void {
    // Envoy nulls the request pointers immediately, for HTTP_RESPONSE too (context.cc falls through)
    this.req.headersAvail = false; this.req.bodyAvail = null; this.req.trailersAvail = false;
    const d = type === StreamType.Request ? this.req : this.resp;
    this.vm.after.push(() => this.continueDir(d, type === StreamType.Response));
  }

  closeStream(_type: StreamType): void {
    this.vm.after.push(() => { this.closed = true; this.details ||= 'wasm_close_stream'; });
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
    return lookupContextProperty(segs, this.filterState, this.opts.properties, pluginProps, (first) => streamAttributes(this, first));
  }
}
