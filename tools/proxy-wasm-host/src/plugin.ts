// The test API of a proxy-wasm plugin: load it like Envoy, drive HTTP streams and TCP connections through it,
// answer its callouts, read its logs and metrics. The VM is vm.ts, the host functions hostcalls/*, and what they
// delegate to host.ts.
import { readFileSync } from 'node:fs';
import { parseModule, capMemory, type ModuleInfo } from './binary';
import { S, LOG_LEVELS, type LogLevelName } from './abi';
import { HeaderMap, toBytes, valueToString, bytesToText, type HeaderList, type HeaderValue } from './headers';
import { MetricStore, prometheusText, type MetricValue } from './metrics';
import * as shared from './shared';
import { HttpStream, type StreamOptions } from './stream';
import { TcpConnection, type ConnectionOptions } from './connection';
import { runExchange, type ExchangeRequest, type ExchangeResult } from './exchange';
import { GrpcCode, toHeaderList, type GrpcCallouts, type GrpcCallRecord, type GrpcStreamInfo } from './grpc';
import { PluginLoadError, type PluginOptions, type LogEntry, type PendingHttpCall, type HttpCallAnswer } from './options';
import { PluginHost, type HttpCallRecord } from './host';
import { PAGE, type Vm } from './vm';

export { PluginLoadError, type PluginOptions, type LogEntry, type PendingHttpCall, type HttpCallAnswer };

const ENVOY_MAX_PAGES = 16384; // V8 --wasm_max_mem_pages in Envoy: 1 GiB
const EMPTY = new Uint8Array(0);

/** Load and start a proxy-wasm module like Envoy: link check, _initialize/_start, root context, vm_start, configure. */
export async function loadPlugin(wasm: string | Uint8Array | WebAssembly.Module, options: PluginOptions = {}): Promise<Plugin> {
  let module: WebAssembly.Module;
  let info: ModuleInfo | null = null;
  const maxPages = Math.min(ENVOY_MAX_PAGES, options.memoryLimitBytes ? Math.max(1, Math.floor(options.memoryLimitBytes / PAGE)) : ENVOY_MAX_PAGES);
  if (wasm instanceof WebAssembly.Module) module = wasm;
  else {
    let bytes: Uint8Array;
    try { bytes = typeof wasm === 'string' ? readFileSync(wasm) : wasm; } catch (e) { throw new PluginLoadError(`Failed to load Wasm code from ${wasm}: ${(e as Error).message}`); }
    try { info = parseModule(bytes); } catch (e) { throw new PluginLoadError(`Failed to load Wasm module: ${(e as Error).message}`); }
    if (info.memory && info.memory.min > maxPages) throw new PluginLoadError(`Failed to load Wasm module: initial memory (${info.memory.min} pages) exceeds the memory limit (${maxPages} pages)`);
    bytes = capMemory(bytes, info, maxPages);
    try { module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>); } catch (e) { throw new PluginLoadError(`Failed to load Wasm module: ${(e as Error).message}`); }
  }
  const host = new PluginHost(module, info, options, maxPages);
  await host.start();
  return new Plugin(host);
}

export class Plugin {
  /** The VM (instance, memory, exports), for tests that call the module's exports themselves. */
  readonly vm: Vm<HttpStream, TcpConnection>;

  /** Use loadPlugin(). */
  constructor(private readonly host: PluginHost) { this.vm = host.vm; }

