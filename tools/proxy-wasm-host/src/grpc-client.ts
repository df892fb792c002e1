// The serve command's gRPC client: dispatches a plugin's gRPC calls and streams to a real cluster endpoint over
// HTTP/2 (node:http2, cleartext) the way Envoy's gRPC async client does: POST /service/method, content-type
// application/grpc, te: trailers, grpc-timeout for a unary call's timeout, 5-byte length-prefixed messages, the
// gRPC status from the trailers (or a trailers-only response). Router failures become what Envoy's router
// answers a gRPC request with: a trailers-only response with grpc-status 14 (Unavailable).
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Plugin } from './plugin';
import type { GrpcCallRecord, GrpcStreamInfo } from './grpc';
import type { HeaderList } from './headers';

export interface GrpcEndpoint { host: string; port: number }

const UNAVAILABLE = 14, INTERNAL = 13, UNKNOWN = 2;
const NO_HEALTHY = 'no healthy upstream';
const CONNECT_FAILURE = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const RESERVED = new Set(['te', 'content-type', 'grpc-timeout', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

/** gRPC length-prefixed message framing (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + message.length);
  b.writeUInt32BE(message.length, 1);
  b.set(message, 5);
  return b;
}

/** Splits length-prefixed messages out of a byte stream. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 5) {
      const n = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + n) break;
      out.push(Buffer.from(this.buf.subarray(5, 5 + n)));
      this.buf = this.buf.subarray(5 + n);
    }
    return out;
  }
  get pending(): number { return this.buf.length; }
}

/** grpc-message is percent-encoded on the wire. */
function decodeGrpcMessage(v: unknown): string {
  const s = Array.isArray(v) ? String(v[0]) : v === undefined ? '' : String(v);
  try { return decodeURIComponent(s); } catch { return s; }
}

/** Envoy Grpc::Common::toGrpcTimeout: milliseconds up to 8 digits, else seconds, minutes, hours (clipped to 99999999H). */
export function grpcTimeoutHeader(ms: number): string {
  const MAX = 99999999;
  let time = Math.floor(ms), u = 0;
  const units = 'mSMH';
  if (time > MAX) { time = Math.floor(time / 1000); u++; }
  while (time > MAX) {
    if (units[u] === 'H') time = MAX;
    else { time = Math.floor(time / 60); u++; }
  }
  return `${time}${units[u]}`;
}

function headerList(h: IncomingHttpHeaders): HeaderList {
  const out: HeaderList = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push([k, x]); else out.push([k, String(v)]);
  }
  // pseudo-headers first, like Envoy's header maps
  return [...out.filter(([k]) => k.startsWith(':')), ...out.filter(([k]) => !k.startsWith(':'))];
}

/** Envoy Grpc::Utility::httpToGrpcStatus. */
function httpToGrpcStatus(code: number): number {
  switch (code) {
    case 400: return INTERNAL;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429: case 502: case 503: case 504: return UNAVAILABLE;
    default: return UNKNOWN;
  }
}

interface Active { plugin: Plugin; token: number; kind: 'call' | 'stream'; req: ClientHttp2Stream | null; done: boolean; wake: () => void; timer?: NodeJS.Timeout }

export class GrpcUpstream {
  private sessions = new Map<string, ClientHttp2Session>();
  private active = new Map<Plugin, Map<number, Active>>();

  /** `pick` chooses a cluster endpoint (null = no healthy upstream); `track` keeps a promise in the plugin's
   *  in-flight set while a paused request may be waiting for this callout. */
  constructor(private pick: (cluster: string) => GrpcEndpoint | null, private track: (plugin: Plugin, p: Promise<void>) => void) {}

  attach(plugin: Plugin): void {
    const mine = new Map<number, Active>();
    this.active.set(plugin, mine);
    plugin.grpc.onOpen = (info) => this.open(plugin, mine, info);
    plugin.grpc.onStreamEvent = (token, ev) => {
      const a = mine.get(token);
      if (!a || !a.req) { if (a && ev.cancel) this.finish(mine, a); return; }
      if (ev.cancel) { a.req.close(constants.NGHTTP2_CANCEL); this.finish(mine, a); return; }
      if (ev.send) { if (!a.req.writableEnded) a.req.write(grpcFrame(ev.send)); }
      if ((ev.endOfStream || ev.close) && !a.req.writableEnded) a.req.end();
    };
  }

  close(): void {
    for (const m of this.active.values()) for (const a of m.values()) { a.req?.close(constants.NGHTTP2_CANCEL); if (a.timer) clearTimeout(a.timer); a.wake(); }
    this.active.clear();
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }

  private session(ep: GrpcEndpoint): ClientHttp2Session {
    const key = `${ep.host}:${ep.port}`;
    let s = this.sessions.get(key);
    if (s && !s.closed && !s.destroyed) return s;
    s = connect(`http://${key}`);
    s.on('error', () => { /* reported per stream */ });
    s.on('close', () => { if (this.sessions.get(key) === s) this.sessions.delete(key); });
    s.unref();
    this.sessions.set(key, s);
    return s;
  }

  private arm(plugin: Plugin, a: Active): void {
    this.track(plugin, new Promise<void>((r) => { a.wake = r; }));
  }

  private finish(mine: Map<number, Active>, a: Active): void {
    a.done = true;
    if (a.timer) clearTimeout(a.timer);
    mine.delete(a.token);
    a.wake();
  }

  /** Whether the plugin still waits for events of this callout (not cancelled, not torn down). */
  private live(a: Active): boolean {
    if (a.done) return false;
    if (a.kind === 'call') return a.plugin.pendingGrpcCalls().some((c) => c.token === a.token);
    const s = a.plugin.grpcStream(a.token);
    return !!s && !s.finished && !s.remoteClosed;
  }

  private open(plugin: Plugin, mine: Map<number, Active>, info: GrpcCallRecord | GrpcStreamInfo): void {
    const a: Active = { plugin, token: info.token, kind: info.kind, req: null, done: false, wake: () => {} };
    mine.set(info.token, a);
    this.arm(plugin, a);
    const ep = info.target.googleTargetUri !== undefined ? null : this.pick(info.cluster);
    // every outcome is delivered later (Envoy posts the callbacks; never inside the hostcall)
    const later = (fn: () => void) => setImmediate(() => { if (this.live(a)) fn(); if (a.kind === 'call' || !this.live(a)) this.finish(mine, a); else { a.wake(); this.arm(plugin, a); } });
    const localReply = (status: number, message: string) => later(() => {
      if (a.kind === 'call') { plugin.failGrpcCall(a.token, status, message); return; }
      plugin.deliverGrpcInitialMetadata(a.token, []);
      plugin.deliverGrpcTrailingMetadata(a.token, [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(status)], ['grpc-message', message]]);
      plugin.remoteCloseGrpcStream(a.token, status, message);
    });
    if (!ep) { localReply(UNAVAILABLE, NO_HEALTHY); return; }

    const headers: OutgoingHttpHeaders = {
      ':method': 'POST', ':path': info.path, ':authority': info.target.authority || info.cluster, ':scheme': 'http',
      'content-type': 'application/grpc', te: 'trailers',
    };
    // Envoy: proxy_grpc_call always passes std::chrono::milliseconds(timeout) to RequestOptions::setTimeout, so the
    // optional is set even for 0 and Grpc::Common::prepareHeaders writes grpc-timeout (a 0 sends "0m"; only the
    // router's own timer treats 0 as none). Streams have no timeout.
    if (info.kind === 'call') headers['grpc-timeout'] = grpcTimeoutHeader(info.timeoutMs);
    for (const [k, v] of info.initialMetadata) {
      if (k.startsWith(':') || RESERVED.has(k)) continue;
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    let req: ClientHttp2Stream;
    try { req = this.session(ep).request(headers, { endStream: false }); } catch { localReply(UNAVAILABLE, CONNECT_FAILURE); return; }
    a.req = req;
    if (info.kind === 'call') req.end(grpcFrame(info.message));

    const reader = new FrameReader();
    const messages: Buffer[] = [];
    let gotHeaders = false, closed = false, trailers: IncomingHttpHeaders | null = null;
    const step = (fn: () => void) => { if (closed || !this.live(a)) return; fn(); if (a.kind === 'stream') { if (!this.live(a)) this.finish(mine, a); else { a.wake(); this.arm(plugin, a); } } };
    const close = (status: number, message: string, trailing: HeaderList | null) => {
      if (closed) return;
      step(() => {
        closed = true;
        if (a.kind === 'call') {
          if (status === 0 && messages.length) plugin.respondGrpcCall(a.token, messages[0]);
          else plugin.failGrpcCall(a.token, status, message);
        } else {
          if (trailing) plugin.deliverGrpcTrailingMetadata(a.token, trailing);
          plugin.remoteCloseGrpcStream(a.token, status, message);
        }
      });
      closed = true;
      this.finish(mine, a);
    };
    if (info.kind === 'call' && info.timeoutMs > 0) {
      a.timer = setTimeout(() => {
        if (closed || !this.live(a)) return;
        closed = true;
        req.close(constants.NGHTTP2_CANCEL);
        plugin.failGrpcCall(a.token, 'timeout');
        this.finish(mine, a);
      }, info.timeoutMs);
      a.timer.unref();
    }
    req.on('response', (h, flags) => {
      gotHeaders = true;
      const status = Number(h[':status']);
      // Envoy Grpc::AsyncStreamImpl::onHeaders: a trailers-only answer (200, or non-200 with grpc-status) = empty
      // initial metadata, the headers as trailing metadata, then the close; a non-200 without grpc-status = empty
      // initial metadata, then streamError(httpToGrpcStatus): empty trailing metadata and the close
      const g = h['grpc-status'];
      if (flags & constants.NGHTTP2_FLAG_END_STREAM && (status === 200 || g !== undefined)) {
        step(() => { if (a.kind === 'stream') plugin.deliverGrpcInitialMetadata(a.token, []); });
        close(g === undefined ? UNKNOWN : Number(g), decodeGrpcMessage(h['grpc-message']), headerList(h));
        return;
      }
      if (status !== 200) {
        step(() => { if (a.kind === 'stream') plugin.deliverGrpcInitialMetadata(a.token, []); });
        close(httpToGrpcStatus(status), '', []);
        req.close(constants.NGHTTP2_CANCEL);
        return;
      }
      step(() => { if (a.kind === 'stream') plugin.deliverGrpcInitialMetadata(a.token, headerList(h)); });
    });
    req.on('data', (chunk: Buffer) => {
      for (const m of reader.push(chunk)) {
        if (a.kind === 'call') messages.push(m);
        else step(() => plugin.deliverGrpcMessage(a.token, m));
      }
    });
    req.on('trailers', (t) => { trailers = t; });
    req.on('end', () => {
      if (trailers) {
        const g = trailers['grpc-status'];
        close(g === undefined ? UNKNOWN : Number(g), decodeGrpcMessage(trailers['grpc-message']), headerList(trailers));
      } else close(UNKNOWN, '', []); // Envoy onData(end_stream) without trailers: streamError(Unknown)
    });
    // A reset after the response headers: Envoy onReset -> streamError(Internal) (empty trailing metadata, then the
    // close). Before them the router answers a 503 local reply, which reaches the gRPC client as a trailers-only
    // 14 with the router's body as grpc-message (empty initial metadata, those headers as trailing metadata).
    const broken = () => {
      if (gotHeaders) { close(INTERNAL, '', []); return; }
      step(() => { if (a.kind === 'stream') plugin.deliverGrpcInitialMetadata(a.token, []); });
      close(UNAVAILABLE, CONNECT_FAILURE, [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', String(UNAVAILABLE)], ['grpc-message', CONNECT_FAILURE]]);
    };
    req.on('error', broken);
    req.on('close', () => { if (!closed && !a.done && this.live(a)) broken(); });
  }
}
