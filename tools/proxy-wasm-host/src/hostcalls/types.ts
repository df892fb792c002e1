// What the host functions delegate to: the plugin's side of Envoy's context interface (proxy-wasm-cpp-host
// context_interface.h). Host functions convert arguments from VM memory, call these, and write results back.
import type { BufferType, LogLevel, MapType } from '../abi';
import type { TcpConnection } from '../connection';
import type { GrpcCallouts } from '../grpc';
import type { HeaderList, HeaderMap } from '../headers';
import type { MetricStore } from '../metrics';
import type { PluginOptions } from '../options';
import type { PropertyValue } from '../properties';
import type { QueueOwner } from '../shared';
import type { HttpStream } from '../stream';
import type { Vm } from '../vm';

export interface Host extends QueueOwner {
  readonly vm: Vm<HttpStream, TcpConnection>;
  readonly opts: PluginOptions;
  readonly vmId: string;
  readonly rootContextId: number;
  readonly grpc: GrpcCallouts;
  readonly metricStore: MetricStore;
  /** WASI environment, one "KEY=value\0" entry each. */
  readonly envEntries: Uint8Array[];
  /** Levels below this are not logged (LogLevel). */
  readonly logLevel: number;
  /** What proxy_get_status answers (the last callout's status). */
  readonly statusCode: number;
  readonly statusMessage: string;
  log(level: LogLevel, message: string, host?: boolean): void;
  /** The HTTP stream / TCP connection the current (effective) context is, if any. */
  target(): HttpStream | null;
  targetConn(): TcpConnection | null;
  hasContext(id: number): boolean;
  /** The buffer of this type for the current context, or the status to answer. */
  buffer(type: BufferType): Uint8Array | number;
  /** The header map of this type for the current context, or the status to answer. */
  mapFor(type: MapType, write: boolean): HeaderMap | number;
  mapEdited(type: MapType): void;
  property(path: string[]): PropertyValue | undefined;
  setProperty(key: string, value: Uint8Array): void;
  setTickPeriod(ms: number): void;
  /** proxy_done: the root context finished what it delayed in proxy_on_done. */
  rootDone(): number;
  /** proxy_http_call: a status, and the token when Ok. */
  httpCall(cluster: string, headers: HeaderList, body: Uint8Array, trailers: HeaderList, timeoutMs: number): { status: number; token?: number };
}

/** A group of host functions, by import name. */
export type Hostcalls = Record<string, (...args: never[]) => number | void>;