  // ------------------------------------------------------------------ state
  get configured(): boolean { return this.host.configured; }
  /** The VM trapped (or failed to start): FAIL_CLOSED fails new streams, FAIL_OPEN skips the filter. */
  get failed(): boolean { return this.host.failed; }
  get closed(): boolean { return this.host.closed; }
  /** Every log line so far (the module's and the host's), at or above the log level. */
  get logs(): LogEntry[] { return this.host.logs; }
  get abiVersion(): '0.2.1' | '0.2.0' { return this.host.abiVersion; }
  get rootContextId(): number { return this.host.rootContextId; }
  get pluginName(): string { return this.host.pluginName; }
  get rootId(): string { return this.host.rootId; }
  get vmId(): string { return this.host.vmId; }
  get failOpen(): boolean { return this.host.failOpen; }
  get bufferLimit(): number { return this.host.bufferLimit; }
  get allowStopIteration(): boolean { return this.host.allowStopIteration; }
  get opts(): PluginOptions { return this.host.opts; }
  /** VM generation: 0 for the first VM, +1 per FAIL_RELOAD reload. Streams of an older generation fail closed. */
  get generation(): number { return this.host.generation; }
  /** Number of FAIL_RELOAD reloads so far. */
  get reloads(): number { return this.host.reloads; }
  /** Open HTTP streams and TCP connections by context id. */
  get streams(): ReadonlyMap<number, HttpStream> { return this.vm.streams; }
  get connections(): ReadonlyMap<number, TcpConnection> { return this.vm.connections; }
  /** gRPC callouts (calls and streams) of this VM; see pendingGrpcCalls() and friends. */
  get grpc(): GrpcCallouts { return this.host.grpc; }
  /** The tick period the module set (ms, 0 = none). */
  get tickPeriod(): number { return this.host.tickPeriodMs; }

  /** Hooks used by the serve command: an http call was dispatched; the tick period changed. */
  set onHttpCall(hook: ((call: HttpCallRecord) => void) | undefined) { this.host.onHttpCall = hook; }
  get onHttpCall(): ((call: HttpCallRecord) => void) | undefined { return this.host.onHttpCall; }
  set onTickPeriod(hook: ((ms: number) => void) | undefined) { this.host.onTickPeriod = hook; }
  get onTickPeriod(): ((ms: number) => void) | undefined { return this.host.onTickPeriod; }

  // ------------------------------------------------------------------ logs and metrics
  /** The level of Envoy's `wasm` logger for this plugin: lines below it are dropped, and proxy_get_log_level
   *  answers it (the module sees a change from its next callback on). */
  get logLevel(): LogLevelName | 'off' { return this.host.logLevel >= LOG_LEVELS.length ? 'off' : LOG_LEVELS[this.host.logLevel]; }
  setLogLevel(level: LogLevelName | 'off'): void {
    const i = level === 'off' ? LOG_LEVELS.length : LOG_LEVELS.indexOf(level);
    if (i < 0) throw new Error(`unknown log level "${String(level)}" (one of ${LOG_LEVELS.join(', ')}, off)`);
    this.host.logLevel = i;
  }
  clearLogs(): void { this.host.logs.length = 0; }
  memoryBytes(): number { return this.vm.memory ? this.vm.memory.buffer.byteLength : 0; }
  metric(name: string): MetricValue | undefined { const m = this.host.metricStore.find(name); return m && MetricStore.value(m, this.host.metricStore.buckets); }
  metrics(): Record<string, MetricValue> {
    const out: Record<string, MetricValue> = {};
    for (const m of this.host.metricStore.all()) { const v = MetricStore.value(m, this.host.metricStore.buckets); out[m.name] = typeof v === 'number' ? v : { count: v.count, sum: v.sum } as never; }
    return out;
  }
  prometheus(): string { return prometheusText(this.host.metricStore.all().map((m) => ({ m, buckets: this.host.metricStore.buckets })), this.host.opts.statsTags ?? []); }
  /** Metric objects for a shared admin endpoint aggregating several plugins. */
  metricObjects() { return this.host.metricStore.all().map((m) => ({ m, buckets: this.host.metricStore.buckets })); }
  pendingHttpCalls(): PendingHttpCall[] { return [...this.host.calls.values()].map(({ trailersRaw: _t, ...c }) => c); }
  /** Every http call dispatched so far (answered or not). */
  httpCallLog(): PendingHttpCall[] { return this.host.callLog; }

