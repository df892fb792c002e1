// The plugin's side of every host function and its lifecycle: start (link check, start functions, root context,
// vm_start, configure), the root context's state (configuration, callouts, status, tick, metrics, properties),
// what the current context's buffers and header maps are, logging, and FAIL_RELOAD. Plugin (plugin.ts) is the
// test API over it; streams and connections see it as a ContextOwner, host functions as a Host.
import { S, LogLevel, BufferType, MapType, ENV_IMPORTS, WASI_IMPORTS, EXPORT_SIGS, LOG_LEVELS, sigText } from './abi';
import type { ModuleInfo } from './binary';
import { HeaderMap, valueToString, type HeaderList } from './headers';
import { MetricStore } from './metrics';
import { lookupProperty, type PropertyValue } from './properties';
import * as shared from './shared';
import type { HttpStream } from './stream';
import type { TcpConnection } from './connection';
import { GrpcCallouts, type GrpcCallbackName } from './grpc';
import { PluginLoadError, type LogEntry, type PendingHttpCall, type PluginOptions } from './options';
import { Vm, PAGE, RestrictedCallback } from './vm';
import { buildImports, type Host } from './hostcalls';
import type { ContextOwner } from './owner';

const EMPTY = new Uint8Array(0);
/** Attributes of a stream: absent in the root context even when the plugin was given them (Envoy test Property). */
const STREAM_ROOTS = new Set(['request', 'response', 'connection', 'upstream', 'source', 'destination', 'metadata', 'filter_state', 'upstream_filter_state']);

export type HttpCallRecord = PendingHttpCall & { trailersRaw: HeaderList };

export class PluginHost implements Host, ContextOwner {
  readonly vm: Vm<HttpStream, TcpConnection>;
  configured = false;
  closed = false;
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
  /** VM generation: 0 for the first VM, +1 per FAIL_RELOAD reload. Streams of an older generation fail closed. */
  generation = 0;
  /** Number of FAIL_RELOAD reloads so far. */
  reloads = 0;
  private readonly reloadPolicy: boolean;
  private reloadIntervalMs: number;
  private failedAtMs = 0;
  private acquired = false;
  /** The first VM was configured: only then can FAIL_RELOAD replace it (a rejected config stays rejected). */
  private firstConfigured = false;

