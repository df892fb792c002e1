// TCP (network filter) contexts: Envoy's `envoy.filters.network.wasm` drives one TcpContext per
// downstream connection. Only a filter that exports the TCP callbacks (./tcp-exports) links this
// module's dispatch code; HTTP filters are unchanged.
//
// Envoy semantics (source/extensions/common/wasm/context.cc, proxy-wasm-cpp-host context.cc):
// - the context is created when the connection is accepted (proxy_on_context_create(id, root)),
//   then proxy_on_new_connection;
// - proxy_on_downstream_data = bytes read from the client, proxy_on_upstream_data = bytes going
//   back to the client (from the upstream); a data callback's `dataSize` covers everything the
//   filter is holding (a stopped direction accumulates: the next callback sees old + new bytes);
// - proxy_on_upstream_connection_close(UNKNOWN) follows an upstream callback with end_of_stream;
// - proxy_on_downstream_connection_close(LOCAL | REMOTE) when the connection closes, then
//   onDone, onLog, onDelete (TCP order: done before log).

import { BufferType, Status, StreamType } from "./enums";
import { proxy_continue_stream, proxy_close_stream } from "./imports";
import { Buffer } from "./body";
import { Context, RootContext, setStreamFinder } from "./context";

/** Return value of onNewConnection / onDownstreamData / onUpstreamData (Envoy Network::FilterStatus). */
export enum FilterStatus {
  Continue = 0,
  /** Hold the data (Envoy treats any non-zero value as StopIteration). */
  StopIteration = 1,
}

/** proxy_peer_type_t: which side closed the connection. */
export enum PeerType {
  /** Envoy reports the upstream side as Unknown (it learns of it from end_of_stream). */
  Unknown = 0,
  /** The proxy closed the connection (close_stream, a failure, the upstream went away...). */
  Local = 1,
  /** The client closed the connection. */
  Remote = 2,
}

/** Bytes read from the client (DOWNSTREAM_DATA): readable/editable in onDownstreamData and while held. */
// @ts-ignore: decorator
@lazy export const downstreamData = new Buffer(BufferType.DownstreamData);
/** Bytes going back to the client (UPSTREAM_DATA): readable/editable in onUpstreamData and while held. */
// @ts-ignore: decorator
@lazy export const upstreamData = new Buffer(BufferType.UpstreamData);

/**
 * The context of one TCP connection through a network filter. Override the hooks you need and
 * return it from `RootContext.createTcpContext`.
 */
export class TcpContext extends Context {
  constructor(id: u32, public readonly root: RootContext) {
    super(id);
  }

  get rootContext(): RootContext { return this.root; }

  /** The connection was accepted. StopIteration delays the next filters (tcp_proxy connects later). */
  onNewConnection(): FilterStatus { return FilterStatus.Continue; }
  /** Client bytes: `dataSize` bytes in `downstreamData` (all held bytes, not only the new chunk). */
  onDownstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  /** Bytes for the client (from the upstream): `dataSize` bytes in `upstreamData`. */
  onUpstreamData(dataSize: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  /** The connection closed: `peer` is Local (the proxy closed it) or Remote (the client did). */
  onDownstreamConnectionClose(peer: PeerType): void {}
  /** The upstream finished sending (Envoy calls it after an upstream end_of_stream, peer Unknown). */
  onUpstreamConnectionClose(peer: PeerType): void {}
  /** TCP order after the close: onDone, onLog, onDelete. */
  onDone(): void {}
  onLog(): void {}
  onDelete(): void {}

  get downstreamData(): Buffer { return downstreamData; }
  get upstreamData(): Buffer { return upstreamData; }

  /**
   * Releases client bytes held by StopIteration to the upstream (Envoy continueReading(), run
   * after the current callback returns).
   */
  continueDownstream(): Status { return <Status>proxy_continue_stream(StreamType.Downstream); }
  /**
   * Envoy answers Unimplemented: held upstream bytes are released only by a later onUpstreamData
   * returning Continue. Kept for completeness (the status is returned, nothing traps).
   */
  continueUpstream(): Status { return <Status>proxy_continue_stream(StreamType.Upstream); }
  /** Closes the connection after the callback (Envoy FlushWrite, details "wasm_downstream_close"). */
  closeDownstream(): Status { return <Status>proxy_close_stream(StreamType.Downstream); }
  /**
   * Envoy closes the connection this filter runs on (the same downstream connection, FlushWrite,
   * details "wasm_upstream_close"); tcp_proxy then drops the upstream.
   */
  closeUpstream(): Status { return <Status>proxy_close_stream(StreamType.Upstream); }
}

// ---------------------------------------------------------------------------
// Registry (used by ./tcp-exports). Connections are few per worker compared with requests; a Map
// keyed by context id keeps them (a global, so the collector keeps them alive).

// @ts-ignore: decorator
@lazy const connections = new Map<u32, TcpContext>();
// @ts-ignore: decorator
@lazy let lastTcpId: u32 = 0;
// @ts-ignore: decorator
@lazy let lastTcp: TcpContext | null = null;

export function findTcp(id: u32): TcpContext | null {
  if (id == lastTcpId && id != 0) return lastTcp;
  if (!connections.has(id)) return null;
  let c = connections.get(id);
  lastTcpId = id;
  lastTcp = c;
  return c;
}

function findTcpContext(id: u32): Context | null {
  return findTcp(id);
}

export function addTcp(id: u32, ctx: TcpContext): void {
  connections.set(id, ctx);
  lastTcpId = id;
  lastTcp = ctx;
  // http call responses and set_effective_context reach TCP contexts too
  setStreamFinder(findTcpContext);
}

export function removeTcp(id: u32): void {
  connections.delete(id);
  if (lastTcpId == id) { lastTcpId = 0; lastTcp = null; }
}

/** Number of live TCP contexts (for tests and leak checks). */
export function tcpConnectionCount(): i32 {
  return connections.size;
}
