// One downstream TCP connection through a network wasm filter (Envoy `envoy.filters.network.wasm`),
// with Envoy's Network::FilterManager + wasm Context semantics for this one filter followed by tcp_proxy.
//
// Envoy (source/extensions/common/wasm/context.cc, proxy-wasm-cpp-host src/context.cc):
// - onNewConnection: proxy_on_context_create(id, root) then proxy_on_new_connection(id);
// - onData (client bytes) -> proxy_on_downstream_data(id, size of the read buffer, eos); the read buffer keeps
//   what a stopped filter did not let through, so the next callback sees old + new bytes; Continue releases it;
// - onWrite (bytes for the client) -> proxy_on_upstream_data(id, size, eos), then, when eos,
//   proxy_on_upstream_connection_close(id, UNKNOWN);
// - connection events LocalClose / RemoteClose -> proxy_on_downstream_connection_close(id, LOCAL=1 / REMOTE=2),
//   then onCloseTCP: proxy_on_done, proxy_on_log, proxy_on_delete (done BEFORE log, unlike HTTP);
// - continue_stream(DOWNSTREAM) = continueReading() after the callback; UPSTREAM -> Unimplemented;
// - close_stream(DOWNSTREAM|UPSTREAM) closes the connection the filter runs on (FlushWrite) after the callback,
//   details "wasm_downstream_close" / "wasm_upstream_close";
// - a failed VM (CHECK_FAIL_NET): fail open -> Continue; fail closed -> the connection is closed (FlushWrite) and the
//   callback answers StopIteration; later connections: fail open skips the filter, fail closed closes them at once.
import { S, BufferType } from './abi';
import type { ContextOwner } from './owner';
import type { Vm } from './vm';
import { lookupContextProperty, type PropertyValue } from './properties';

export type NetworkFilterStatus = 'Continue' | 'StopIteration';
export type PeerTypeName = 'unknown' | 'local' | 'remote';

export interface ConnectionOptions {
  /** Stream-level properties (dotted paths) for this connection, e.g. `{ 'connection.requested_server_name': 'x' }`. */
  properties?: Record<string, PropertyValue>;
  /** Client address "ip:port" (`source.address` / `source.port`), default 127.0.0.1:45678. */
  source?: string;
  /** Listener address "ip:port" (`destination.*`), default 127.0.0.1:10000. */
  destination?: string;
  /** Upstream host "ip:port" (`upstream.address` / `upstream.port` once tcp_proxy connected), default 127.0.0.1:8080. */
  upstream?: string;
  /** `connection.id` (Envoy's connection counter), default the context id. */
  connectionId?: number;
}

const EMPTY = new Uint8Array(0);
const PEER: Record<PeerTypeName, number> = { unknown: 0, local: 1, remote: 2 };
const toBytes = (c: string | Uint8Array): Uint8Array => (typeof c === 'string' ? Buffer.from(c) : c);
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0); out.set(b, a.length);
  return out;
};
function hostPort(a: string): [string, bigint] {
  const i = a.lastIndexOf(':');
  return [a, BigInt(i < 0 ? 0 : parseInt(a.slice(i + 1), 10) || 0)];
}

/** One direction of a connection: the bytes the filter holds, and whether its buffer is attached. */
class NetDir {
  buf: Uint8Array = EMPTY;
  /** the buffer is readable/editable by the module (during the data callback, and while held) */
  attached = false;
  eos = false;
  constructor(readonly callback: 'proxy_on_downstream_data' | 'proxy_on_upstream_data', readonly exportKey: 'downstreamData' | 'upstreamData') {}
}

export class TcpConnection {
  /** Result of proxy_on_new_connection (after Envoy's failure handling). */
  newConnectionStatus: NetworkFilterStatus = 'Continue';
  /** The in-VM context exists (proxy_on_context_create ran, or Envoy considers it created). */
  created = false;
  /** Fail open on a VM that had already failed: the filter is not installed, bytes pass untouched. */
  skip = false;
  /** The connection is closed (no more data either way). */
  closed = false;
  /** Who closed it: the client ('remote') or the proxy ('local'). */
  closedBy: PeerTypeName | null = null;
  /** Close reason set by the filter: "wasm_downstream_close" / "wasm_upstream_close"; null otherwise. */
  closeDetails: string | null = null;
  /** on_done, on_log and on_delete ran (Envoy onCloseTCP). */
  completed = false;
  /** The VM failed on this connection and fail-closed closed it. */
  failed = false;
  /** tcp_proxy got the connection (iteration passed this filter): the upstream is connected. */
  upstreamConnected = false;
  /** send_local_response calls made in this TCP context (Envoy answers Ok and does nothing). */
  ignoredLocalResponses = 0;
  filterState: Record<string, PropertyValue> = {};
  /** The VM generation this connection was created on. */
  readonly gen: number;
  private readonly vm: Vm;

