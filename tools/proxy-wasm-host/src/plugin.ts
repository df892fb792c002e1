// The proxy-wasm VM host: loading, Envoy's import table, contexts, hostcalls and WASI.
import { readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { parseModule, capMemory, type ModuleInfo } from './binary';
import { S, ENV_IMPORTS, WASI_IMPORTS, START_ALLOWED, MALLOC_ALLOWED, EXPORT_SIGS, LOG_LEVELS, sigText, type LogLevelName } from './abi';
import { HeaderMap, copyBytes, readPairs, type FastBuffer, writePairs, pairsSize, decodeBytes, toBytes, valueToString, bytesToText, type HeaderList, type HeaderValue } from './headers';
import { MetricStore, prometheusText, type MetricValue, type StatsTag } from './metrics';
import { serializeProperty, lookupProperty, type PropertyValue } from './properties';
import * as shared from './shared';
import { HttpStream, type StreamOptions } from './stream';
import { TcpConnection, type ConnectionOptions } from './connection';
import { runExchange, type ExchangeRequest, type ExchangeResult } from './exchange';
import { GrpcCallouts, GrpcCode, toHeaderList, type GrpcCallbackName, type GrpcCallRecord, type GrpcStreamInfo } from './grpc';

export interface PluginOptions {
  config?: string | Uint8Array | object;
  vmConfig?: string | Uint8Array;
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  env?: Record<string, string>;
  properties?: Record<string, PropertyValue>;
  /** FAIL_CLOSED (default), FAIL_OPEN, or FAIL_RELOAD (Envoy >= 1.33): after a VM failure, new streams get a fresh VM
   *  (re-instantiated and configured) once the reload backoff elapsed; meanwhile they fail closed. */
  failurePolicy?: 'FAIL_CLOSED' | 'FAIL_OPEN' | 'FAIL_RELOAD';
  /** FAIL_RELOAD backoff: base interval (default 1000 ms, Envoy ReloadConfig default) doubling per reload up to
   *  reloadMaxBackoffMs (default 10x base, Envoy BackoffStrategy default); no jitter. */
  reloadBackoffMs?: number;
  reloadMaxBackoffMs?: number;
  /** Host clock in ms for the reload backoff (default Date.now); inject a fake one in tests. */
  clockMs?: () => number;
  clusters?: string[];
  bufferLimitBytes?: number;
  logLevel?: LogLevelName;
  memoryLimitBytes?: number;
  allowOnHeadersStopIteration?: boolean;
  statsTags?: StatsTag[];
  histogramBuckets?: number[];
  now?: () => bigint;
  /** Also print each log line to stderr, Envoy style ("wasm log <prefix>: msg"). */
  printLogs?: boolean;
  /** Receives each log line formatted like Envoy's (`[info] wasm log <name> <root_id> <vm_id>: msg` for streams,
   *  `[info] wasm log <root_id> <vm_id>: msg` for the root context, `[level] msg` for host messages). */
  logSink?: (line: string, entry: LogEntry) => void;
}

export interface LogEntry { level: LogLevelName; message: string }
export interface PendingHttpCall { token: number; cluster: string; headers: Array<[string, string]>; body: Uint8Array; trailers: Array<[string, string]>; timeoutMs: number; contextId: number }
export interface HttpCallAnswer { headers: HeaderList; body?: string | Uint8Array; trailers?: HeaderList }

export class PluginLoadError extends Error {}

/** Thrown into wasm to abort a restricted hostcall; the VM is failed like Envoy's "restricted_callback". */
class RestrictedCallback extends Error {}

type Fn = (...a: number[]) => number;
const PAGE = 65536;
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
  const plugin = new Plugin(module, info, options, maxPages);
  await plugin.start();
  return plugin;
}

export class Plugin {
  configured = false;
  failed = false;
  logs: LogEntry[] = [];
  readonly abiVersion: '0.2.1' | '0.2.0';
  readonly rootContextId = 1;
  readonly pluginName: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly failOpen: boolean;
  readonly bufferLimit: number;
  readonly allowStopIteration: boolean;
  readonly opts: PluginOptions;
  closed = false;
  /** VM generation: 0 for the first VM, +1 per FAIL_RELOAD reload. Streams of an older generation fail closed. */
  generation = 0;
  /** Number of FAIL_RELOAD reloads so far. */
  reloads = 0;
  private reloadPolicy: boolean;
  private reloadIntervalMs: number;
  private failedAtMs = 0;
  private acquired = false;
  /** The first VM was configured: only then can FAIL_RELOAD replace it (a rejected config stays rejected). */
  private firstConfigured = false;

  // --- VM state (internal; used by HttpStream) ---
  instance!: WebAssembly.Instance;
  memory!: WebAssembly.Memory;
  mem!: Buffer;
  dv!: DataView;
  private memBuf: ArrayBuffer | null = null;
  ex: {
    malloc: Fn | null; ctxCreate: Fn | null; onDone: Fn | null; onLog: Fn | null; onDelete: Fn | null; vmStart: Fn | null; configure: Fn | null; tick: Fn | null;
    reqHeaders: Fn | null; reqBody: Fn | null; reqTrailers: Fn | null; respHeaders: Fn | null; respBody: Fn | null; respTrailers: Fn | null;
    httpCallResponse: Fn | null; queueReady: Fn | null; foreign: Fn | null;
    grpcInitial: Fn | null; grpcReceive: Fn | null; grpcTrailing: Fn | null; grpcClose: Fn | null;
    newConnection: Fn | null; downstreamData: Fn | null; upstreamData: Fn | null; downstreamClose: Fn | null; upstreamClose: Fn | null;
  } = {} as never;
  private mallocName = 'malloc';
  /** context id the current host->VM call runs on; effective context (0 = none) */
  cur = 0;
  eff = 0;
  curStream: HttpStream | null = null;
  /** The TCP connection the current host->VM call runs on (network filter contexts). */
  curConn: TcpConnection | null = null;
  restrict = 0; // 0 none, 1 start functions, 2 allocator
  after: Array<() => void> = [];
  draining = false;
  stopNext = false;
  streams = new Map<number, HttpStream>();
  connections = new Map<number, TcpConnection>();
  private nextContextId = 2;
  private pluginConfig: Uint8Array | null = null;
  private vmConfigBytes: Uint8Array;
  private configBytes: Uint8Array;
  private logLevel: number;
  private rootDonePending = false;
  private tickPeriodMs = 0;
  private nextHttpCallId = 0;
  private calls = new Map<number, PendingHttpCall & { trailersRaw: HeaderList }>();
  private callLog: PendingHttpCall[] = [];
  private callResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | null = null;
  private statusCode = 0;
  private statusMessage = '';
  /** gRPC callouts (calls and streams) of this VM; see pendingGrpcCalls() and friends. */
  readonly grpc: GrpcCallouts = new GrpcCallouts({
    knownClusters: () => this.opts.clusters,
    grpcCallback: (name: GrpcCallbackName, token: number, n: number) => this.grpcCallback(name, token, n),
    setStatus: (code: number, message: string) => { this.statusCode = code; this.statusMessage = message; },
    defer: (fn: () => void) => { this.after.push(fn); },
    warn: (message: string) => this.log(3, message, true),
  });
  private metricStore: MetricStore;
  private rootProps: Record<string, PropertyValue> = {};
  private envEntries: Uint8Array[];
  private now: () => bigint;
  private loggedPrefixRoot: string;
  private loggedPrefixStream: string;