  nextContextId = 2;
  /** PLUGIN_CONFIGURATION is readable only during proxy_on_configure. */
  private pluginConfig: Uint8Array | null = null;
  private readonly vmConfigBytes: Uint8Array;
  private readonly configBytes: Uint8Array;
  logLevel: number;
  rootDonePending = false;
  tickPeriodMs = 0;
  private nextHttpCallId = 0;
  readonly calls = new Map<number, HttpCallRecord>();
  readonly callLog: PendingHttpCall[] = [];
  /** The http call response being delivered (HTTP_CALL_RESPONSE_* readable), else null. */
  callResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap } | null = null;
  statusCode = 0;
  statusMessage = '';
  /** gRPC callouts (calls and streams) of this VM. */
  readonly grpc: GrpcCallouts = new GrpcCallouts({
    knownClusters: () => this.opts.clusters,
    grpcCallback: (name: GrpcCallbackName, token: number, n: number) => this.grpcCallback(name, token, n),
    setStatus: (code: number, message: string) => { this.statusCode = code; this.statusMessage = message; },
    defer: (fn: () => void) => { this.vm.after.push(fn); },
    warn: (message: string) => this.log(LogLevel.Warn, message, true),
  });
  readonly metricStore: MetricStore;
  private rootProps: Record<string, PropertyValue> = {};
  readonly envEntries: Uint8Array[];
  private readonly loggedPrefixRoot: string;
  private readonly loggedPrefixStream: string;

  /** Hooks used by the serve command. */
  onHttpCall?: (call: HttpCallRecord) => void;
  onTickPeriod?: (ms: number) => void;

  constructor(private readonly module: WebAssembly.Module, private readonly info: ModuleInfo | null, options: PluginOptions, maxPages: number) {
    this.vm = new Vm<HttpStream, TcpConnection>({
      hostLog: (level, message) => this.log(level, message, true),
      failed: () => { this.failedAtMs = (this.opts.clockMs ?? Date.now)(); },
    }, info ? null : maxPages * PAGE);
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

  get failed(): boolean { return this.vm.failed; }

  // ------------------------------------------------------------------ startup
  async start(): Promise<void> {
    if (this.info) this.checkLink(this.info);
    else this.checkLinkNames();
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(this.module, buildImports(this, this.abiVersion));
    } catch (e) {
      throw new PluginLoadError(`Failed to load Wasm module: ${e instanceof RestrictedCallback ? 'a host function was called from the start section' : (e as Error).message}`);
    }
    this.instantiate(instance);
  }

  /** Wire a fresh instance, run its start functions, then the root context (create, vm_start, configure). */
  private instantiate(instance: WebAssembly.Instance): void {
    const vm = this.vm;
    vm.wire(instance);
    if (!this.acquired) { shared.acquireVm(this.vmId); this.acquired = true; }
    vm.runStartFunctions();
    if (vm.failed) { vm.drainAfter(); return; }
    // root context: create, vm_start, configure (Envoy order)
    const ex = vm.ex, root = this.rootContextId;
    if (ex.ctxCreate) vm.invoke('proxy_on_context_create', ex.ctxCreate, root, root, 0);
    let ok = !vm.failed;
    if (ok && ex.vmStart) ok = vm.invoke('proxy_on_vm_start', ex.vmStart, root, root, this.vmConfigBytes.length) !== 0 && !vm.failed;
    if (ok && ex.configure) {
      this.pluginConfig = this.configBytes;
      ok = vm.invoke('proxy_on_configure', ex.configure, root, root, this.configBytes.length) !== 0 && !vm.failed;
      this.pluginConfig = null;
    }
    vm.drainAfter();
    this.configured = ok && !vm.failed;
    if (this.generation === 0 && this.configured) this.firstConfigured = true;
    if (!this.configured && !vm.failed) this.log(LogLevel.Error, `Unable to create Wasm HTTP filter ${this.pluginName}: plugin configuration was rejected (proxy_on_vm_start/proxy_on_configure returned false)`, true);
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

  // ------------------------------------------------------------------ FAIL_RELOAD
  /** Before a new stream or connection: FAIL_RELOAD replaces a failed VM (when the first one was configured). */
  reloadIfFailed(): void { if (this.vm.failed && this.reloadPolicy && this.firstConfigured) this.maybeReload(); }

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
    this.log(LogLevel.Warn, `Wasm VM of ${this.pluginName || this.rootId || 'plugin'} failed: reloading it (reload ${this.reloads}, next backoff ${Math.min(max, this.reloadIntervalMs * 2)} ms)`, true);
    // drop the failed VM: its streams keep failing (older generation), its http calls are cancelled
    this.vm.reset(); this.calls.clear(); this.grpc.cancelAll();
    this.configured = false; this.nextContextId = 2; this.rootDonePending = false;
    this.pluginConfig = null; this.callResponse = null; this.statusCode = 0; this.statusMessage = ''; this.rootProps = {};
    if (this.tickPeriodMs) { this.tickPeriodMs = 0; this.onTickPeriod?.(0); }
    this.reloadIntervalMs = Math.min(max, this.reloadIntervalMs * 2);
    try { this.instantiate(new WebAssembly.Instance(this.module, buildImports(this, this.abiVersion))); }
    catch (e) { this.log(LogLevel.Critical, `Wasm VM reload failed: ${(e as Error).message}`, true); this.vm.failed = true; }
    if (!this.configured) { this.vm.failed = true; this.failedAtMs = clock(); }
  }

  /** A stream completed on a healthy VM: the reload backoff starts from its base again. */
  streamSucceeded(): void { if (this.reloadPolicy) this.reloadIntervalMs = this.opts.reloadBackoffMs ?? 1000; }

  contextDone(id: number, context: object): void {
    if (this.vm.streams.get(id) === context) this.vm.streams.delete(id);
    else if (this.vm.connections.get(id) === context) this.vm.connections.delete(id);
  }

  // ------------------------------------------------------------------ root context callbacks
  /** Run a gRPC callback on the root context (Envoy delivers every gRPC callback there). */
  private grpcCallback(name: GrpcCallbackName, token: number, n: number): boolean {
    const ex = this.vm.ex;
    const fn = name === 'proxy_on_grpc_receive' ? ex.grpcReceive : name === 'proxy_on_grpc_close' ? ex.grpcClose
      : name === 'proxy_on_grpc_receive_initial_metadata' ? ex.grpcInitial : ex.grpcTrailing;
    if (this.vm.failed || this.closed || !fn) return false;
    this.vm.invoke(name, fn, this.rootContextId, this.rootContextId, token, n);
    this.afterRootCall();
    return true;
  }

  /** After a root-context callback: deferred actions, and streams held by a VM that just failed. */
  afterRootCall(): void {
    this.vm.drainAfter();
    if (this.vm.failed) for (const s of [...this.vm.streams.values()]) s.vmFailedElsewhere();
  }

  deliverQueueReady(root: number, token: number): void {
    this.vm.after.push(() => {
      const vm = this.vm;
      if (vm.failed || this.closed || !vm.ex.queueReady) return;
      vm.invoke('proxy_on_queue_ready', vm.ex.queueReady, root, root, token);
      if (vm.failed) for (const s of [...vm.streams.values()]) s.vmFailedElsewhere();
    });
  }

  deleteRoot(): void {
    const vm = this.vm;
    if (!vm.failed && vm.ex.onDelete) { vm.invoke('proxy_on_delete', vm.ex.onDelete, this.rootContextId, this.rootContextId); vm.drainAfter(); }
  }

  log(level: LogLevel, message: string, host = false): void {
    if (level < this.logLevel) return;
    const name = LOG_LEVELS[level];
    const entry: LogEntry = { level: name, message };
    this.logs.push(entry);
    if (this.opts.printLogs || this.opts.logSink) {
      // Envoy Context::log runs on the effective context (e.g. a stream during an http call response)
      const prefix = host ? '' : (this.vm.eff || this.vm.cur) > 1 ? this.loggedPrefixStream : this.loggedPrefixRoot;
      const line = host ? `[${name}] ${message}` : `[${name}] wasm log${prefix ? ' ' + prefix : ''}: ${message}`;
      if (this.opts.logSink) this.opts.logSink(line, entry);
      if (this.opts.printLogs) process.stderr.write(line + '\n');
    }
  }

  // ------------------------------------------------------------------ Host: what host functions delegate to
  target(): HttpStream | null {
    const vm = this.vm;
    if (vm.eff !== 0) return vm.streams.get(vm.eff) ?? null;
    return vm.curStream;
  }
  targetConn(): TcpConnection | null {
    const vm = this.vm;
    if (vm.eff !== 0) return vm.connections.get(vm.eff) ?? null;
    return vm.curConn;
  }
  hasContext(id: number): boolean { return id === this.rootContextId || this.vm.streams.has(id) || this.vm.connections.has(id); }

  setTickPeriod(ms: number): void { this.tickPeriodMs = ms; this.onTickPeriod?.(ms); }

  rootDone(): number {
    if (!this.rootDonePending) return S.NotFound;
    this.rootDonePending = false;
    this.vm.after.push(() => this.deleteRoot());
    return S.Ok;
  }

  buffer(type: BufferType): Uint8Array | number {
    switch (type) {
      case BufferType.HttpRequestBody: case BufferType.HttpResponseBody: { const s = this.target(); return s ? s.bodyFor(type) : EMPTY; }
      case BufferType.HttpCallResponseBody: return this.callResponse ? this.callResponse.body : S.NotFound;
      case BufferType.VmConfiguration: return this.vmConfigBytes;
      case BufferType.PluginConfiguration: return this.pluginConfig ?? S.NotFound;
      // GRPC_CALL_MESSAGE: Envoy returns the root's receive buffer, an empty one outside proxy_on_grpc_receive
      case BufferType.GrpcReceiveBuffer: return this.grpc.message ?? EMPTY;
      case BufferType.DownstreamData: case BufferType.UpstreamData: { const c = this.targetConn(); return c ? c.dataFor(type) : EMPTY; } // Envoy: Ok + empty without data
      case BufferType.CallData: return S.NotFound;
      default: return S.BadArgument;
    }
  }

  mapFor(type: MapType, write: boolean): HeaderMap | number {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      if (!this.callResponse) return S.BadArgument;
      return type === MapType.HttpCallResponseHeaders ? this.callResponse.headers : this.callResponse.trailers;
    }
    if (type > MapType.HttpCallResponseTrailers) return S.BadArgument;
    // gRPC metadata: the root's current received map, only during the matching callback (Envoy getMap)
    if (type === MapType.GrpcReceiveInitialMetadata) return this.grpc.initialMetadata ?? S.BadArgument;
    if (type === MapType.GrpcReceiveTrailingMetadata) return this.grpc.trailingMetadata ?? S.BadArgument;
    const s = this.target();
    if (!s) return S.BadArgument;
    return s.mapFor(type, write);
  }

  /** An edit of the request headers clears the route cache (Envoy clearRouteCache). */
  mapEdited(type: MapType): void {
    if (type === MapType.RequestHeaders) { const s = this.target(); if (s) s.routeCacheCleared++; }
  }

  property(segs: string[]): PropertyValue | undefined {
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
    if (o !== undefined && !STREAM_ROOTS.has(first)) return o;
    return undefined;
  }

  setProperty(key: string, value: Uint8Array): void {
    const s = this.target();
    const conn = s ? null : this.targetConn();
    if (s) s.filterState[key] = value; else if (conn) conn.filterState[key] = value; else this.rootProps[key] = value;
  }

  httpCall(cluster: string, headers: HeaderList, body: Uint8Array, trailers: HeaderList, timeoutMs: number): { status: number; token?: number } {
    if (this.opts.clusters && !this.opts.clusters.includes(cluster)) return { status: S.BadArgument };
    const hm = new HeaderMap('request-headers', headers);
    if (!hm.has(':path') || !hm.has(':method') || !(hm.has(':authority') || hm.has('host'))) return { status: S.BadArgument };
    if (body.length) hm.replace('content-length', String(body.length));
    const token = (this.nextHttpCallId += 4);
    const vm = this.vm;
    const call: HttpCallRecord = { token, cluster, headers: hm.toStringList(), body, trailers: trailers.map(([k, v]) => [k, valueToString(v)] as [string, string]), timeoutMs, contextId: vm.eff || vm.cur, trailersRaw: trailers };
    this.calls.set(token, call);
    this.callLog.push({ token, cluster, headers: call.headers, body, trailers: call.trailers, timeoutMs, contextId: call.contextId });
    this.onHttpCall?.(call);
    return { status: S.Ok, token };
  }
}