  /** Client bytes (Envoy: the connection read buffer, network_downstream_data_buffer_). */
  private readonly read = new NetDir('proxy_on_downstream_data', 'downstreamData');
  /** Upstream bytes for the client (network_upstream_data_buffer_). */
  private readonly write = new NetDir('proxy_on_upstream_data', 'upstreamData');
  private downstreamClosed = false;
  private upstreamClosed = false;
  private streamFailed = false;
  private toUpstream: Uint8Array[] = [];
  private toClient: Uint8Array[] = [];
  /** The upstream received end of stream (client half-close passed on). */
  upstreamEnded = false;
  /** The client received end of stream. */
  clientEnded = false;

  constructor(private p: ContextOwner, readonly id: number, private opts: ConnectionOptions) { this.gen = p.generation; this.vm = p.vm; }

  private get vmFailed(): boolean { return this.vm.failed || this.gen !== this.p.generation; }

  // ---------------------------------------------------------------- public view
  /** Bytes the filter let through to the upstream, in order. */
  get sentUpstream(): Uint8Array { return this.toUpstream.length === 1 ? this.toUpstream[0] : Buffer.concat(this.toUpstream); }
  /** Bytes the client received. */
  get sentDownstream(): Uint8Array { return this.toClient.length === 1 ? this.toClient[0] : Buffer.concat(this.toClient); }
  /** Client bytes the filter is holding (StopIteration). */
  get heldDownstream(): Uint8Array { return this.read.buf; }
  /** Upstream bytes the filter is holding. */
  get heldUpstream(): Uint8Array { return this.write.buf; }

  // ---------------------------------------------------------------- driving
  /** Envoy onNewConnection: context create + proxy_on_new_connection. Called by Plugin.newConnection. */
  open(): NetworkFilterStatus {
    const p = this.p;
    if (this.skip) { this.upstreamConnected = true; return 'Continue'; }
    if (!this.vmFailed && this.vm.ex.ctxCreate) this.vm.invoke('proxy_on_context_create', this.vm.ex.ctxCreate, this.id, this.id, p.rootContextId);
    this.created = true;
    this.vm.drainAfter();
    let st = this.checkFail();
    if (!st) {
      const fn = this.vm.ex.newConnection;
      let r = 0;
      if (fn) r = this.vm.invoke('proxy_on_new_connection', fn, this.id, this.id);
      st = this.checkFail() ?? (r === 0 ? 'Continue' : 'StopIteration');
      this.vm.drainAfter();
    }
    this.newConnectionStatus = st;
    if (st === 'Continue' && !this.closed) this.upstreamConnected = true;
    return st;
  }

  /** Client bytes arrive (`endOfStream`: the client half-closed). Returns the filter's status. */
  downstreamData(chunk: string | Uint8Array, endOfStream = false): NetworkFilterStatus {
    this.assertOpen('downstreamData');
    if (this.read.eos) throw new Error('the client already sent end of stream on this connection');
    return this.onData(this.read, chunk, endOfStream, () => this.passDownstream());
  }

  /** Upstream bytes for the client (`endOfStream`: the upstream finished sending). Returns the filter's status. */
  upstreamData(chunk: string | Uint8Array, endOfStream = false): NetworkFilterStatus {
    this.assertOpen('upstreamData');
    if (!this.upstreamConnected) throw new Error('upstreamData: no upstream yet (the filter stopped iteration at on_new_connection and nothing continued it, so tcp_proxy has not connected)');
    if (this.write.eos) throw new Error('the upstream already sent end of stream on this connection');
    // Envoy Context::onWrite: end_stream -> onUpstreamConnectionClose(Unknown) (there is no upstream event here),
    // before the bytes go on
    return this.onData(this.write, chunk, endOfStream, () => this.passUpstream(), () => { if (endOfStream) this.upstreamCloseEvent(); });
  }