  // ------------------------------------------------------------------ gRPC callouts (test-facing)
  /** Unary gRPC calls waiting for an answer (respondGrpcCall / failGrpcCall). */
  pendingGrpcCalls(): GrpcCallRecord[] { return this.grpc.pendingCalls(); }
  /** gRPC streams the host still tracks (not cancelled, not closed on both sides). */
  pendingGrpcStreams(): GrpcStreamInfo[] { return this.grpc.openStreams(); }
  /** Every unary gRPC call dispatched so far, with its state. */
  grpcCallLog(): GrpcCallRecord[] { return this.grpc.callLog; }
  /** Every gRPC stream opened so far (also finished ones): what the module sent, half-close, cancel. */
  grpcStreamLog(): GrpcStreamInfo[] { return this.grpc.streamLog; }
  /** The stream (open or finished) with this token. */
  grpcStream(token: number): GrpcStreamInfo | undefined { return this.grpc.streamLog.find((s) => s.token === token); }

  /** Unary success: proxy_on_grpc_receive(root, token, size) with the message in GRPC_CALL_MESSAGE (Envoy onSuccessRaw). */
  respondGrpcCall(token: number, message: string | Uint8Array): void {
    this.grpc.respondCall(token, toBytes(message));
  }

  /** Unary failure: proxy_on_grpc_close(root, token, status), get_status = (status, message). 'timeout' = what
   *  Envoy's gRPC client reports when the call's timeout fires: its router's 504 local reply mapped to gRPC
   *  (14 Unavailable, "upstream request timeout"). Status 0 without a message is Envoy's Internal (13). */
  failGrpcCall(token: number, status: number | 'timeout', message = ''): void {
    if (status === 'timeout') this.grpc.failCall(token, GrpcCode.Unavailable, 'upstream request timeout');
    else this.grpc.failCall(token, status, message);
  }

  /** Stream: proxy_on_grpc_receive_initial_metadata(root, token, entries); GRPC_CALL_INITIAL_METADATA readable. */
  deliverGrpcInitialMetadata(token: number, metadata: HeaderList | Record<string, string> = []): void {
    this.grpc.streamInitialMetadata(token, toHeaderList(metadata));
  }
  /** Stream: proxy_on_grpc_receive(root, token, size); the message is readable in GRPC_CALL_MESSAGE. */
  deliverGrpcMessage(token: number, message: string | Uint8Array): void {
    this.grpc.streamMessage(token, toBytes(message));
  }
  /** Stream: proxy_on_grpc_receive_trailing_metadata(root, token, entries); GRPC_CALL_TRAILING_METADATA readable. */
  deliverGrpcTrailingMetadata(token: number, metadata: HeaderList | Record<string, string> = []): void {
    this.grpc.streamTrailingMetadata(token, toHeaderList(metadata));
  }
  /** Stream: the remote side closed with a gRPC status (proxy_on_grpc_close, get_status = (status, message)).
   *  The host forgets the stream once the module closed it too (proxy_grpc_close, now or before). */
  remoteCloseGrpcStream(token: number, status: number, message = ''): void {
    this.grpc.streamRemoteClose(token, status, message);
  }

  // ------------------------------------------------------------------ streams and connections
  /** A new HTTP stream through this filter (Envoy creates the context with the request headers). */
  newStream(opts: StreamOptions = {}): HttpStream {
    const host = this.host;
    if (host.closed) throw new Error('plugin is closed');
    host.reloadIfFailed();
    if (!host.configured && !host.failed) throw new Error('plugin is not configured (proxy_on_vm_start/proxy_on_configure returned false): Envoy rejects this configuration, no stream can use it');
    const id = host.nextContextId++;
    const s = new HttpStream(host, id, opts);
    this.vm.streams.set(id, s);
    return s;
  }

