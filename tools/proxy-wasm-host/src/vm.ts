// The wasm VM of one plugin: the instance and its linear memory, the module's callback exports, calls into the
// VM (and which context each runs on), traps, the actions deferred until a VM call returns, and the rule that
// restricts which host functions the module may call from its start functions and its allocator.
// Host functions (hostcalls/*) read and write VM memory through the helpers at the end.
import { S, LogLevel, START_ALLOWED, MALLOC_ALLOWED } from './abi';
import { copyBytes, decodeBytes, type FastBuffer, type HeaderValue } from './headers';
import { PluginLoadError } from './options';

/** A wasm export called from the host (i32 arguments, i32 or no result). */
export type Fn = (...a: number[]) => number;
export const PAGE = 65536;

/** Which host functions the module may call right now (proxy-wasm-cpp-host "restricted callbacks"). */
export const enum Restrict {
  /** Any host function. */
  None = 0,
  /** Inside _initialize / _start / main: only START_ALLOWED. */
  StartFunctions = 1,
  /** Inside malloc / proxy_on_memory_allocate: only MALLOC_ALLOWED. */
  Allocator = 2,
}

/** Thrown into wasm to abort a restricted hostcall; the VM is failed like Envoy's "restricted_callback". */
export class RestrictedCallback extends Error {}

/** The module's callback exports (null when not exported). */
export interface Exports {
  malloc: Fn | null; ctxCreate: Fn | null; onDone: Fn | null; onLog: Fn | null; onDelete: Fn | null; vmStart: Fn | null; configure: Fn | null; tick: Fn | null;
  reqHeaders: Fn | null; reqBody: Fn | null; reqTrailers: Fn | null; respHeaders: Fn | null; respBody: Fn | null; respTrailers: Fn | null;
  httpCallResponse: Fn | null; queueReady: Fn | null; foreign: Fn | null;
  grpcInitial: Fn | null; grpcReceive: Fn | null; grpcTrailing: Fn | null; grpcClose: Fn | null;
  newConnection: Fn | null; downstreamData: Fn | null; upstreamData: Fn | null; downstreamClose: Fn | null; upstreamClose: Fn | null;
}

/** What the VM tells its plugin: host log lines, and that it just failed. */
export interface VmEvents {
  hostLog(level: LogLevel, message: string): void;
  failed(): void;
}

/**
 * One VM. `Stream` and `Conn` are the plugin's HTTP stream and TCP connection types (kept generic so that this
 * file depends on neither). Context ids: 1 is the root context, streams and connections share 2, 3, ...
 */
export class Vm<Stream = unknown, Conn = unknown> {
  instance!: WebAssembly.Instance;
  memory!: WebAssembly.Memory;
  /** Linear memory as a Buffer and a DataView; refresh() after anything that can grow memory. */
  mem!: Buffer;
  dv!: DataView;
  private memBuf: ArrayBuffer | null = null;
  ex: Exports = {} as Exports;
  private mallocName = 'malloc';
  /** The VM trapped (or its start failed): no more callbacks. */
  failed = false;
  /** Context id the current host->VM call runs on, and the effective context set by the module (0 = none). */
  cur = 0;
  eff = 0;
  curStream: Stream | null = null;
  curConn: Conn | null = null;
  restrict = Restrict.None;
  /** Actions deferred until the current VM call returns (Envoy DeferAfterCallActions). */
  after: Array<() => void> = [];
  private draining = false;
  /** send_local_response was called: the current callback's answer is a stop, whatever it returned. */
  stopNext = false;
  readonly streams = new Map<number, Stream>();
  readonly connections = new Map<number, Conn>();

  /** memoryCapBytes: enforced after each call when the binary itself could not be capped (null: it was). */
  constructor(private readonly events: VmEvents, private readonly memoryCapBytes: number | null) {}

  /** Wire a fresh instance: memory and callback exports. */
  wire(instance: WebAssembly.Instance): void {
    this.instance = instance;
    const ex = instance.exports as Record<string, unknown>;
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
  }

  /** WASI reactor (_initialize [+ main / __main_void]) or command (_start), with restricted hostcalls. */
  runStartFunctions(): void {
    const ex = this.instance.exports as Record<string, unknown>;
    const f = (n: string) => (typeof ex[n] === 'function' ? (ex[n] as Fn) : null);
    this.restrict = Restrict.StartFunctions;
    if (f('_initialize')) {
      this.invoke('_initialize', f('_initialize')!, 0);
      if (!this.failed && f('main')) this.invoke('main', f('main')!, 0, 0, 0);
      else if (!this.failed && f('__main_void')) this.invoke('__main_void', f('__main_void')!, 0);
    } else if (f('_start')) this.invoke('_start', f('_start')!, 0);
    this.restrict = Restrict.None;
  }

  /** Forget the failed instance (FAIL_RELOAD): contexts, deferred actions and exports go. */
  reset(): void {
    this.streams.clear(); this.connections.clear(); this.after.length = 0;
    this.failed = false; this.ex = {} as Exports; this.cur = 0; this.eff = 0; this.curStream = null; this.curConn = null;
    this.restrict = Restrict.None; this.draining = false; this.stopNext = false; this.memBuf = null;
  }

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
    if (!this.failed && this.memoryCapBytes !== null && this.memory.buffer.byteLength > this.memoryCapBytes) this.trap(name, new RangeError(`linear memory exceeds the limit of ${this.memoryCapBytes} bytes`));
  }

  /** The VM failed in `name`: log Envoy's critical line with the in-VM backtrace, drop deferred actions. */
  trap(name: string, err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.events.failed();
    this.events.hostLog(LogLevel.Critical, trapMessage(name, err));
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

  /** Called first by every restricted host function. */
  check(name: string): void { if (this.restrict !== Restrict.None) this.restricted(name); }

  private restricted(name: string): void {
    if (this.restrict === Restrict.StartFunctions && START_ALLOWED.has(name)) return;
    if (this.restrict === Restrict.Allocator && MALLOC_ALLOWED.has(name)) return;
    this.events.hostLog(LogLevel.Critical, `restricted_callback: ${name} called from ${this.restrict === Restrict.StartFunctions ? 'a start function (_initialize/_start/main)' : this.mallocName}`);
    throw new RestrictedCallback(`restricted_callback: ${name}`);
  }

  // ------------------------------------------------------------------ memory helpers
  alloc(size: number): number {
    const prev = this.restrict;
    this.restrict = Restrict.Allocator;
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
}

/** Envoy's critical line for a failed VM call, with the in-VM backtrace (function names when the module has a name section). */
export function trapMessage(name: string, err: unknown): string {
  const e = err as Error;
  const kind = err instanceof WebAssembly.RuntimeError ? 'RuntimeError' : e?.name ?? 'Error';
  const frames = String(e?.stack ?? '').split('\n').filter((l) => l.includes('wasm://') || l.includes('wasm-function')).slice(0, 20);
  let bt = frames.length ? '\nProxy-Wasm plugin in-VM backtrace:\n' + frames.map((l, i) => `  ${i}: ${l.trim().replace(/^at /, '')}`).join('\n') : '';
  // V8 names a frame from the module's name section; a release build has none
  if (frames.length && frames.every((l) => l.includes('null.<anonymous>'))) bt += '\n  (no function names: the module has no name section; a debug build, `nx run <filter>:build-debug`, has one)';
  return `Function: ${name} failed: Uncaught ${kind}: ${e?.message ?? String(err)}${bt}`;
}