  /** Envoy Context::onData / onWrite: the held bytes plus the new chunk go to the filter; Continue passes them on. */
  private onData(d: NetDir, chunk: string | Uint8Array, endOfStream: boolean, pass: () => void, afterCallback?: () => void): NetworkFilterStatus {
    d.buf = concat(d.buf, toBytes(chunk));
    if (endOfStream) d.eos = true;
    if (this.skip) { pass(); return 'Continue'; }
    let st = this.checkFail();
    if (!st) {
      d.attached = true;
      const fn = this.vm.ex[d.exportKey];
      let r = 0;
      if (fn) r = this.vm.invoke(d.callback, fn, this.id, this.id, d.buf.length, endOfStream ? 1 : 0);
      st = this.checkFail() ?? (r === 0 ? 'Continue' : 'StopIteration');
      this.vm.drainAfter(); // DeferAfterCallActions: continue/close run before the filter manager goes on
      if (st === 'Continue') d.attached = false;
    }
    afterCallback?.();
    if (st === 'Continue' && !this.closed) pass();
    return st;
  }

  /** The connection closes: the client closed it ('remote', default) or the proxy did ('local'). Closing a closed
   *  connection does nothing (Envoy: no second event). */
  closeDownstream(peer: 'remote' | 'local' = 'remote'): void {
    if (this.p.closed) throw new Error('plugin is closed');
    if (this.closed) return;
    this.connectionClosed(peer, null);
  }

  /**
   * The upstream went away. Default: it finished sending first (FIN), so its end of stream reaches the filter
   * (proxy_on_upstream_data(held, eos) and proxy_on_upstream_connection_close(UNKNOWN)) unless already sent; then
   * tcp_proxy sees the upstream RemoteClose and closes the client connection (FlushWrite: a LOCAL close for this
   * filter). `{ reset: true }`: the upstream connection was reset / closed without an end of stream: Envoy's wasm
   * filter has no upstream connection events (context.cc onWrite is its only source), so the filter only sees the
   * LOCAL downstream close (tcp_proxy Filter::onUpstreamEvent -> connection().close(FlushWrite)), then done/log/delete.
   */
  closeUpstream(opts: { reset?: boolean } = {}): void {
    if (this.p.closed) throw new Error('plugin is closed');
    if (this.closed) return;
    if (!opts.reset && !this.write.eos && this.upstreamConnected) this.upstreamData(EMPTY, true);
    if (!this.closed) this.connectionClosed('local', null);
  }

  // ---------------------------------------------------------------- host-function side (hostcalls/*)
  /** DOWNSTREAM_DATA (2) / UPSTREAM_DATA (3): the held buffer while attached, else empty (Envoy: Ok, size 0). */
  dataFor(type: BufferType.DownstreamData | BufferType.UpstreamData): Uint8Array {
    const d = type === BufferType.DownstreamData ? this.read : this.write;
    return d.attached ? d.buf : EMPTY;
  }

  /** Envoy Buffer::copyFrom: start 0 drains `len` then prepends, start >= size appends, else BadArgument. */
  setData(type: BufferType.DownstreamData | BufferType.UpstreamData, start: number, len: number, data: Uint8Array): number {
    const d = type === BufferType.DownstreamData ? this.read : this.write;
    if (!d.attached) return S.BadArgument; // no buffer: BufferBase::copyFrom
    const b = d.buf;
    let out: Uint8Array;
    if (start === 0) out = concat(Uint8Array.from(data), b.subarray(Math.min(len, b.length)));
    else if (start >= b.length) out = concat(b, Uint8Array.from(data));
    else return S.BadArgument;
    if (out === b) out = Uint8Array.from(b);
    d.buf = out;
    return S.Ok;
  }

  /** continue_stream(DOWNSTREAM): continueReading() after the current VM call. */
  continueReading(): void {
    this.vm.after.push(() => { if (!this.closed && !this.skip) this.passDownstream(); });
  }

  /** close_stream(DOWNSTREAM|UPSTREAM): connection().close(FlushWrite, details) after the current VM call. */
  closeByFilter(details: string): void {
    this.vm.after.push(() => { if (!this.closed) this.connectionClosed('local', details); });
  }

