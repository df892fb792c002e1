// The proxy's HTTP/1.1 client to an upstream endpoint (keep-alive), with Envoy's header handling: pseudo-headers
// become the request line and host, hop-by-hop headers are dropped, the whole response is buffered.
import { Agent, request as httpRequest } from 'node:http';
import { valueToString, type HeaderList } from './headers';

export interface Endpoint { host: string; port: number; stats?: HostStats }

/** Envoy's per-host upstream stats (admin /clusters): counters, and the two gauges cx_active / rq_active. */
export interface HostStats {
  cx_active: number; cx_connect_fail: number; cx_total: number;
  rq_active: number; rq_error: number; rq_success: number; rq_timeout: number; rq_total: number;
}
export function newHostStats(): HostStats {
  return { cx_active: 0, cx_connect_fail: 0, cx_total: 0, rq_active: 0, rq_error: 0, rq_success: 0, rq_timeout: 0, rq_total: 0 };
}

/** The host whose cx_total counted each connection (keep-alive sockets serve many requests). */
const counted = new WeakMap<object, HostStats>();

const keepAlive = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });

/** Send a request to an endpoint; resolves with the full response. Counts the request in `ep.stats`. */
export function forward(ep: Endpoint, headers: HeaderList, body: Uint8Array, timeoutMs = 0): Promise<{ status: number; headers: HeaderList; body: Buffer }> {
  const st = ep.stats;
  if (st) { st.rq_total++; st.rq_active++; }
  let settled = false;
  /** Envoy: rq_success is a non-5xx answer, rq_error a 5xx or no answer. */
  const count = (ok: boolean, why?: 'timeout' | 'connect') => {
    if (!st || settled) return;
    settled = true;
    st.rq_active--;
    if (ok) st.rq_success++; else st.rq_error++;
    if (why === 'timeout') st.rq_timeout++;
    else if (why === 'connect') st.cx_connect_fail++;
  };
  return new Promise((resolveP, reject) => {
    let method = 'GET', path = '/', authority = '', cl = false;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i++) {
      const k = headers[i][0], s = valueToString(headers[i][1]);
      if (k.charCodeAt(0) === 58 /* ':' */) { if (k === ':method') method = s; else if (k === ':path') path = s; else if (k === ':authority') authority = s; }
      else if (k !== 'transfer-encoding' && k !== 'connection') { if (k === 'content-length') cl = true; out.push(k, s); }
    }
    if (authority) out.push('host', authority);
    if (body.length && !cl) out.push('content-length', String(body.length));
    let connected = false;
    const req = httpRequest({ host: ep.host, port: ep.port, method, path, headers: out as unknown as Record<string, string>, agent: keepAlive }, (res) => {
      const cs: Buffer[] = [];
      res.on('data', (c: Buffer) => cs.push(c));
      res.on('end', () => {
        const h: HeaderList = [];
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) { const k = raw[i].toLowerCase(); if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') h.push([k, raw[i + 1]]); }
        count((res.statusCode ?? 502) < 500);
        resolveP({ status: res.statusCode ?? 502, headers: h, body: cs.length === 1 ? cs[0] : Buffer.concat(cs) });
      });
      res.on('error', (e) => { count(false); reject(e); });
    });
    if (st) {
      req.on('socket', (sock) => {
        if (counted.get(sock) === st) { connected = true; return; } // a kept-alive connection of this host
        const open = () => { connected = true; counted.set(sock, st); st.cx_total++; st.cx_active++; sock.once('close', () => { st.cx_active--; }); };
        if (sock.connecting) sock.once('connect', open); else open();
      });
    }
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { count(false, e.message === 'timeout' ? 'timeout' : connected ? undefined : 'connect'); reject(e); });
    req.end(body.length ? (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length)) : undefined);
  });
}
