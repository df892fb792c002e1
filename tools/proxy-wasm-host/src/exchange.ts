// plugin.exchange(): one full request/response through the filter, like the CLI `run` command.
import type { PendingHttpCall, HttpCallAnswer, LogEntry } from './options';
import type { HttpStream } from './stream';
import { toBytes, bytesToText, valueToString, type HeaderList, type HeaderValue } from './headers';
import type { PropertyValue } from './properties';
import type { MetricValue } from './metrics';

export interface UpstreamResponse { status?: number; headers?: HeaderList; body?: string | Uint8Array; trailers?: HeaderList; chunkSize?: number }
export interface CallAnswer { status: number; body?: string | Uint8Array; headers?: HeaderList; trailers?: HeaderList }
export type CallResponse = CallAnswer | 'reset' | 'timeout';

export interface ExchangeRequest {
  method?: string; path?: string; authority?: string; scheme?: string;
  headers?: HeaderList; body?: string | Uint8Array; trailers?: HeaderList; chunkSize?: number;
  response?: UpstreamResponse | ((upstream: { headers: HeaderList; body: Uint8Array; trailers: HeaderList }) => UpstreamResponse | Promise<UpstreamResponse>);
  /** How each http call is answered (default: 200 with an empty body). */
  callResponse?: CallResponse | ((call: PendingHttpCall) => CallResponse | Promise<CallResponse>);
  properties?: Record<string, PropertyValue>;
}

export interface ExchangeResult {
  configured: boolean;
  request: { headers: Array<[string, string]>; body: string; trailers?: Array<[string, string]> } | null;
  response: { status: number; headers: Array<[string, string]>; body: string; trailers?: Array<[string, string]> };
  localReply: { status: number; body: string; details: string; headers: Array<[string, string]> } | null;
  httpCalls: Array<{ cluster: string; headers: Array<[string, string]>; body: string; timeoutMs: number }>;
  metrics: Record<string, MetricValue>;
  logs: Array<{ level: string; message: string }>;
  failed: boolean;
  /** Extra: response code details (e.g. wasm_fail_stream, wasm_close_stream), stream reset by the filter. */
  details: string;
  reset: boolean;
}

/** What an exchange drives (the plugin's test API). */
export interface ExchangeTarget {
  readonly configured: boolean;
  readonly failed: boolean;
  readonly logs: LogEntry[];
  newStream(opts: { properties?: Record<string, PropertyValue> }): HttpStream;
  pendingHttpCalls(): PendingHttpCall[];
  httpCallLog(): PendingHttpCall[];
  respondHttpCall(token: number, answer: HttpCallAnswer): void;
  failHttpCall(token: number, reason: 'reset' | 'timeout'): void;
  metrics(): Record<string, MetricValue>;
}

const strList = (l: HeaderList): Array<[string, string]> => l.map(([k, v]) => [k, valueToString(v)]);
const hasHeader = (l: HeaderList, n: string) => l.some(([k]) => k.toLowerCase() === n);