  /**
   * A new downstream connection through this plugin as a NETWORK filter (Envoy envoy.filters.network.wasm):
   * context create + proxy_on_new_connection run now (`newConnectionStatus`); drive it with downstreamData /
   * upstreamData / closeDownstream / closeUpstream. Context ids are shared with HTTP streams.
   */
  newConnection(opts: ConnectionOptions = {}): TcpConnection {
    const host = this.host;
    if (host.closed) throw new Error('plugin is closed');
    host.reloadIfFailed();
    if (!host.configured && !host.failed) throw new Error('plugin is not configured (proxy_on_vm_start/proxy_on_configure returned false): Envoy rejects this configuration, no connection can use it');
    const skip = host.failed && host.failOpen; // Envoy createFilter: fail open skips the filter
    const c = new TcpConnection(host, skip ? 0 : host.nextContextId++, opts);
    if (skip) c.skip = true;
    else this.vm.connections.set(c.id, c);
    c.open();
    return c;
  }

  /** One full request/response through the filter (see ExchangeRequest). */
  exchange(req: ExchangeRequest = {}): Promise<ExchangeResult> {
    return runExchange(this, req);
  }

  // ------------------------------------------------------------------ http calls, tick, close
  /** Answer a pending http call: proxy_on_http_call_response on the root context. */
  respondHttpCall(token: number, answer: HttpCallAnswer): void {
    const host = this.host, vm = this.vm;
    if (!host.calls.delete(token)) throw new Error(`no pending http call with token ${token}`);
    if (vm.failed || host.closed || !vm.ex.httpCallResponse) return;
    const headers = new HeaderMap('other', answer.headers);
    const body = toBytes(answer.body ?? EMPTY);
    const trailers = new HeaderMap('other', answer.trailers ?? []);
    host.statusCode = S.Ok; host.statusMessage = '';
    host.callResponse = { headers, body, trailers };
    vm.invoke('proxy_on_http_call_response', vm.ex.httpCallResponse, host.rootContextId, host.rootContextId, token, headers.size, body.length, trailers.size);
    host.callResponse = null;
    host.afterRootCall();
  }

  /** reset -> on_http_call_response(token, 0, 0, 0) with get_status (BrokenConnection, "reset"); timeout -> router's 504. */
  failHttpCall(token: number, reason: 'reset' | 'timeout'): void {
    if (reason === 'timeout') {
      this.respondHttpCall(token, { headers: [[':status', '504'], ['content-length', '24'], ['content-type', 'text/plain']], body: 'upstream request timeout' });
      return;
    }
    const host = this.host, vm = this.vm;
    if (!host.calls.delete(token)) throw new Error(`no pending http call with token ${token}`);
    if (vm.failed || host.closed || !vm.ex.httpCallResponse) return;
    host.statusCode = S.BrokenConnection; host.statusMessage = 'reset';
    vm.invoke('proxy_on_http_call_response', vm.ex.httpCallResponse, host.rootContextId, host.rootContextId, token, 0, 0, 0);
    host.afterRootCall();
  }

  /** Fire proxy_on_tick on the root context if a tick period is set. Returns whether it fired. */
  tick(): boolean {
    const host = this.host, vm = this.vm;
    if (host.tickPeriodMs === 0 || vm.failed || host.closed || !vm.ex.tick) return false;
    vm.invoke('proxy_on_tick', vm.ex.tick, host.rootContextId, host.rootContextId);
    host.afterRootCall();
    return true;
  }

  /** Tear down like Envoy: open streams and connections are dropped, the root gets proxy_on_done then proxy_on_delete. */
  close(): void {
    const host = this.host, vm = this.vm;
    if (host.closed) return;
    for (const s of [...vm.streams.values()]) s.abandon();
    for (const c of [...vm.connections.values()]) c.abandon();
    host.calls.clear();
    host.grpc.cancelAll(); // Envoy ~Context: outstanding gRPC calls cancelled, streams reset, no callbacks
    if (!vm.failed && vm.ex.onDone) {
      const done = vm.invoke('proxy_on_done', vm.ex.onDone, host.rootContextId, host.rootContextId);
      vm.drainAfter();
      if (!vm.failed && done === 0) host.rootDonePending = true;
    }
    if (!host.rootDonePending) host.deleteRoot();
    host.closed = true;
    shared.releaseVm(host.vmId);
  }
}

export { bytesToText, valueToString };
export type { HeaderList, HeaderValue };