  constructor(private module: WebAssembly.Module, private info: ModuleInfo | null, options: PluginOptions, private maxPages: number) {
    this.opts = options;
    this.pluginName = options.pluginName ?? '';
    this.rootId = options.rootId ?? '';
    this.vmId = options.vmId ?? '';
    this.failOpen = options.failurePolicy === 'FAIL_OPEN';
    this.reloadPolicy = options.failurePolicy === 'FAIL_RELOAD';
    this.reloadIntervalMs = options.reloadBackoffMs ?? 1000;
    this.bufferLimit = options.bufferLimitBytes ?? 1024 * 1024;
    this.allowStopIteration = !!options.allowOnHeadersStopIteration;
    this.logLevel = LOG_LEVELS.indexOf(options.logLevel ?? 'trace');
    this.metricStore = new MetricStore(options.histogramBuckets);
    const c = options.config;
    this.configBytes = c === undefined ? EMPTY : typeof c === 'string' ? Buffer.from(c) : c instanceof Uint8Array ? c : Buffer.from(JSON.stringify(c));
    const v = options.vmConfig;
    this.vmConfigBytes = v === undefined ? EMPTY : typeof v === 'string' ? Buffer.from(v) : v;
    this.envEntries = Object.entries(options.env ?? {}).map(([k, val]) => Buffer.from(`${k}=${val}\0`));
    this.now = options.now ?? (() => process.hrtime.bigint() + EPOCH_OFFSET);
    const parts = (xs: string[]) => xs.filter(Boolean).join(' ');
    this.loggedPrefixRoot = parts([this.rootId, this.vmId]);
    this.loggedPrefixStream = parts([this.pluginName, this.rootId, this.vmId]);
    const exportNames = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const abi = exportNames.find((n) => /^proxy_abi_version_/.test(n));
    if (abi === 'proxy_abi_version_0_2_1') this.abiVersion = '0.2.1';
    else if (abi === 'proxy_abi_version_0_2_0') this.abiVersion = '0.2.0';
    else if (abi === 'proxy_abi_version_0_1_0') throw new PluginLoadError('Failed to load Wasm module: ABI version 0.1.0 is not supported by this host (0.2.0 and 0.2.1 are)');
    else throw new PluginLoadError('Failed to load Wasm module: Missing or unknown Proxy-Wasm ABI version');
  }

  // ------------------------------------------------------------------ public API
  get tickPeriod(): number { return this.tickPeriodMs; }
  clearLogs(): void { this.logs.length = 0; }
  memoryBytes(): number { return this.memory ? this.memory.buffer.byteLength : 0; }
  metric(name: string): MetricValue | undefined { const m = this.metricStore.find(name); return m && MetricStore.value(m, this.metricStore.buckets); }
  metrics(): Record<string, MetricValue> {
    const out: Record<string, MetricValue> = {};
    for (const m of this.metricStore.all()) { const v = MetricStore.value(m, this.metricStore.buckets); out[m.name] = typeof v === 'number' ? v : { count: v.count, sum: v.sum } as never; }
    return out;
  }
  prometheus(): string { return prometheusText(this.metricStore.all().map((m) => ({ m, buckets: this.metricStore.buckets })), this.opts.statsTags ?? []); }
  /** Metric objects for a shared admin endpoint aggregating several plugins. */
  metricObjects() { return this.metricStore.all().map((m) => ({ m, buckets: this.metricStore.buckets })); }
  pendingHttpCalls(): PendingHttpCall[] { return [...this.calls.values()].map(({ trailersRaw: _t, ...c }) => c); }
  /** Every http call dispatched so far (answered or not). */
  httpCallLog(): PendingHttpCall[] { return this.callLog; }

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

  /** Run a gRPC callback on the root context (Envoy delivers every gRPC callback there). */
  private grpcCallback(name: GrpcCallbackName, token: number, n: number): boolean {
    const fn = name === 'proxy_on_grpc_receive' ? this.ex.grpcReceive : name === 'proxy_on_grpc_close' ? this.ex.grpcClose
      : name === 'proxy_on_grpc_receive_initial_metadata' ? this.ex.grpcInitial : this.ex.grpcTrailing;
    if (this.failed || this.closed || !fn) return false;
    this.invoke(name, fn, this.rootContextId, this.rootContextId, token, n);
    this.afterRootCall();
    return true;
  }

  newStream(opts: StreamOptions = {}): HttpStream {
    if (this.closed) throw new Error('plugin is closed');
    if (this.failed && this.reloadPolicy && this.firstConfigured) this.maybeReload();
    if (!this.configured && !this.failed) throw new Error('plugin is not configured (proxy_on_vm_start/proxy_on_configure returned false): Envoy rejects this configuration, no stream can use it');
    const id = this.nextContextId++;
    const s = new HttpStream(this, id, opts);
    this.streams.set(id, s);
    return s;
  }

  /**
   * A new downstream connection through this plugin as a NETWORK filter (Envoy envoy.filters.network.wasm):
   * context create + proxy_on_new_connection run now (`newConnectionStatus`); drive it with downstreamData /
   * upstreamData / closeDownstream / closeUpstream. Context ids are shared with HTTP streams.
   */
  newConnection(opts: ConnectionOptions = {}): TcpConnection {
    if (this.closed) throw new Error('plugin is closed');
    if (this.failed && this.reloadPolicy && this.firstConfigured) this.maybeReload();
    if (!this.configured && !this.failed) throw new Error('plugin is not configured (proxy_on_vm_start/proxy_on_configure returned false): Envoy rejects this configuration, no connection can use it');
    const c = new TcpConnection(this, this.failed && this.failOpen ? 0 : this.nextContextId++, opts);
    if (this.failed && this.failOpen) c.skip = true; // Envoy createFilter: fail open skips the filter
    else this.connections.set(c.id, c);
    c.open();
    return c;
  }

  connectionDone(c: TcpConnection): void { if (this.connections.get(c.id) === c) this.connections.delete(c.id); }

  exchange(req: ExchangeRequest = {}): Promise<ExchangeResult> {
    return runExchange(this, req);
  }

  respondHttpCall(token: number, answer: HttpCallAnswer): void {
    const call = this.calls.get(token);
    if (!call) throw new Error(`no pending http call with token ${token}`);
    this.calls.delete(token);
    if (this.failed || this.closed || !this.ex.httpCallResponse) return;
    const headers = new HeaderMap('other', answer.headers);
    const body = toBytes(answer.body ?? EMPTY);
    const trailers = new HeaderMap('other', answer.trailers ?? []);
    this.statusCode = S.Ok; this.statusMessage = '';
    this.callResponse = { headers, body, trailers };
    this.invoke('proxy_on_http_call_response', this.ex.httpCallResponse, this.rootContextId, this.rootContextId, token, headers.size, body.length, trailers.size);
    this.callResponse = null;
    this.afterRootCall();
  }

