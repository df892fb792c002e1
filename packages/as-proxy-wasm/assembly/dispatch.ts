// The registry and the dispatch: which root context serves a root_id, the live root and stream
// contexts (HTTP streams and TCP connections in one table), and the delivery of http call
// responses. The export modules (./core, ./exports, ./tcp-exports) find contexts here and call
// their hooks.

import { arenaOpen, arenaClose } from "./rt/owned";
import { LogLevel, Status } from "./enums";
import { proxy_get_property } from "./imports";
import { RET_A, RET_B, adoptReturned } from "./host-memory";
import { sameBytes } from "./utf8";
import { argLen, encodeScratch } from "./args";
import { msgStart, msgPut, msgByte, msgEnd } from "./format";
import { logBytes } from "./log";
import { C, ctextPtr, ctextLen } from "./text";
import { Context, RootContext, HttpContext, TcpContext, Registered, deliverHttpCall } from "./context";


class RootFactory {
  constructor(public rootId: string, public factory: (id: u32) => RootContext, public next: RootFactory | null) {}
}
/** The registrations, newest first (so the LAST match in the list is the first registration). */
let factories: RootFactory | null = null;

/**
 * Registers the root context factory for `rootId` (Envoy `root_id`, Istio
 * WasmPlugin `pluginName`). The "" registration is the default: it serves
 * every root_id without a registration of its own. A root_id with neither
 * logs an error and fails configuration (no trap).
 */
export function registerRootContext(factory: (id: u32) => RootContext, rootId: string = ""): void {
  factories = new RootFactory(rootId, factory, factories);
}

/** Stands in for an unregistered root_id: configuration fails with a clear log line. */
class MissingRootContext extends RootContext {
  onConfigure(configSize: u32): bool {
    msgStart();
    msgPut(ctextPtr(C.NO_ROOT), ctextLen(C.NO_ROOT));
    let b = this.rootIdBytes;
    if (b !== null) msgPut(changetype<usize>(b), <usize>b.byteLength);
    msgByte(0x22);
    let m = msgEnd();
    logBytes(LogLevel.Error, changetype<usize>(m), <usize>m.byteLength);
    return false;
  }
}

// Root contexts and live stream contexts, linked through Context.nextContext, newest first: one
// list of roots (a VM rarely has more than one) and STREAM_BUCKETS lists of streams chosen by
// `id & (STREAM_BUCKETS - 1)`. Envoy numbers every context of a VM from one counter and never
// reuses an id, so live streams spread evenly over the buckets: a worker with thousands of live
// streams (HTTP/2, gRPC streaming, long polls) still finds one in a few steps. A stream whose root
// made no context (createHttpContext returned null) is not recorded: its callbacks find nothing
// and continue.
// @ts-ignore: decorator
@inline const STREAM_BUCKETS: u32 = 256;
let roots: Context | null = null;
let streams = new StaticArray<Context | null>(STREAM_BUCKETS);

/** The context `id` of the list starting at `c`, or null. */
function findIn(c: Context | null, id: u32): Context | null {
  while (c !== null && c.id != id) c = c.nextContext;
  return c;
}

/** Removes context `id` from the list starting at `head`; returns the list's new head. */
function unlink(head: Context | null, id: u32): Context | null {
  let prev: Context | null = null;
  let c = head;
  while (c !== null) {
    if (c.id == id) {
      if (prev === null) return c.nextContext;
      prev.nextContext = c.nextContext;
      break;
    }
    prev = c;
    c = c.nextContext;
  }
  return head;
}

