// The proxy's HTTP/1.1 client to an upstream endpoint (keep-alive), with Envoy's header handling: pseudo-headers
// become the request line and host, hop-by-hop headers are dropped, the whole response is buffered.
import { Agent, request as httpRequest } from 'node:http';
import { valueToString, type HeaderList } from './headers';

export interface Endpoint { host: string; port: number }

const keepAlive = new Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });

/** Send a request to an endpoint; resolves with the full response. */
export function forward(ep: Endpoint, headers: HeaderList, body: Uint8Array, timeoutMs = 0): Promise<{ status: number; headers: HeaderList; body: Buffer }> {
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
    const req = httpRequest({ host: ep.host, port: ep.port, method, path, headers: out as unknown as Record<string, string>, agent: keepAlive }, (res) => {
      const cs: Buffer[] = [];
      res.on('data', (c: Buffer) => cs.push(c));
      res.on('end', () => {
        const h: HeaderList = [];
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) { const k = raw[i].toLowerCase(); if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') h.push([k, raw[i + 1]]); }
        resolveP({ status: res.statusCode ?? 502, headers: h, body: cs.length === 1 ? cs[0] : Buffer.concat(cs) });
      });
      res.on('error', reject);
    });
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body.length ? (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length)) : undefined);
  });
}
