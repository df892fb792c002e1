// Built-in loopback services for the local proxy: an echo upstream and an httpbin-like metadata service.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RunningServer { server: Server; port: number; url: string; close(): Promise<void> }

function listen(server: Server, port: number, host: string): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ server, port: p, url: `http://${host}:${p}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => { const cs: Buffer[] = []; req.on('data', (c: Buffer) => cs.push(c)); req.on('end', () => resolve(Buffer.concat(cs))); req.on('error', reject); });
}

function headerObject(req: IncomingMessage): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) { const k = req.rawHeaders[i].toLowerCase(); o[k] = k in o ? `${o[k]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1]; }
  return o;
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const b = Buffer.from(JSON.stringify(body, null, 2) + '\n');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(b.length), ...extra });
  res.end(b);
}

/** Echo upstream: answers every request with JSON {method, path, headers, body} (loopback only). */
export async function startEcho(opts: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const answer = (req: IncomingMessage, res: ServerResponse, body: string) =>
    json(res, 200, { method: req.method, path: req.url, headers: headerObject(req), body }, { 'x-echo': 'true' });
  const server = createServer((req, res) => {
    // no content-length / transfer-encoding: no body (HTTP/1.1), answer without waiting for 'end'
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) { req.resume(); return answer(req, res, ''); }
    readBody(req).then((b) => answer(req, res, b.toString('utf8')), () => res.destroy());
  });
  return listen(server, opts.port ?? 8080, opts.host ?? '127.0.0.1');
}

/** httpbin-like metadata service: /headers, /status/N, /bytes/N, /json, /delay/MS; others -> JSON metadata. */
export async function startMetadataService(opts: { port?: number; host?: string; metadata?: Record<string, unknown> } = {}): Promise<RunningServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://metadata');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'headers') return json(res, 200, { headers: headerObject(req) });
    if (parts[0] === 'status') { const code = Number(parts[1]) || 200; res.writeHead(code, { 'content-length': '0' }); return res.end(); }
    if (parts[0] === 'bytes') {
      const n = Math.min(Number(parts[1]) || 1, 65536);
      const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = (i * 7 + 2) & 0xff; // deterministic: first byte 2 (even)
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) }); return res.end(b);
    }
    if (parts[0] === 'delay') { await new Promise((r) => setTimeout(r, Math.min(Number(parts[1]) || 0, 10000))); return json(res, 200, { delayed: Number(parts[1]) || 0 }); }
    if (parts[0] === 'json') return json(res, 200, opts.metadata ?? { service: 'metadata', tier: 'gold', region: 'local' });
    return json(res, 200, { path: url.pathname, method: req.method, metadata: opts.metadata ?? { service: 'metadata', tier: 'gold', region: 'local' }, body: body.toString('utf8') });
  };
  // A client that goes away mid-body rejects readBody: close that response. Left unhandled, the
  // rejection would end the whole process (and every server in it).
  const server = createServer((req, res) => { handle(req, res).catch(() => res.destroy()); });
  return listen(server, opts.port ?? 8081, opts.host ?? '127.0.0.1');
}