  /** reset -> on_http_call_response(token, 0, 0, 0) with get_status (BrokenConnection, "reset"); timeout -> router's 504. */
  failHttpCall(token: number, reason: 'reset' | 'timeout'): void {
    if (reason === 'timeout') {
      this.respondHttpCall(token, { headers: [[':status', '504'], ['content-length', '24'], ['content-type', 'text/plain']], body: 'upstream request timeout' });
      return;
    }
    const call = this.calls.get(token);
    if (!call) throw new Error(`no pending http call with token ${token}`);
    this.calls.delete(token);
    if (this.failed || this.closed || !this.ex.httpCallResponse) return;
    this.statusCode = S.BrokenConnection; this.statusMessage = 'reset';
    this.invoke('proxy_on_http_call_response', this.ex.httpCallResponse, this.rootContextId, this.rootContextId, token, 0, 0, 0);
    this.afterRootCall();
  }

  /** Fire proxy_on_tick on the root context if a tick period is set. Returns whether it fired. */
  tick(): boolean {
    if (this.tickPeriodMs === 0 || this.failed || this.closed || !this.ex.tick) return false;
    this.invoke('proxy_on_tick', this.ex.tick, this.rootContextId, this.rootContextId);
    this.afterRootCall();
    return true;
  }

  close(): void {
    if (this.closed) return;
    for (const s of [...this.streams.values()]) s.abandon();
    for (const c of [...this.connections.values()]) c.abandon();
    this.calls.clear();
    this.grpc.cancelAll(); // Envoy ~Context: outstanding gRPC calls cancelled, streams reset, no callbacks
    if (!this.failed && this.ex.onDone) {
      const done = this.invoke('proxy_on_done', this.ex.onDone, this.rootContextId, this.rootContextId);
      this.drainAfter();
      if (!this.failed && done === 0) { this.rootDonePending = true; }
    }
    if (!this.rootDonePending) this.deleteRoot();
    this.closed = true;
    shared.releaseVm(this.vmId);
  }

  // ------------------------------------------------------------------ FAIL_RELOAD
  /** Envoy PluginConfig::maybeReloadHandleIfNeeded: a failed VM is replaced by a fresh one (instantiate, vm_start,
   *  configure) for new streams, at most once per backoff interval since the failure / the last attempt. */
  private maybeReload(): void {
    const clock = this.opts.clockMs ?? Date.now;
    const now = clock();
    if (now - this.failedAtMs < this.reloadIntervalMs) return;
    const base = this.opts.reloadBackoffMs ?? 1000;
    const max = this.opts.reloadMaxBackoffMs ?? base * 10;
    this.reloads++;
    this.generation++;
    this.log(3, `Wasm VM of ${this.pluginName || this.rootId || 'plugin'} failed: reloading it (reload ${this.reloads}, next backoff ${Math.min(max, this.reloadIntervalMs * 2)} ms)`, true);
    // drop the failed VM: its streams keep failing (older generation), its http calls are cancelled
    this.streams.clear(); this.connections.clear(); this.calls.clear(); this.grpc.cancelAll(); this.after.length = 0;
    this.failed = false; this.configured = false; this.ex = {} as never; this.cur = 0; this.eff = 0; this.curStream = null; this.curConn = null;
    this.restrict = 0; this.draining = false; this.stopNext = false; this.nextContextId = 2; this.rootDonePending = false;
    this.pluginConfig = null; this.callResponse = null; this.statusCode = 0; this.statusMessage = ''; this.rootProps = {}; this.memBuf = null;
    if (this.tickPeriodMs) { this.tickPeriodMs = 0; this.onTickPeriod?.(0); }
    this.reloadIntervalMs = Math.min(max, this.reloadIntervalMs * 2);
    try { this.instantiate(new WebAssembly.Instance(this.module, this.buildImports())); }
    catch (e) { this.log(5, `Wasm VM reload failed: ${(e as Error).message}`, true); this.failed = true; }
    if (!this.configured) { this.failed = true; this.failedAtMs = clock(); }
  }

  /** A stream completed on a healthy VM: the reload backoff starts from its base again. */
  streamSucceeded(): void { if (this.reloadPolicy) this.reloadIntervalMs = this.opts.reloadBackoffMs ?? 1000; }