function chunks(b: Uint8Array, size: number | undefined): Uint8Array[] {
  if (!size || size <= 0 || b.length <= size) return [b];
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

async function answerCalls(p: ExchangeTarget, req: ExchangeRequest): Promise<void> {
  for (let guard = 0; guard < 1000; guard++) {
    const pending = p.pendingHttpCalls();
    if (!pending.length) return;
    for (const call of pending) {
      const cr = typeof req.callResponse === 'function' ? await req.callResponse(call) : req.callResponse ?? { status: 200 };
      if (cr === 'reset' || cr === 'timeout') { p.failHttpCall(call.token, cr); continue; }
      const body = toBytes(cr.body ?? '');
      const headers: HeaderList = [[':status', String(cr.status)], ...(cr.headers ?? [])];
      if (body.length && !hasHeader(headers, 'content-length')) headers.push(['content-length', String(body.length)]);
      p.respondHttpCall(call.token, { headers, body, trailers: cr.trailers });
    }
  }
}

async function send(s: HttpStream, p: ExchangeTarget, req: ExchangeRequest, resp: boolean, headers: HeaderList, body: Uint8Array, trailers: HeaderList | undefined, chunkSize?: number) {
  const hasTrailers = !!trailers?.length;
  if (resp) s.sendResponseHeaders(headers, body.length === 0 && !hasTrailers); else s.sendRequestHeaders(headers, body.length === 0 && !hasTrailers);
  await answerCalls(p, req);
  if (body.length) {
    const cs = chunks(body, chunkSize);
    for (let i = 0; i < cs.length; i++) {
      const eos = i === cs.length - 1 && !hasTrailers;
      if (resp) s.sendResponseBody(cs[i], eos); else s.sendRequestBody(cs[i], eos);
      await answerCalls(p, req);
    }
  }
  if (hasTrailers) { if (resp) s.sendResponseTrailers(trailers!); else s.sendRequestTrailers(trailers!); await answerCalls(p, req); }
}

export async function runExchange(p: ExchangeTarget, req: ExchangeRequest): Promise<ExchangeResult> {
  const logStart = p.logs.length;
  const callStart = p.httpCallLog().length;
  const finish = (s: HttpStream | null): ExchangeResult => {
    const up = s?.upstreamRequest ?? null;
    const cr = s?.clientResponse ?? null;
    const lr = s?.localReply ?? null;
    const status = cr ? parseInt(valueToString(cr.headers.get(':status') ?? '0'), 10) || 0 : 0;
    return {
      configured: p.configured,
      request: up ? { headers: up.headers.toStringList(), body: bytesToText(up.body), ...(up.trailers ? { trailers: up.trailers.toStringList() } : {}) } : null,
      response: cr ? { status, headers: cr.headers.toStringList(), body: bytesToText(cr.body), ...(cr.trailers ? { trailers: cr.trailers.toStringList() } : {}) } : { status: 0, headers: [], body: '' },
      localReply: lr ? { status: lr.status, body: lr.body, details: lr.details, headers: strList(lr.headers) } : null,
      httpCalls: p.httpCallLog().slice(callStart).map((c) => ({ cluster: c.cluster, headers: c.headers, body: bytesToText(c.body), timeoutMs: c.timeoutMs })),
      metrics: p.metrics(),
      logs: p.logs.slice(logStart).map((l) => ({ level: l.level, message: l.message })),
      failed: p.failed,
      details: s?.details ?? '',
      reset: s?.closed ?? false,
    };
  };
  if (!p.configured) return finish(null);
  const s = p.newStream({ properties: req.properties });
  const headers: HeaderList = [
    [':authority', req.authority ?? 'localhost'], [':path', req.path ?? '/'], [':method', req.method ?? 'GET'], [':scheme', req.scheme ?? 'http'],
    ...(req.headers ?? []),
  ];
  const body = toBytes(req.body ?? '');
  if (body.length && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) headers.push(['content-length', String(body.length)]);
  await send(s, p, req, false, headers, body, req.trailers, req.chunkSize);
  const reachedUpstream = s.requestContinued && !s.requestPaused && !s.localReply && !s.closed;
  if (reachedUpstream) {
    const up = s.upstreamRequest!;
    const r: UpstreamResponse = typeof req.response === 'function'
      ? await req.response({ headers: up.headers.toList(), body: up.body, trailers: up.trailers?.toList() ?? [] })
      : req.response ?? {};
    const rb = toBytes(r.body ?? '');
    const rh: HeaderList = [[':status', String(r.status ?? 200)], ...(r.headers ?? [])];
    if (rb.length && !hasHeader(rh, 'content-length') && !hasHeader(rh, 'transfer-encoding')) rh.push(['content-length', String(rb.length)]);
    await send(s, p, req, true, rh, rb, r.trailers, r.chunkSize ?? req.chunkSize);
  }
  if (!s.closed && !s.clientResponse && !s.localReply && !p.failed) {
    // nothing resumed the stream: Envoy's stream_idle_timeout answers 408 through the filter chain
    s.sendLocalReply(408, 'stream_idle_timeout', Buffer.from('stream timeout'), [], null);
    await answerCalls(p, req);
  }
  s.complete();
  return finish(s);
}

export type { HeaderValue };
