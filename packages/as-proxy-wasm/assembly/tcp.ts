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

import { BufferType } from "./enums";
import { Buffer } from "./body";

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

// The TcpContext class is in ./context (with the other contexts); the connections are kept by
// ./dispatch, in the same table as HTTP streams.