  property(segs: string[], pluginProps: Record<string, PropertyValue> | undefined): PropertyValue | undefined {
    return lookupContextProperty(segs, this.filterState, this.opts.properties, pluginProps, (first) => {
      if (segs.length === 1 && first === 'connection_id') return { connection_id: BigInt(this.opts.connectionId ?? this.id) };
      return this.derived(first);
    });
  }

  /** Plugin.close(): the connection is dropped without callbacks. */
  abandon(): void { this.closed = true; this.completed = true; this.p.contextDone(this.id, this); }

  // ---------------------------------------------------------------- internals
  private derived(first: string): Record<string, PropertyValue> | undefined {
    if (first === 'connection') return { 'connection.id': BigInt(this.opts.connectionId ?? this.id), 'connection.mtls': false };
    if (first === 'source') { const [a, port] = hostPort(this.opts.source ?? '127.0.0.1:45678'); return { 'source.address': a, 'source.port': port }; }
    if (first === 'destination') { const [a, port] = hostPort(this.opts.destination ?? '127.0.0.1:10000'); return { 'destination.address': a, 'destination.port': port }; }
    if (first === 'upstream' && this.upstreamConnected) { const [a, port] = hostPort(this.opts.upstream ?? '127.0.0.1:8080'); return { 'upstream.address': a, 'upstream.port': port }; }
    return undefined;
  }

  private assertOpen(what: string): void {
    if (this.p.closed) throw new Error('plugin is closed');
    if (this.closed) throw new Error(`${what}: the connection is closed${this.closedBy ? ` (${this.closedBy}${this.closeDetails ? ', ' + this.closeDetails : ''})` : ''}`);
  }

  /** CHECK_FAIL_NET: null when the VM is healthy. */
  private checkFail(): NetworkFilterStatus | null {
    if (!this.vmFailed) return null;
    if (this.p.failOpen) return 'Continue';
    if (!this.streamFailed) {
      this.streamFailed = true;
      this.failed = true;
      if (!this.closed) this.connectionClosed('local', null); // failStream(Downstream): close(FlushWrite)
    }
    return 'StopIteration';
  }

  private passDownstream(): void {
    this.upstreamConnected = true;
    if (this.read.buf.length > 0) this.toUpstream.push(this.read.buf);
    this.read.buf = EMPTY;
    if (this.read.eos) this.upstreamEnded = true;
  }

  private passUpstream(): void {
    if (this.write.buf.length > 0) this.toClient.push(this.write.buf);
    this.write.buf = EMPTY;
    if (this.write.eos) this.clientEnded = true;
  }

  private upstreamCloseEvent(): void {
    if (!this.created || this.skip) return;
    if (!this.vmFailed && this.vm.ex.upstreamClose) { this.vm.invoke('proxy_on_upstream_connection_close', this.vm.ex.upstreamClose, this.id, this.id, PEER.unknown); this.vm.drainAfter(); }
    this.upstreamClosed = true;
    if (this.downstreamClosed) this.closeTcp();
  }

  /** Connection event LocalClose/RemoteClose (Envoy Context::onEvent). */
  private connectionClosed(peer: 'local' | 'remote', details: string | null): void {
    this.closed = true;
    this.closedBy = peer;
    this.closeDetails = details;
    const p = this.p;
    if (!this.created || this.skip) { p.contextDone(this.id, this); return; }
    if (!this.vmFailed && this.vm.ex.downstreamClose) { this.vm.invoke('proxy_on_downstream_connection_close', this.vm.ex.downstreamClose, this.id, this.id, PEER[peer]); this.vm.drainAfter(); }
    this.downstreamClosed = true;
    this.closeTcp();
  }

  /** Envoy onCloseTCP: done, log, delete once. */
  private closeTcp(): void {
    if (this.completed) return;
    this.completed = true;
    const p = this.p, ex = this.vm.ex;
    if (!this.vmFailed && ex.onDone) this.vm.invoke('proxy_on_done', ex.onDone, this.id, this.id);
    if (!this.vmFailed && ex.onLog) this.vm.invoke('proxy_on_log', ex.onLog, this.id, this.id);
    if (!this.vmFailed && ex.onDelete) this.vm.invoke('proxy_on_delete', ex.onDelete, this.id, this.id);
    this.vm.drainAfter();
    if (!this.vmFailed) p.streamSucceeded();
    p.contextDone(this.id, this);
  }
}
