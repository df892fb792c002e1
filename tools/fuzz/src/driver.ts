/**
 * Runs one `ExchangeSpec` through a loaded plugin with the host's stream API: request headers, the
 * body in the spec's chunks, the upstream's response in its chunks, and each http call answered
 * `delay` stream events after it was sent (a timeout or reset through the host's failHttpCall).
 * Like plugin.exchange(), a stream nothing resumed is ended by Envoy's stream idle timeout (408),
 * and that is reported as `hung`.
 */
import type { HeaderList, HttpStream, Plugin } from '@meshwasm/proxy-wasm-host';
import { fromSpecBytes, type CallSpec, type ExchangeSpec } from './gen';

export interface Outcome {
  /** What reached the upstream (null: the request never did). */
  upstream: { headers: Array<[string, string]>; body: Uint8Array } | null;
  /** What the client received (null: nothing, e.g. a reset). */
  client: { status: number; headers: Array<[string, string]>; body: Uint8Array } | null;
  localReply: { status: number; details: string } | null;
  /** Nothing answered or resumed the request: only the idle timeout ended it. */
  hung: boolean;
  failed: boolean;
  calls: number;
}

const latin1 = (v: string | Uint8Array) => (typeof v === 'string' ? v : Buffer.from(v).toString('latin1'));
const list = (m: { toList(): HeaderList }): Array<[string, string]> => m.toList().map(([k, v]) => [k, latin1(v)]);
const specHeaders = (hs: Array<[string, import('./gen').Bytes]>): HeaderList => hs.map(([k, v]) => [k, typeof v === 'string' ? v : fromSpecBytes(v)]);

class Calls {
  private waiting = new Map<number, number>(); // token -> events left
  private seen = new Set<number>();
  count = 0;
  constructor(private p: Plugin, private answers: CallSpec[]) {}

  /** One stream event happened: answer the calls whose delay ran out (all of them when `flush`). */
  async tick(flush = false): Promise<void> {
    for (let guard = 0; guard < 100; guard++) {
      for (const c of this.p.pendingHttpCalls()) {
        if (this.seen.has(c.token)) continue;
        this.seen.add(c.token);
        const a = this.answers[this.count] ?? { kind: 'answer', status: 200, delay: 0 };
        this.count++;
        this.waiting.set(c.token, a.delay);
        this.specs.set(c.token, a);
      }
      const due = [...this.waiting].filter(([, left]) => flush || left <= 0).map(([t]) => t);
      for (const [t, left] of this.waiting) this.waiting.set(t, left - 1);
      if (!due.length) return;
      for (const t of due) {
        this.waiting.delete(t);
        const a = this.specs.get(t)!;
        if (!this.p.pendingHttpCalls().some((c) => c.token === t)) continue; // cancelled with its stream
        if (a.kind !== 'answer') { this.p.failHttpCall(t, a.kind); continue; }
        const b = fromSpecBytes(a.body ?? '');
        const hs: HeaderList = [[':status', String(a.status ?? 200)], ...specHeaders(a.headers ?? [])];
        if (b.length && !hs.some(([k]) => k === 'content-length')) hs.push(['content-length', String(b.length)]);
        this.p.respondHttpCall(t, { headers: hs, body: b });
      }
      if (!flush) return;
    }
  }
  private specs = new Map<number, CallSpec>();
}

function cut(b: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of sizes) { out.push(b.subarray(at, at + n)); at += n; }
  if (at < b.length) out.push(b.subarray(at));
  return out;
}

async function send(s: HttpStream, calls: Calls, resp: boolean, headers: HeaderList, body: Uint8Array, sizes: number[]): Promise<void> {
  if (resp) s.sendResponseHeaders(headers, body.length === 0); else s.sendRequestHeaders(headers, body.length === 0);
  await calls.tick();
  const cs = cut(body, sizes);
  for (let i = 0; i < cs.length; i++) {
    if (s.closed) return;
    if (resp) s.sendResponseBody(cs[i], i === cs.length - 1); else s.sendRequestBody(cs[i], i === cs.length - 1);
    await calls.tick();
  }
}

export async function drive(p: Plugin, spec: ExchangeSpec): Promise<Outcome> {
  const calls = new Calls(p, spec.calls);
  const s = p.newStream();
  const reqBody = fromSpecBytes(spec.body);
  const h: HeaderList = [[':authority', spec.authority], [':path', spec.path], [':method', spec.method], [':scheme', 'http'], ...specHeaders(spec.headers)];
  if (reqBody.length) h.push(['content-length', String(reqBody.length)]);
  await send(s, calls, false, h, reqBody, spec.chunks);
  await calls.tick(true); // the rest of the calls are answered (or time out) after the request ended
  const reached = s.requestContinued && !s.requestPaused && !s.localReply && !s.closed;
  if (reached && !p.failed) {
    const rb = fromSpecBytes(spec.response.body);
    const rh: HeaderList = [[':status', String(spec.response.status)], ...specHeaders(spec.response.headers)];
    if (rb.length && !rh.some(([k]) => k === 'content-length')) rh.push(['content-length', String(rb.length)]);
    await send(s, calls, true, rh, rb, spec.response.chunks);
    await calls.tick(true);
  }
  let hung = false;
  if (!s.closed && !s.clientResponse && !s.localReply && !p.failed) {
    hung = true;
    s.sendLocalReply(408, 'stream_idle_timeout', Buffer.from('stream timeout'), [], null);
    await calls.tick(true);
  }
  const up = s.upstreamRequest;
  const cr = s.clientResponse;
  const out: Outcome = {
    upstream: up && reached ? { headers: list(up.headers), body: up.body } : null,
    client: cr ? { status: parseInt(latin1(cr.headers.get(':status') ?? '0'), 10) || 0, headers: list(cr.headers), body: cr.body } : null,
    localReply: s.localReply ? { status: s.localReply.status, details: s.localReply.details } : null,
    hung,
    failed: p.failed,
    calls: calls.count,
  };
  s.complete();
  return out;
}