export function createRoot(id: u32): void {
  // The host's root_id is matched as UTF-8 bytes against the registered ids (no decoding).
  let rootId: ArrayBuffer | null = null;
  if (proxy_get_property(ctextPtr(C.PLUGIN_ROOT_ID), ctextLen(C.PLUGIN_ROOT_ID), RET_A, RET_B) == Status.Ok) {
    rootId = adoptReturned();
  }
  let ip = changetype<usize>(rootId);
  let il: usize = rootId === null ? 0 : <usize>rootId.byteLength;
  // The first registration of a root_id wins: the last match in the newest-first list.
  let chosen: RootFactory | null = null;
  let fallback: RootFactory | null = null;
  let f = factories;
  while (f !== null) {
    if (sameBytes(ip, il, encodeScratch(f.rootId, 3), argLen)) chosen = f;
    if (f.rootId.length == 0) fallback = f;
    f = f.next;
  }
  if (chosen === null) chosen = fallback;
  // Host without plugin_root_id and a single registration: use it.
  f = factories;
  if (chosen === null && rootId === null && f !== null && f.next === null) chosen = f;
  let ctx: RootContext;
  if (chosen === null) ctx = new MissingRootContext(id);
  else ctx = chosen.factory(id);
  ctx.rootIdBytes = rootId;
  ctx.registered = Registered.Root;
  ctx.nextContext = roots;
  roots = ctx;
}

export function findRoot(id: u32): RootContext | null {
  return changetype<RootContext | null>(findIn(roots, id));
}

/**
 * @internal Runs root `rootId`'s onVmStart (`vmStart`) or onConfigure: false when there is no such
 * root. In the owned memory mode what they allocate goes to the root's arena (rt/owned.ts).
 */
export function setUpRoot(rootId: u32, size: u32, vmStart: bool): bool {
  let r = findRoot(rootId);
  if (r === null) return false;
  if (ASC_RUNTIME == 0) arenaOpen(rootId);
  let ok = vmStart ? r.onVmStart(size) : r.onConfigure(size);
  if (ASC_RUNTIME == 0) arenaClose();
  return ok;
}

export function removeRoot(root: RootContext): void {
  root.registered = Registered.No;
  roots = unlink(roots, root.id);
}

/** The live stream context `id` (HTTP or TCP), or null. */
function findStream(id: u32): Context | null {
  return findIn(unchecked(streams[id & (STREAM_BUCKETS - 1)]), id);
}

/** Records a live stream context (the newest first in its bucket). */
function addStream(id: u32, ctx: Context, kind: Registered): void {
  let b = id & (STREAM_BUCKETS - 1);
  ctx.registered = kind;
  ctx.nextContext = unchecked(streams[b]);
  unchecked(streams[b] = ctx);
}

/** Forgets stream context `ctx`. */
function removeStream(ctx: Context): void {
  let id = ctx.id;
  let b = id & (STREAM_BUCKETS - 1);
  ctx.registered = Registered.No;
  unchecked(streams[b] = unlink(unchecked(streams[b]), id));
}

/** The live HTTP stream context `id`, or null (none, or a TCP connection). */
export function findHttp(id: u32): HttpContext | null {
  let c = findStream(id);
  return c !== null && c.registered == Registered.Http ? changetype<HttpContext>(c) : null;
}

/** Registers an HTTP stream context. `ctx` null = the root wants no per-stream work (nothing recorded). */
export function addHttp(id: u32, ctx: HttpContext | null): void {
  if (ctx !== null) addStream(id, ctx, Registered.Http);
}

export function removeHttp(ctx: HttpContext): void {
  removeStream(ctx);
}

/** Live TCP connections (tcpConnectionCount). */
let tcpCount: i32 = 0;

/** The live TCP connection context `id`, or null (none, or an HTTP stream). */
export function findTcp(id: u32): TcpContext | null {
  let c = findStream(id);
  return c !== null && c.registered == Registered.Tcp ? changetype<TcpContext>(c) : null;
}

export function addTcp(id: u32, ctx: TcpContext): void {
  addStream(id, ctx, Registered.Tcp);
  tcpCount++;
}

export function removeTcp(ctx: TcpContext): void {
  removeStream(ctx);
  tcpCount--;
}

/** Number of live TCP contexts (for tests and leak checks). */
export function tcpConnectionCount(): i32 {
  return tcpCount;
}

/** Delivers an http call response to the context that dispatched the call (see deliverHttpCall). */
export function deliverHttpCallResponse(rootId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  deliverHttpCall(findRoot(rootId), rootId, token, numHeaders, bodySize, numTrailers);
}