  // ------------------------------------------------------------------ startup
  async start(): Promise<void> {
    if (this.info) this.checkLink(this.info);
    else this.checkLinkNames();
    const imports = this.buildImports();
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(this.module, imports);
    } catch (e) {
      throw new PluginLoadError(`Failed to load Wasm module: ${e instanceof RestrictedCallback ? 'a host function was called from the start section' : (e as Error).message}`);
    }
    this.instantiate(instance);
  }

  /** Wire a fresh instance, run its start functions, then the root context (create, vm_start, configure). */
  private instantiate(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const ex = this.instance.exports as Record<string, unknown>;
    const mem = ex.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new PluginLoadError('Failed to load Wasm module: the module does not export its memory as "memory"');
    this.memory = mem;
    this.refresh();
    const f = (n: string) => (typeof ex[n] === 'function' ? (ex[n] as Fn) : null);
    if (f('malloc')) { this.ex.malloc = f('malloc'); this.mallocName = 'malloc'; }
    else if (f('proxy_on_memory_allocate')) { this.ex.malloc = f('proxy_on_memory_allocate'); this.mallocName = 'proxy_on_memory_allocate'; }
    else throw new PluginLoadError('Failed to load Wasm module: Wasm module is missing malloc function.');
    Object.assign(this.ex, {
      ctxCreate: f('proxy_on_context_create'), onDone: f('proxy_on_done'), onLog: f('proxy_on_log'), onDelete: f('proxy_on_delete'),
      vmStart: f('proxy_on_vm_start'), configure: f('proxy_on_configure'), tick: f('proxy_on_tick'),
      reqHeaders: f('proxy_on_request_headers'), reqBody: f('proxy_on_request_body'), reqTrailers: f('proxy_on_request_trailers'),
      respHeaders: f('proxy_on_response_headers'), respBody: f('proxy_on_response_body'), respTrailers: f('proxy_on_response_trailers'),
      httpCallResponse: f('proxy_on_http_call_response'), queueReady: f('proxy_on_queue_ready'), foreign: f('proxy_on_foreign_function'),
      grpcInitial: f('proxy_on_grpc_receive_initial_metadata'), grpcReceive: f('proxy_on_grpc_receive'),
      grpcTrailing: f('proxy_on_grpc_receive_trailing_metadata'), grpcClose: f('proxy_on_grpc_close'),
      newConnection: f('proxy_on_new_connection'), downstreamData: f('proxy_on_downstream_data'), upstreamData: f('proxy_on_upstream_data'),
      downstreamClose: f('proxy_on_downstream_connection_close'), upstreamClose: f('proxy_on_upstream_connection_close'),
    });
    if (!this.acquired) { shared.acquireVm(this.vmId); this.acquired = true; }
    // WASI reactor (_initialize [+ main / __main_void]) or command (_start), with restricted hostcalls
    this.restrict = 1;
    if (f('_initialize')) {
      this.invoke('_initialize', f('_initialize')!, 0);
      if (!this.failed && f('main')) this.invoke('main', f('main')!, 0, 0, 0);
      else if (!this.failed && f('__main_void')) this.invoke('__main_void', f('__main_void')!, 0);
    } else if (f('_start')) this.invoke('_start', f('_start')!, 0);
    this.restrict = 0;
    if (this.failed) { this.drainAfter(); return; }
    // root context: create, vm_start, configure (Envoy order)
    if (this.ex.ctxCreate) this.invoke('proxy_on_context_create', this.ex.ctxCreate, this.rootContextId, this.rootContextId, 0);
    let ok = !this.failed;
    if (ok && this.ex.vmStart) ok = this.invoke('proxy_on_vm_start', this.ex.vmStart, this.rootContextId, this.rootContextId, this.vmConfigBytes.length) !== 0 && !this.failed;
    if (ok && this.ex.configure) {
      this.pluginConfig = this.configBytes;
      ok = this.invoke('proxy_on_configure', this.ex.configure, this.rootContextId, this.rootContextId, this.configBytes.length) !== 0 && !this.failed;
      this.pluginConfig = null;
    }
    this.drainAfter();
    this.configured = ok && !this.failed;
    if (this.generation === 0 && this.configured) this.firstConfigured = true;
    if (!this.configured && !this.failed) this.log(4, `Unable to create Wasm HTTP filter ${this.pluginName}: plugin configuration was rejected (proxy_on_vm_start/proxy_on_configure returned false)`, true);
  }

  private checkLink(info: ModuleInfo): void {
    for (const imp of info.imports) {
      const key = `${imp.module}.${imp.name}`;
      let want: string | undefined;
      if (imp.module === 'env') want = imp.name === 'proxy_get_log_level' && this.abiVersion !== '0.2.1' ? undefined : ENV_IMPORTS[imp.name];
      else if (imp.module === 'wasi_snapshot_preview1' || imp.module === 'wasi_unstable') want = WASI_IMPORTS[imp.name];
      if (imp.kind !== 0) throw new PluginLoadError(`Failed to load Wasm module due to a missing import: ${key} (importing a ${['function', 'table', 'memory', 'global', 'tag'][imp.kind] ?? 'kind ' + imp.kind} is not supported)`);
      if (!want) throw new PluginLoadError(`Failed to load Wasm module due to a missing import: ${key}`);
      if (imp.sig !== want) throw new PluginLoadError(`Failed to load Wasm module due to an import type mismatch: ${key}, want: ${sigText(want)}, but host exports: ${sigText(imp.sig ?? '?')}`);
    }
    for (const [name, sig] of info.exportSigs) {
      const want = EXPORT_SIGS[name];
      if (want && sig !== want) throw new PluginLoadError(`Failed to load Wasm module: Bad function signature for: ${name}, want: ${sigText(want)} but the module exports: ${sigText(sig)}`);
    }
  }
  private checkLinkNames(): void {
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const ok = imp.kind === 'function' && ((imp.module === 'env' && ENV_IMPORTS[imp.name] && !(imp.name === 'proxy_get_log_level' && this.abiVersion !== '0.2.1')) || ((imp.module === 'wasi_snapshot_preview1' || imp.module === 'wasi_unstable') && WASI_IMPORTS[imp.name]));
      if (!ok) throw new PluginLoadError(`Failed to load Wasm module due to a missing import: ${imp.module}.${imp.name}`);
    }
  }

  // ------------------------------------------------------------------ VM calls
  refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.memBuf) { this.memBuf = b; this.mem = Buffer.from(b); this.dv = new DataView(b); }
  }

  /** Call into the VM on context ctx. A trap fails the VM (returns -1). */
  invoke(name: string, fn: Fn, ctx: number, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    const pc = this.cur, pe = this.eff, ps = this.curStream, pconn = this.curConn;
    this.cur = ctx; this.eff = 0;
    this.curStream = ctx > 1 ? (this.streams.get(ctx) ?? null) : null;
    this.curConn = ctx > 1 && !this.curStream ? (this.connections.get(ctx) ?? null) : null;
    try {
      const r = fn(a, b, c, d, e);
      return typeof r === 'number' ? r >>> 0 : 0;
    } catch (err) {
      this.trap(name, err);
      return -1;
    } finally {
      this.cur = pc; this.eff = pe; this.curStream = ps; this.curConn = pconn;
      if (this.memory) this.checkMemory(name);
    }
  }

  private checkMemory(name: string): void {
    // Modules passed as WebAssembly.Module cannot be capped in their binary: enforce after the call.
    if (!this.failed && !this.info && this.memory.buffer.byteLength > this.maxPages * PAGE) this.trap(name, new RangeError(`linear memory exceeds the limit of ${this.maxPages * PAGE} bytes`));
  }

  trap(name: string, err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failedAtMs = (this.opts.clockMs ?? Date.now)();
    const e = err as Error;
    const kind = err instanceof WebAssembly.RuntimeError ? 'RuntimeError' : e?.name ?? 'Error';
    const frames = String(e?.stack ?? '').split('\n').filter((l) => l.includes('wasm://') || l.includes('wasm-function')).slice(0, 20);
    const bt = frames.length ? '\nProxy-Wasm plugin in-VM backtrace:\n' + frames.map((l, i) => `  ${i}: ${l.trim().replace(/^at /, '')}`).join('\n') : '';
    this.log(5, `Function: ${name} failed: Uncaught ${kind}: ${e?.message ?? String(err)}${bt}`, true);
    this.after.length = 0; // deferred actions of a failed call are dropped
  }

  /** Run deferred after-VM-call actions (local replies, continue/close, queue notifications). */
  drainAfter(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.after.length) { const a = this.after.shift()!; a(); }
    } finally { this.draining = false; }
  }

  private afterRootCall(): void {
    this.drainAfter();
    if (this.failed) for (const s of [...this.streams.values()]) s.vmFailedElsewhere();
  }

  deliverQueueReady(root: number, token: number): void {
    this.after.push(() => {
      if (this.failed || this.closed || !this.ex.queueReady) return;
      this.invoke('proxy_on_queue_ready', this.ex.queueReady, root, root, token);
      if (this.failed) for (const s of [...this.streams.values()]) s.vmFailedElsewhere();
    });
  }

  streamDone(s: HttpStream): void { if (this.streams.get(s.id) === s) this.streams.delete(s.id); }

  private deleteRoot(): void {
    if (!this.failed && this.ex.onDelete) { this.invoke('proxy_on_delete', this.ex.onDelete, this.rootContextId, this.rootContextId); this.drainAfter(); }
  }

  log(level: number, message: string, host = false): void {
    if (level < this.logLevel) return;
    const name = LOG_LEVELS[level];
    const entry: LogEntry = { level: name, message };
    this.logs.push(entry);
    if (this.opts.printLogs || this.opts.logSink) {
      // Envoy Context::log runs on the effective context (e.g. a stream during an http call response)
      const prefix = host ? '' : (this.eff || this.cur) > 1 ? this.loggedPrefixStream : this.loggedPrefixRoot;
      const line = host ? `[${name}] ${message}` : `[${name}] wasm log${prefix ? ' ' + prefix : ''}: ${message}`;
      if (this.opts.logSink) this.opts.logSink(line, entry);
      if (this.opts.printLogs) process.stderr.write(line + '\n');
    }
  }

  // ------------------------------------------------------------------ memory helpers
  alloc(size: number): number {
    const prev = this.restrict;
    this.restrict = 2;
    try {
      return (this.ex.malloc!(size) as number) >>> 0;
    } catch (e) {
      this.trap(this.mallocName, e);
      throw e;
    } finally {
      this.restrict = prev;
      this.refresh();
    }
  }
  ok(ptr: number, len: number): boolean { return ptr + len <= this.mem.length; }
  /** Copy bytes into a fresh VM allocation and store ptr/size at the given addresses. */
  out(bytes: Uint8Array | null, pp: number, sp: number): number {
    const len = bytes ? bytes.length : 0;
    if (!this.ok(pp, 4) || !this.ok(sp, 4)) return S.InvalidMemoryAccess;
    if (len === 0) { this.dv.setUint32(pp, 0, true); this.dv.setUint32(sp, 0, true); return S.Ok; }
    const p = this.alloc(len);
    if (p === 0 || !this.ok(p, len)) return S.InvalidMemoryAccess;
    this.mem.set(bytes!, p);
    this.dv.setUint32(pp, p, true); this.dv.setUint32(sp, len, true);
    return S.Ok;
  }
  outString(s: string, pp: number, sp: number): number { return this.out(Buffer.from(s), pp, sp); }
  str(ptr: number, len: number): string { return (this.mem as FastBuffer).utf8Slice(ptr, ptr + len); }
  /** A view into VM memory: valid until the next allocation or memory growth. */
  bytes(ptr: number, len: number): Uint8Array { return this.mem.subarray(ptr, ptr + len); }
  /** A copy of VM memory (what the host keeps beyond the hostcall). */
  copy(ptr: number, len: number): Uint8Array { return copyBytes(this.mem.subarray(ptr, ptr + len)); }
  val(ptr: number, len: number): HeaderValue { return decodeBytes(this.mem, ptr, len); }
  // Buffer#utf8Slice/latin1Slice are what toString() dispatches to, without its encoding lookup
  // (about half the cost for the short strings header names are).
  key(ptr: number, len: number): string { return (this.mem as FastBuffer).utf8Slice(ptr, ptr + len); }

  private target(): HttpStream | null {
    if (this.eff !== 0) return this.streams.get(this.eff) ?? null;
    return this.curStream;
  }
  /** The TCP connection of the current (effective) context, if it is one. */
  private targetConn(): TcpConnection | null {
    if (this.eff !== 0) return this.connections.get(this.eff) ?? null;
    return this.curConn;
  }
  private restricted(name: string): never {
    if (this.restrict === 1 && START_ALLOWED.has(name)) return undefined as never;
    if (this.restrict === 2 && MALLOC_ALLOWED.has(name)) return undefined as never;
    this.log(5, `restricted_callback: ${name} called from ${this.restrict === 1 ? 'a start function (_initialize/_start/main)' : this.mallocName}`, true);
    throw new RestrictedCallback(`restricted_callback: ${name}`);
  }

  // header maps --------------------------------------------------------------
  /** Resolve a map for the current (effective) context. Returns a status when unavailable. */
  private mapFor(type: number, write: boolean): HeaderMap | number {
    if (type === 6 || type === 7) {
      if (!this.callResponse) return S.BadArgument;
      return type === 6 ? this.callResponse.headers : this.callResponse.trailers;
    }
    if (type > 7) return S.BadArgument;
    // gRPC metadata: the root's current received map, only during the matching callback (Envoy getMap)
    if (type === 4) return this.grpc.initialMetadata ?? S.BadArgument;
    if (type === 5) return this.grpc.trailingMetadata ?? S.BadArgument;
    const s = this.target();
    if (!s || type > 3) return S.BadArgument;
    return s.mapFor(type, write);
  }

  // ------------------------------------------------------------------ imports
  private buildImports(): WebAssembly.Imports {
    const h = this;
    const R = (name: string) => { if (h.restrict !== 0) h.restricted(name); };
    const env: Record<string, unknown> = {
      proxy_log(level: number, p: number, n: number): number {
        if (h.restrict === 2 || h.restrict === 1) { /* allowed */ }
        if (level > 5) return S.BadArgument;
        h.refresh();
        if (!h.ok(p, n)) return S.InvalidMemoryAccess;
        if (level >= h.logLevel) h.log(level, h.str(p, n));
        return S.Ok;
      },
      proxy_get_log_level(rp: number): number { R('proxy_get_log_level'); h.refresh(); if (!h.ok(rp, 4)) return S.InvalidMemoryAccess; h.dv.setUint32(rp, h.logLevel, true); return S.Ok; },
      proxy_get_current_time_nanoseconds(rp: number): number {
        R('proxy_get_current_time_nanoseconds'); h.refresh(); if (!h.ok(rp, 8)) return S.InvalidMemoryAccess;
        h.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : BigInt(Date.now()) * 1000000n, true); return S.Ok;
      },
      proxy_set_tick_period_milliseconds(ms: number): number { R('proxy_set_tick_period_milliseconds'); h.tickPeriodMs = ms >>> 0; h.onTickPeriod?.(h.tickPeriodMs); return S.Ok; },
      proxy_done(): number {
        R('proxy_done');
        if (!h.rootDonePending) return S.NotFound;
        h.rootDonePending = false;
        h.after.push(() => h.deleteRoot());
        return S.Ok;
      },
      proxy_set_effective_context(id: number): number {
        R('proxy_set_effective_context');
        if (id !== h.rootContextId && !h.streams.has(id) && !h.connections.has(id)) return S.BadArgument;
        h.eff = id; return S.Ok;
      },
      proxy_get_buffer_bytes(type: number, start: number, max: number, pp: number, sp: number): number {
        R('proxy_get_buffer_bytes'); h.refresh();
        const b = h.buffer(type);
        if (typeof b === 'number') return b;
        start >>>= 0; max >>>= 0;
        if (start >= b.length || max === 0) return h.out(null, pp, sp);
        const end = Math.min(b.length, start + max);
        return h.out(b.subarray(start, end), pp, sp);
      },
      proxy_get_buffer_status(type: number, sp: number, fp: number): number {
        R('proxy_get_buffer_status'); h.refresh();
        const b = h.buffer(type);
        if (typeof b === 'number') return b;
        if (!h.ok(sp, 4) || !h.ok(fp, 4)) return S.InvalidMemoryAccess;
        h.dv.setUint32(sp, b.length, true); h.dv.setUint32(fp, 0, true); return S.Ok;
      },
      proxy_set_buffer_bytes(type: number, start: number, len: number, dp: number, dl: number): number {
        R('proxy_set_buffer_bytes'); h.refresh();
        if (!h.ok(dp, dl)) return S.InvalidMemoryAccess;
        const conn = h.targetConn();
        if ((type === 2 || type === 3) && conn) return conn.setData(type, start >>> 0, len >>> 0, h.bytes(dp, dl));
        // GRPC_CALL_MESSAGE: the root's receive buffer is a mutable Buffer::Instance during proxy_on_grpc_receive
        // (Envoy getBuffer -> buffer_.set(grpc_receive_buffer_.get()), copyFrom rules); outside it BufferBase::copyFrom
        if (type === 5) return h.grpc.setMessage(start >>> 0, len >>> 0, h.bytes(dp, dl));
        if (type !== 0 && type !== 1) return type > 8 ? S.BadArgument : (h.buffer(type) === S.NotFound ? S.NotFound : S.BadArgument);
        const s = h.target();
        if (!s) return S.BadArgument; // root or TCP context: no body buffer (Envoy BufferBase::copyFrom on an empty buffer)
        return s.setBody(type, start >>> 0, len >>> 0, h.bytes(dp, dl));
      },
      proxy_get_header_map_size(type: number, sp: number): number {
        R('proxy_get_header_map_size'); h.refresh();
        const m = h.mapFor(type, false); if (typeof m === 'number') return m;
        if (!h.ok(sp, 4)) return S.InvalidMemoryAccess;
        h.dv.setUint32(sp, m.byteSize(), true); return S.Ok;
      },
      proxy_get_header_map_pairs(type: number, pp: number, sp: number): number {
        R('proxy_get_header_map_pairs'); h.refresh();
        const m = h.mapFor(type, false);
        if (typeof m === 'number') return m === S.BadArgument ? h.out(null, pp, sp) : m;
        if (!h.ok(pp, 4) || !h.ok(sp, 4)) return S.InvalidMemoryAccess;
        if (m.size === 0) return h.out(null, pp, sp);
        const size = pairsSize(m.names, m.values);
        const p = h.alloc(size);
        if (p === 0 || !h.ok(p, size)) return S.InvalidMemoryAccess;
        writePairs(h.mem, h.dv, p, m.names, m.values);
        h.dv.setUint32(pp, p, true); h.dv.setUint32(sp, size, true);
        return S.Ok;
      },
      proxy_set_header_map_pairs(type: number, p: number, n: number): number {
        R('proxy_set_header_map_pairs'); h.refresh();
        if (!h.ok(p, n)) return S.InvalidMemoryAccess;
        const m = h.mapFor(type, true); if (typeof m === 'number') return m;
        m.setAll(readPairs(h.mem, h.dv, p, n)); h.mapEdited(type); return S.Ok;
      },
      proxy_get_header_map_value(type: number, kp: number, kl: number, pp: number, sp: number): number {
        R('proxy_get_header_map_value'); h.refresh();
        if (!h.ok(kp, kl)) return S.InvalidMemoryAccess;
        const m = h.mapFor(type, false); if (typeof m === 'number') return m;
        const v = m.get(h.key(kp, kl));
        if (v === undefined) return S.NotFound;
        return h.out(typeof v === 'string' ? Buffer.from(v) : v, pp, sp);
      },
      proxy_add_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
        R('proxy_add_header_map_value'); h.refresh();
        if (!h.ok(kp, kl) || !h.ok(vp, vl)) return S.InvalidMemoryAccess;
        const m = h.mapFor(type, true); if (typeof m === 'number') return m;
        m.add(h.key(kp, kl), h.val(vp, vl)); h.mapEdited(type); return S.Ok;
      },
      proxy_replace_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
        R('proxy_replace_header_map_value'); h.refresh();
        if (!h.ok(kp, kl) || !h.ok(vp, vl)) return S.InvalidMemoryAccess;
        const m = h.mapFor(type, true); if (typeof m === 'number') return m;
        m.replace(h.key(kp, kl), h.val(vp, vl)); h.mapEdited(type); return S.Ok;
      },
      proxy_remove_header_map_value(type: number, kp: number, kl: number): number {
        R('proxy_remove_header_map_value'); h.refresh();
        if (!h.ok(kp, kl)) return S.InvalidMemoryAccess;
        const m = h.mapFor(type, true); if (typeof m === 'number') return m;
        m.remove(h.key(kp, kl)); h.mapEdited(type); return S.Ok;
      },
      proxy_continue_stream(type: number): number {
        R('proxy_continue_stream');
        if (type > 3) return S.BadArgument;
        if (type === 3) return S.Unimplemented;
        const conn = h.targetConn();
        if (conn) { if (type === 2) conn.continueReading(); return S.Ok; } // no decoder/encoder callbacks in TCP: Ok
        const s = h.target();
        if (!s) return S.Ok; // root context: no decoder/encoder callbacks, nothing to resume (Envoy Context::continueStream)
        if (type === 2) return S.Ok;
        s.continueStream(type);
        return S.Ok;
      },
      proxy_close_stream(type: number): number {
        R('proxy_close_stream');
        if (type > 3) return S.BadArgument;
        const conn = h.targetConn();
        if (conn) { if (type >= 2) conn.closeByFilter(type === 2 ? 'wasm_downstream_close' : 'wasm_upstream_close'); return S.Ok; }
        const s = h.target();
        if (!s) return S.Ok; // root context: no stream or connection to close (Envoy Context::closeStream)
        s.closeStream(type);
        return S.Ok;
      },
      proxy_get_status(cp: number, mp: number, ms: number): number {
        R('proxy_get_status'); h.refresh();
        if (!h.ok(cp, 4)) return S.InvalidMemoryAccess;
        h.dv.setUint32(cp, h.statusCode, true);
        return h.outString(h.statusMessage, mp, ms);
      },
      proxy_send_local_response(status: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number, grpc: number): number {
        R('proxy_send_local_response'); h.refresh();
        if (!h.ok(dp, dl) || !h.ok(bp, bl) || !h.ok(hp, hl)) return S.InvalidMemoryAccess;
        const s = h.target();
        if (!s) {
          // TCP context: no decoder callbacks, Envoy answers Ok and sends nothing
          const conn = h.targetConn();
          if (conn) { conn.ignoredLocalResponses++; return S.Ok; }
          return S.BadArgument;
        }
        const details = h.str(dp, dl).replace(/\s/g, '_');
        const body = h.copy(bp, bl);
        const headers = readPairs(h.mem, h.dv, hp, hl).map(([k, v]) => [k.toLowerCase(), v] as [string, HeaderValue]);
        const g = grpc | 0;
        h.stopNext = true;
        h.after.push(() => s.sendLocalReply(status >>> 0, details, body, headers, g >= 0 && g <= 16 ? g : null));
        return S.Ok;
      },
      proxy_http_call(up: number, ul: number, hp: number, hl: number, bp: number, bl: number, tp: number, tl: number, timeout: number, rt: number): number {
        R('proxy_http_call'); h.refresh();
        if (!h.ok(up, ul) || !h.ok(hp, hl) || !h.ok(bp, bl) || !h.ok(tp, tl) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        const cluster = h.str(up, ul);
        if (h.opts.clusters && !h.opts.clusters.includes(cluster)) return S.BadArgument;
        const hm = new HeaderMap('request-headers', readPairs(h.mem, h.dv, hp, hl));
        if (!hm.has(':path') || !hm.has(':method') || !(hm.has(':authority') || hm.has('host'))) return S.BadArgument;
        if ((timeout | 0) < 0) return S.BadArgument;
        const body = h.copy(bp, bl);
        if (body.length) hm.replace('content-length', String(body.length));
        const trailersRaw = readPairs(h.mem, h.dv, tp, tl);
        const token = (h.nextHttpCallId += 4);
        const call = { token, cluster, headers: hm.toStringList(), body, trailers: trailersRaw.map(([k, v]) => [k, valueToString(v)] as [string, string]), timeoutMs: timeout >>> 0, contextId: h.eff || h.cur, trailersRaw };
        h.calls.set(token, call);
        h.callLog.push({ token, cluster, headers: call.headers, body, trailers: call.trailers, timeoutMs: call.timeoutMs, contextId: call.contextId });
        h.onHttpCall?.(call);
        h.dv.setUint32(rt, token, true);
        return S.Ok;
      },
      proxy_grpc_call(up: number, ul: number, sp: number, sl: number, mp: number, ml: number, ip: number, il: number, gp: number, gl: number, timeout: number, rt: number): number {
        R('proxy_grpc_call'); h.refresh();
        if (!h.ok(up, ul) || !h.ok(sp, sl) || !h.ok(mp, ml) || !h.ok(ip, il) || !h.ok(gp, gl) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        const r = h.grpc.call(h.copy(up, ul), h.str(sp, sl), h.str(mp, ml), readPairs(h.mem, h.dv, ip, il), h.bytes(gp, gl), timeout >>> 0, h.eff || h.cur);
        if (r.status !== S.Ok) return r.status;
        h.dv.setUint32(rt, r.token!, true);
        return S.Ok;
      },
      proxy_grpc_stream(up: number, ul: number, sp: number, sl: number, mp: number, ml: number, ip: number, il: number, rt: number): number {
        R('proxy_grpc_stream'); h.refresh();
        if (!h.ok(up, ul) || !h.ok(sp, sl) || !h.ok(mp, ml) || !h.ok(ip, il) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        const r = h.grpc.stream(h.copy(up, ul), h.str(sp, sl), h.str(mp, ml), readPairs(h.mem, h.dv, ip, il), h.eff || h.cur);
        if (r.status !== S.Ok) return r.status;
        h.dv.setUint32(rt, r.token!, true);
        return S.Ok;
      },
      proxy_grpc_send(token: number, p: number, n: number, eos: number): number {
        R('proxy_grpc_send'); h.refresh();
        if (!h.ok(p, n)) return S.InvalidMemoryAccess;
        return h.grpc.send(token >>> 0, h.bytes(p, n), eos !== 0);
      },
      proxy_grpc_cancel(token: number): number { R('proxy_grpc_cancel'); return h.grpc.cancel(token >>> 0); },
      proxy_grpc_close(token: number): number { R('proxy_grpc_close'); return h.grpc.close(token >>> 0); },
      proxy_set_shared_data(kp: number, kl: number, vp: number, vl: number, cas: number): number {
        R('proxy_set_shared_data'); h.refresh();
        if (!h.ok(kp, kl) || !h.ok(vp, vl)) return S.InvalidMemoryAccess;
        return shared.setSharedData(h.vmId, h.str(kp, kl), h.bytes(vp, vl), cas >>> 0) ? S.Ok : S.CasMismatch;
      },
      proxy_get_shared_data(kp: number, kl: number, pp: number, sp: number, cp: number): number {
        R('proxy_get_shared_data'); h.refresh();
        if (!h.ok(kp, kl) || !h.ok(cp, 4)) return S.InvalidMemoryAccess;
        const e = shared.getSharedData(h.vmId, h.str(kp, kl));
        if (!e) return S.NotFound;
        const r = h.out(e.value, pp, sp);
        if (r === S.Ok) h.dv.setUint32(cp, e.cas, true);
        return r;
      },
      proxy_register_shared_queue(np: number, nl: number, rt: number): number {
        R('proxy_register_shared_queue'); h.refresh();
        if (!h.ok(np, nl) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        h.dv.setUint32(rt, shared.registerQueue(h.vmId, h.str(np, nl), h, h.rootContextId), true); return S.Ok;
      },
      proxy_resolve_shared_queue(vp: number, vl: number, np: number, nl: number, rt: number): number {
        R('proxy_resolve_shared_queue'); h.refresh();
        if (!h.ok(vp, vl) || !h.ok(np, nl) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        const vm = vl === 0 ? h.vmId : h.str(vp, vl);
        const t = shared.resolveQueue(vm, h.str(np, nl));
        if (t === undefined) return S.NotFound;
        h.dv.setUint32(rt, t, true); return S.Ok;
      },
      proxy_enqueue_shared_queue(token: number, p: number, n: number): number {
        R('proxy_enqueue_shared_queue'); h.refresh();
        if (!h.ok(p, n)) return S.InvalidMemoryAccess;
        return shared.enqueue(token >>> 0, h.bytes(p, n)) ? S.Ok : S.NotFound;
      },
      proxy_dequeue_shared_queue(token: number, pp: number, sp: number): number {
        R('proxy_dequeue_shared_queue'); h.refresh();
        const d = shared.dequeue(token >>> 0);
        if (d === undefined) return S.NotFound;
        if (d === null) return S.Empty;
        return h.out(d, pp, sp);
      },
      proxy_define_metric(type: number, np: number, nl: number, rt: number): number {
        R('proxy_define_metric'); h.refresh();
        if (type > 2) return S.BadArgument;
        if (!h.ok(np, nl) || !h.ok(rt, 4)) return S.InvalidMemoryAccess;
        h.dv.setUint32(rt, h.metricStore.define(type, h.str(np, nl)), true); return S.Ok;
      },
      proxy_record_metric(id: number, v: bigint): number {
        R('proxy_record_metric');
        const m = h.metricStore.get(id >>> 0); if (!m) return S.NotFound;
        h.metricStore.record(m, v); return S.Ok;
      },
      proxy_increment_metric(id: number, d: bigint): number {
        R('proxy_increment_metric');
        const m = h.metricStore.get(id >>> 0); if (!m) return S.NotFound;
        if (m.type === 0) { if (d <= 0n) return S.BadArgument; m.value = BigInt.asUintN(64, m.value + d); return S.Ok; }
        if (m.type === 1) { m.value = BigInt.asUintN(64, m.value + d); return S.Ok; }
        return S.BadArgument;
      },
      proxy_get_metric(id: number, rp: number): number {
        R('proxy_get_metric'); h.refresh();
        const m = h.metricStore.get(id >>> 0); if (!m) return S.NotFound;
        if (m.type === 2) return S.BadArgument;
        if (!h.ok(rp, 8)) return S.InvalidMemoryAccess;
        h.dv.setBigUint64(rp, m.value, true); return S.Ok;
      },
      proxy_get_property(pp: number, pl: number, rp: number, rs: number): number {
        R('proxy_get_property'); h.refresh();
        if (!h.ok(pp, pl)) return S.InvalidMemoryAccess;
        let path = h.str(pp, pl);
        if (path.endsWith('\0')) path = path.slice(0, -1);
        const v = h.property(path.split('\0'));
        if (v === undefined) return S.NotFound;
        let bytes: Uint8Array;
        try { bytes = serializeProperty(v); } catch { return S.SerializationFailure; }
        return h.out(bytes, rp, rs);
      },
      proxy_set_property(pp: number, pl: number, vp: number, vl: number): number {
        R('proxy_set_property'); h.refresh();
        if (!h.ok(pp, pl) || !h.ok(vp, vl)) return S.InvalidMemoryAccess;
        let path = h.str(pp, pl);
        if (path.endsWith('\0')) path = path.slice(0, -1);
        const key = path.split('\0').join('.');
        const s = h.target();
        const value = h.copy(vp, vl);
        const conn = s ? null : h.targetConn();
        if (s) s.filterState[key] = value; else if (conn) conn.filterState[key] = value; else h.rootProps[key] = value;
        return S.Ok;
      },
      proxy_call_foreign_function(np: number, nl: number, ap: number, al: number, rp: number, rs: number): number {
        R('proxy_call_foreign_function'); h.refresh();
        if (!h.ok(np, nl) || !h.ok(ap, al)) return S.InvalidMemoryAccess;
        const name = h.str(np, nl);
        const args = h.bytes(ap, al);
        try {
          switch (name) {
            case 'compress': return h.out(deflateSync(args), rp, rs);
            case 'uncompress': return h.out(inflateSync(args), rp, rs);
            case 'clear_route_cache': return h.out(null, rp, rs);
            case 'declare_property': return h.out(null, rp, rs);
            default: return S.NotFound;
          }
        } catch { return S.SerializationFailure; }
      },
      pthread_equal(a: number, b: number): number { return a === b ? 1 : 0; },
      emscripten_notify_memory_growth(): void { h.refresh(); },
    };
    if (this.abiVersion !== '0.2.1') delete env.proxy_get_log_level;
    const wasi = this.wasiImports();
    return { env: env as WebAssembly.ModuleImports, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
  }

  /** Hooks used by the serve command. */
  onHttpCall?: (call: PendingHttpCall & { trailersRaw: HeaderList }) => void;
  onTickPeriod?: (ms: number) => void;

  private mapEdited(type: number): void {
    if (type === 0) { const s = this.target(); if (s) s.routeCacheCleared++; }
  }

  private buffer(type: number): Uint8Array | number {
    switch (type) {
      case 0: case 1: { const s = this.target(); return s ? s.bodyFor(type) : EMPTY; }
      case 4: return this.callResponse ? this.callResponse.body : S.NotFound;
      case 6: return this.vmConfigBytes;
      case 7: return this.pluginConfig ?? S.NotFound;
      // GRPC_CALL_MESSAGE: Envoy returns the root's receive buffer, an empty one outside proxy_on_grpc_receive
      case 5: return this.grpc.message ?? EMPTY;
      case 2: case 3: { const c = this.targetConn(); return c ? c.dataFor(type) : EMPTY; } // Envoy: Ok + empty without data
      case 8: return S.NotFound;
      default: return S.BadArgument;
    }
  }

  private property(segs: string[]): PropertyValue | undefined {
    const s = this.target();
    const first = segs[0];
    if (segs.length === 1) {
      if (first === 'plugin_name') return this.pluginName;
      if (first === 'plugin_root_id') return this.rootId;
      if (first === 'plugin_vm_id') return this.vmId;
    }
    if (s) return s.property(segs, this.opts.properties);
    const conn = this.targetConn();
    if (conn) return conn.property(segs, this.opts.properties);
    const r = lookupProperty(this.rootProps, segs);
    if (r !== undefined) return r;
    const o = lookupProperty(this.opts.properties, segs);
    // stream-level attributes are absent in the root context (Envoy test Property)
    if (o !== undefined && !STREAM_ROOTS.has(first)) return o;
    return undefined;
  }

  // ------------------------------------------------------------------ WASI
  private wasiImports(): WebAssembly.ModuleImports {
    const h = this;
    const R = (name: string) => { if (h.restrict !== 0) h.restricted(name); };
    const ENOSYS = 52, BADF = 8, FAULT = 21, INVAL = 28, NOTSUP = 58, NOENT = 44;
    const w: Record<string, unknown> = {
      fd_write(fd: number, iovs: number, n: number, rp: number): number {
        h.refresh();
        if (fd !== 1 && fd !== 2) return BADF;
        if (!h.ok(iovs, n * 8) || !h.ok(rp, 4)) return FAULT;
        let msg = '';
        let total = 0;
        for (let i = 0; i < n; i++) {
          const p = h.dv.getUint32(iovs + i * 8, true), l = h.dv.getUint32(iovs + i * 8 + 4, true);
          if (!h.ok(p, l)) return FAULT;
          msg += h.str(p, l); total += l;
        }
        if (msg.endsWith('\n')) msg = msg.slice(0, -1);
        h.log(fd === 1 ? 2 : 4, msg);
        h.dv.setUint32(rp, total, true);
        return 0;
      },
      fd_read(): number { R('fd_read'); return ENOSYS; },
      fd_seek(): number { R('fd_seek'); h.log(4, 'wasi fd_seek is not supported', true); return 0; },
      fd_close(): number { R('fd_close'); h.log(4, 'wasi fd_close is not supported', true); return 0; },
      fd_fdstat_get(fd: number, p: number): number {
        h.refresh();
        if (fd !== 1 && fd !== 2) return BADF;
        if (!h.ok(p, 24)) return FAULT;
        h.mem.fill(0, p, p + 24);
        h.dv.setUint8(p, 2); // filetype character device
        h.dv.setBigUint64(p + 8, 64n, true); // rights: fd_write
        return 0;
      },
      fd_fdstat_set_flags(): number { return ENOSYS; },
      fd_prestat_get(): number { return BADF; },
      fd_prestat_dir_name(): number { return ENOSYS; },
      environ_sizes_get(cp: number, sp: number): number {
        h.refresh(); if (!h.ok(cp, 4) || !h.ok(sp, 4)) return FAULT;
        h.dv.setUint32(cp, h.envEntries.length, true);
        h.dv.setUint32(sp, h.envEntries.reduce((a, b) => a + b.length, 0), true); return 0;
      },
      environ_get(ap: number, bp: number): number {
        h.refresh();
        for (const e of h.envEntries) {
          if (!h.ok(ap, 4) || !h.ok(bp, e.length)) return FAULT;
          h.dv.setUint32(ap, bp, true); h.mem.set(e, bp); ap += 4; bp += e.length;
        }
        return 0;
      },
      args_sizes_get(cp: number, sp: number): number { h.refresh(); if (!h.ok(cp, 4) || !h.ok(sp, 4)) return FAULT; h.dv.setUint32(cp, 0, true); h.dv.setUint32(sp, 0, true); return 0; },
      args_get(): number { return 0; },
      clock_time_get(id: number, _prec: bigint, rp: number): number {
        h.refresh(); if (!h.ok(rp, 8)) return FAULT;
        if (id === 0) h.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : BigInt(Date.now()) * 1000000n, true);
        else if (id === 1) h.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : process.hrtime.bigint(), true);
        else return NOTSUP;
        return 0;
      },
      clock_res_get(_id: number, rp: number): number { h.refresh(); if (!h.ok(rp, 8)) return FAULT; h.dv.setBigUint64(rp, 1n, true); return 0; },
      random_get(p: number, n: number): number {
        h.refresh();
        if (n > 65536) return INVAL;
        if (!h.ok(p, n)) return FAULT;
        if (n) randomFillSync(h.mem, p, n);
        return 0;
      },
      proc_exit(code: number): void { h.log(0, `wasi proc_exit(${code})`, true); },
      sched_yield(): number { return 0; },
      poll_oneoff(_i: number, _o: number, _n: number, rp: number): number { h.refresh(); if (h.ok(rp, 4)) h.dv.setUint32(rp, 0, true); return 0; },
      path_open(): number { R('path_open'); return NOENT; },
      path_filestat_get(): number { R('path_filestat_get'); return NOTSUP; },
      fd_filestat_get(): number { R('fd_filestat_get'); return BADF; },
    };
    for (const name of Object.keys(WASI_IMPORTS)) if (!w[name]) w[name] = (): number => { R(name); return name.startsWith('sock_') ? NOTSUP : BADF; };
    return w as WebAssembly.ModuleImports;
  }
}

const STREAM_ROOTS = new Set(['request', 'response', 'connection', 'upstream', 'source', 'destination', 'metadata', 'filter_state', 'upstream_filter_state']);
const EPOCH_OFFSET = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

export { bytesToText, valueToString };
export type { HeaderList, HeaderValue };
