// The state of an HTTP stream through one filter: body buffers, one direction's headers/body/trailers, and how a
// callback's return value maps to Envoy's filter status.
import type { FilterStatus } from './abi';
import type { PropertyValue } from './properties';
import { HeaderMap, type HeaderList, type HeaderValue } from './headers';

export const EMPTY = new Uint8Array(0);

export interface StreamOptions { properties?: Record<string, PropertyValue> }
export interface LocalReply { status: number; body: string; bodyBytes: Uint8Array; headers: HeaderList; details: string; grpcStatus: number | null }

/**
 * A body buffer (Envoy's Buffer::Instance for one filter). Appends are amortised O(1): the
 * storage doubles when full, so buffering a body chunk by chunk is linear, not quadratic.
 * `bytes` is a view of the first `length` bytes; storage handed in by a caller is never written.
 */
export class Body {
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
export class Dir {
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

export function headersStatus(r: number, stopNext: boolean, allowStop: boolean): FilterStatus {
  if (stopNext) return 'StopAllIterationAndWatermark';
  switch (r) {
    case 0: return 'Continue';
    case 1: return allowStop ? 'StopIteration' : 'StopAllIterationAndWatermark';
    case 2: return 'ContinueAndEndStream';
    case 3: return 'StopAllIterationAndBuffer';
    default: return 'StopAllIterationAndWatermark';
  }
}
export function bodyStatus(r: number, stopNext: boolean): FilterStatus {
  if (stopNext) return 'StopIterationNoBuffer';
  switch (r) {
    case 0: return 'Continue';
    case 1: return 'StopIterationAndBuffer';
    case 2: return 'StopIterationAndWatermark';
    default: return 'StopIterationNoBuffer';
  }
}
export const toBytes = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? Buffer.from(c) : c);
