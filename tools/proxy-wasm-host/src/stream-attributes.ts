// The attributes Envoy derives from a stream (`request.*`, `response.*`, `connection.*`, `source.*`, `destination.*`).
import { HeaderMap, valueToString } from './headers';
import type { PropertyValue } from './properties';
import type { Dir } from './stream-state';
import type { LocalReply } from './stream-state';

/** What the attributes are computed from. */
export interface AttributeSource {
  readonly id: number;
  readonly req: Dir;
  readonly resp: Dir;
  readonly startMs: number;
  readonly details: string;
  readonly localReply: LocalReply | null;
}

export function streamAttributes(stream: AttributeSource, first: string): Record<string, PropertyValue> | undefined {
  if (first === 'request' && stream.req.seen) {
    const m = stream.req.hmap();
    const s = (n: string) => { const x = m.get(n); return x === undefined ? undefined : valueToString(x); };
    const path = s(':path') ?? '';
    const q = path.indexOf('?');
    const out: Record<string, PropertyValue> = {
      'request.path': path, 'request.url_path': q < 0 ? path : path.slice(0, q), 'request.query': q < 0 ? '' : path.slice(q + 1),
      'request.headers': headerObject(m), 'request.protocol': 'HTTP/1.1', 'request.time': new Date(stream.startMs),
      'request.size': BigInt(stream.req.released.reduce((a, b) => a + b.length, 0) + stream.req.fm.length),
    };
    const add = (k: string, v: string | undefined) => { if (v !== undefined) out[k] = v; };
    add('request.host', s(':authority')); add('request.scheme', s(':scheme')); add('request.method', s(':method'));
    add('request.referer', s('referer')); add('request.useragent', s('user-agent')); add('request.id', s('x-request-id'));
    return out;
  }
  if (first === 'response' && (stream.resp.seen || stream.localReply)) {
    const m = stream.resp.seen ? stream.resp.hmap() : new HeaderMap('response-headers', stream.localReply!.headers);
    const out: Record<string, PropertyValue> = { 'response.headers': headerObject(m), 'response.code_details': stream.details || 'via_upstream' };
    const st = m.get(':status');
    if (st !== undefined) out['response.code'] = BigInt(parseInt(valueToString(st), 10) || 0);
    const t = stream.resp.trailers ?? stream.resp.relTrailers;
    if (t) out['response.trailers'] = headerObject(t);
    out['response.size'] = BigInt(stream.resp.released.reduce((a, b) => a + b.length, 0));
    return out;
  }
  if (first === 'connection') return { 'connection.id': BigInt(stream.id), 'connection.mtls': false };
  if (first === 'source') return { 'source.address': '127.0.0.1:45678', 'source.port': 45678n };
  if (first === 'destination') return { 'destination.address': '127.0.0.1:10000', 'destination.port': 10000n };
  return undefined;
}

function headerObject(m: HeaderMap): Record<string, PropertyValue> {
  const o: Record<string, PropertyValue> = {};
  for (let i = 0; i < m.names.length; i++) {
    const k = m.names[i], v = valueToString(m.values[i]);
    o[k] = k in o ? `${o[k] as string},${v}` : v;
  }
  return o;
}
