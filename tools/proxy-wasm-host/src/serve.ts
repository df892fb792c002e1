// `proxy-wasm-host serve --envoy-config FILE`: a real HTTP/1.1 proxy for a subset of an Envoy bootstrap.
// Static listeners, HCM http_filters (envoy.filters.http.wasm with local code, then the router), prefix/path
// routes to clusters, STATIC/STRICT_DNS/LOGICAL_DNS clusters on loopback, an admin listener (admin.ts: /ready, /stats,
// /stats/prometheus, /clusters, /logging). Bodies are buffered per request (this is a dev proxy, not a streaming one).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { loadPlugin, type Plugin, type PendingHttpCall } from './plugin';
import type { HttpStream, StreamOptions } from './stream';
import { prometheusText, type StatsTag } from './metrics';
import { valueToString, type HeaderList, type HeaderValue } from './headers';
import { GrpcUpstream } from './grpc-client';
import { forward, newHostStats, type Endpoint } from './upstream';
import { Admin, type AdminSource } from './admin';

export type { Endpoint };
export interface ServeOptions {
  /** Resolve relative wasm filenames against this directory (Envoy: the working directory). Default: process.cwd(). */
  cwd?: string;
  warn?: (msg: string) => void;
  log?: (msg: string) => void;
  /** Override listener/admin ports (tests): map of listener name -> port (0 = ephemeral). */
  portOverrides?: Record<string, number>;
  adminPort?: number;
  /** Every wasm filter fails open (failure_policy FAIL_OPEN), whatever the Envoy config says. */
  failOpen?: boolean;
}

/** A wasm filter refused its configuration (vm_start or configure returned false, or trapped): Envoy does not start. */
export class FilterConfigRejected extends Error {
  constructor(readonly filter: string, readonly reason: string) {
    super(`Unable to create Wasm HTTP filter ${filter}: ${reason}`);
  }
}

/** A listener's port is taken (EADDRINUSE) or not allowed (EACCES). */
export class ListenError extends Error {
  constructor(readonly what: string, readonly host: string, readonly port: number, readonly code: string) {
    super(`${what} cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use by another process' : code}`);
  }
}

interface WasmFilter { name: string; plugin: Plugin }
interface Route { prefix?: string; path?: string; cluster: string }
interface Listener {
  name: string; host: string; port: number; routes: Route[]; filters: WasmFilter[]; server?: Server;
  /** Envoy traffic_direction: 0 UNSPECIFIED, 1 INBOUND, 2 OUTBOUND. */
  direction: number;
  /** Per-stream properties of this listener (shared, read-only). */
  streamOptions: StreamOptions;
}
interface LocalAnswer { headers: HeaderList; body: Uint8Array; at: number }
const EMPTY = new Uint8Array(0);

/** A google.protobuf.Duration from YAML/JSON ("1s", "0.250s", {seconds, nanos}) in ms; undefined when absent. */
export function durationMs(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  let ms: number;
  if (typeof v === 'string' && /^\d+(\.\d+)?s$/.test(v)) ms = Number(v.slice(0, -1)) * 1000;
  else if (typeof v === 'object') { const d = v as { seconds?: unknown; nanos?: unknown }; ms = Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6; }
  else ms = NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${where}: expected a positive duration like "1s" or {seconds, nanos}, got ${JSON.stringify(v)}`);
  return ms;
}
const DIRECTIONS: Record<string, number> = { UNSPECIFIED: 0, INBOUND: 1, OUTBOUND: 2 };

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export class EnvoyLikeProxy implements AdminSource {
  listeners: Listener[] = [];
  clusters = new Map<string, Endpoint[]>();
  admin: { host: string; port: number; server?: Server } | null = null;
  statsTags: StatsTag[] = [];
  private rr = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private warn: (m: string) => void;
  private log: (m: string) => void;
  requests = 0;

  constructor(private opts: ServeOptions = {}) {
    this.warn = opts.warn ?? ((m) => process.stderr.write(`[warning] ${m}\n`));
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  static async fromFile(file: string, opts: ServeOptions = {}): Promise<EnvoyLikeProxy> {
    const p = new EnvoyLikeProxy({ cwd: process.cwd(), ...opts });
    let doc: unknown;
    try { doc = parseYaml(readFileSync(file, 'utf8')); } catch (e) { throw new Error(`cannot read Envoy config ${file}: ${(e as Error).message}`); }
    try {
      await p.configure(doc as Record<string, unknown>, dirname(resolve(file)));
    } catch (e) {
      await p.stop(); // the filters loaded before the failing one
      throw e;
    }
    return p;
  }

  private unknown(obj: unknown, allowed: string[], where: string): void {
    if (!obj || typeof obj !== 'object') return;
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) this.warn(`${where}.${k} is not supported by proxy-wasm-host serve; ignored`);
  }

  async configure(doc: Record<string, unknown>, _configDir: string): Promise<void> {
    this.unknown(doc, ['static_resources', 'admin', 'stats_config', 'node', 'layered_runtime', 'overload_manager'], 'bootstrap');
    const sr = (doc.static_resources ?? {}) as Record<string, unknown>;
    this.unknown(sr, ['listeners', 'clusters'], 'static_resources');
    const stats = doc.stats_config as { stats_tags?: Array<{ tag_name: string; regex?: string }> } | undefined;
    this.statsTags = (stats?.stats_tags ?? []).filter((t) => t.regex).map((t) => ({ tagName: t.tag_name, regex: t.regex! }));
    for (const c of (sr.clusters ?? []) as Array<Record<string, unknown>>) this.addCluster(c);
    for (const l of (sr.listeners ?? []) as Array<Record<string, unknown>>) await this.addListener(l);
    const admin = doc.admin as { address?: { socket_address?: { address?: string; port_value?: number } } } | undefined;
    if (admin?.address?.socket_address) {
      const sa = admin.address.socket_address;
      this.admin = { host: sa.address ?? '127.0.0.1', port: this.opts.adminPort ?? sa.port_value ?? 9901 };
    }
  }

  private addCluster(c: Record<string, unknown>): void {
    this.unknown(c, ['name', 'connect_timeout', 'type', 'lb_policy', 'load_assignment', 'dns_lookup_family'], `cluster ${c.name}`);
    const type = (c.type as string) ?? 'STATIC';
    if (!['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'].includes(type)) this.warn(`cluster ${c.name}: type ${type} is not supported (STATIC, STRICT_DNS, LOGICAL_DNS are)`);
    const eps: Endpoint[] = [];
    const la = c.load_assignment as { endpoints?: Array<{ lb_endpoints?: Array<{ endpoint?: { address?: { socket_address?: { address: string; port_value: number } } } }> }> } | undefined;
    for (const e of la?.endpoints ?? []) for (const lb of e.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      if (!sa) continue;
      if (!LOOPBACK.test(sa.address)) throw new Error(`cluster ${c.name}: endpoint ${sa.address} is not a loopback address; proxy-wasm-host serve only connects to loopback`);
      eps.push({ host: sa.address === 'localhost' ? '127.0.0.1' : sa.address, port: sa.port_value, stats: newHostStats() });
    }
    this.clusters.set(String(c.name), eps);
  }

  private async addListener(l: Record<string, unknown>): Promise<void> {
    this.unknown(l, ['name', 'address', 'filter_chains', 'per_connection_buffer_limit_bytes', 'traffic_direction'], `listener ${l.name}`);
    const sa = (l.address as { socket_address?: { address?: string; port_value?: number } })?.socket_address ?? {};
    const name = String(l.name ?? 'listener');
    const host = sa.address ?? '127.0.0.1';
    if (!LOOPBACK.test(host) && host !== '0.0.0.0') throw new Error(`listener ${name}: address ${host} is not supported (loopback only)`);
    const td = l.traffic_direction ?? 'UNSPECIFIED';
    const direction = typeof td === 'number' ? td : DIRECTIONS[String(td)];
    if (direction === undefined || direction < 0 || direction > 2) throw new Error(`listener ${name}: traffic_direction ${String(td)} is not one of UNSPECIFIED, INBOUND, OUTBOUND`);
    // Envoy >= 1.33 exposes xds.listener_direction; older Envoy the top-level listener_direction (both int64)
    const streamOptions: StreamOptions = { properties: { 'xds.listener_direction': BigInt(direction), listener_direction: BigInt(direction) } };
    const listener: Listener = { name, host: host === '0.0.0.0' ? '127.0.0.1' : host, port: this.opts.portOverrides?.[name] ?? sa.port_value ?? 10000, routes: [], filters: [], direction, streamOptions };
    this.listeners.push(listener); // now, so stop() closes the filters loaded before a failing one
    const bufferLimit = (l.per_connection_buffer_limit_bytes as number | undefined) ?? 1024 * 1024;
    const chains = (l.filter_chains ?? []) as Array<{ filters?: Array<Record<string, unknown>> }>;
    if (chains.length > 1) this.warn(`listener ${name}: only the first filter chain is used`);
    for (const f of chains[0]?.filters ?? []) {
      if (f.name !== 'envoy.filters.network.http_connection_manager') { this.warn(`listener ${name}: network filter ${f.name} is not supported; ignored`); continue; }
      const hcm = (f.typed_config ?? {}) as Record<string, unknown>;
      this.unknown(hcm, ['@type', 'stat_prefix', 'codec_type', 'route_config', 'http_filters', 'access_log', 'use_remote_address', 'generate_request_id'], `listener ${name} http_connection_manager`);
      const rc = (hcm.route_config ?? {}) as { virtual_hosts?: Array<{ routes?: Array<{ match?: { prefix?: string; path?: string }; route?: { cluster?: string }; direct_response?: unknown }> }> };
      for (const vh of rc.virtual_hosts ?? []) for (const r of vh.routes ?? []) {
        if (!r.route?.cluster) { this.warn(`listener ${name}: a route without route.cluster (e.g. direct_response) is not supported; ignored`); continue; }
        if (!r.match?.prefix && !r.match?.path) { this.warn(`listener ${name}: only prefix/path route matches are supported; ignored`); continue; }
        listener.routes.push({ prefix: r.match.prefix, path: r.match.path, cluster: r.route.cluster });
      }
      for (const hf of (hcm.http_filters ?? []) as Array<Record<string, unknown>>) {
        if (hf.name === 'envoy.filters.http.router') continue;
        if (hf.name !== 'envoy.filters.http.wasm') { this.warn(`listener ${name}: http filter ${hf.name} is not supported; ignored`); continue; }
        listener.filters.push(await this.loadWasmFilter(hf, bufferLimit));
      }
    }
  }

  private async loadWasmFilter(hf: Record<string, unknown>, bufferLimit: number): Promise<WasmFilter> {
    const tc = (hf.typed_config ?? {}) as { config?: Record<string, unknown> };
    const cfg = tc.config ?? {};
    this.unknown(cfg, ['name', 'root_id', 'vm_config', 'configuration', 'fail_open', 'failure_policy', 'reload_config', 'allow_on_headers_stop_iteration'], `wasm filter ${cfg.name}`);
    const vm = (cfg.vm_config ?? {}) as Record<string, unknown>;
    this.unknown(vm, ['vm_id', 'runtime', 'code', 'configuration', 'environment_variables', 'allow_precompiled'], `wasm filter ${cfg.name} vm_config`);
    const code = vm.code as { local?: { filename?: string; inline_bytes?: string }; remote?: unknown } | undefined;
    let wasm: string | Uint8Array;
    if (code?.local?.filename) wasm = isAbsolute(code.local.filename) ? code.local.filename : resolve(this.opts.cwd ?? process.cwd(), code.local.filename);
    else if (code?.local?.inline_bytes) wasm = Buffer.from(code.local.inline_bytes, 'base64');
    else throw new Error(`wasm filter ${cfg.name}: only vm_config.code.local (filename or inline_bytes) is supported`);
    const anyValue = (a: unknown): string | undefined => {
      if (a === undefined || a === null) return undefined;
      if (typeof a === 'string') return a;
      const o = a as Record<string, unknown>;
      const t = String(o['@type'] ?? '');
      if (t.endsWith('google.protobuf.StringValue') || t.endsWith('google.protobuf.BytesValue')) return String(o.value ?? '');
      if (t.endsWith('google.protobuf.Struct')) return JSON.stringify(o.value ?? Object.fromEntries(Object.entries(o).filter(([k]) => k !== '@type')));
      this.warn(`wasm filter ${cfg.name}: configuration of type ${t} is passed as JSON`);
      return JSON.stringify(o.value ?? o);
    };
    const env: Record<string, string> = {};
    const ev = vm.environment_variables as { key_values?: Record<string, string>; host_env_keys?: string[] } | undefined;
    for (const k of ev?.host_env_keys ?? []) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, ev?.key_values ?? {});
    // failure_policy (Envoy >= 1.33) wins over the deprecated fail_open unless UNSPECIFIED
    const fp = cfg.failure_policy === undefined ? 'UNSPECIFIED' : String(cfg.failure_policy);
    if (!['UNSPECIFIED', 'FAIL_CLOSED', 'FAIL_OPEN', 'FAIL_RELOAD'].includes(fp)) throw new Error(`wasm filter ${cfg.name}: failure_policy ${fp} is not one of UNSPECIFIED, FAIL_CLOSED, FAIL_OPEN, FAIL_RELOAD`);
    const configured = fp === 'UNSPECIFIED' ? (cfg.fail_open === true ? 'FAIL_OPEN' : 'FAIL_CLOSED') : (fp as 'FAIL_CLOSED' | 'FAIL_OPEN' | 'FAIL_RELOAD');
    const policy = this.opts.failOpen ? 'FAIL_OPEN' : configured;
    const backoff = (cfg.reload_config as { backoff?: { base_interval?: unknown; max_interval?: unknown } } | undefined)?.backoff;
    const baseMs = durationMs(backoff?.base_interval, `wasm filter ${cfg.name} reload_config.backoff.base_interval`);
    const maxMs = durationMs(backoff?.max_interval, `wasm filter ${cfg.name} reload_config.backoff.max_interval`);
    const name = String(cfg.name ?? '');
    const plugin = await loadPlugin(wasm, {
      config: anyValue(cfg.configuration) ?? '', vmConfig: anyValue(vm.configuration), pluginName: name, rootId: String(cfg.root_id ?? ''),
      vmId: String(vm.vm_id ?? ''), env, failurePolicy: policy, reloadBackoffMs: baseMs, reloadMaxBackoffMs: maxMs, clusters: [...this.clusters.keys()], bufferLimitBytes: bufferLimit,
      allowOnHeadersStopIteration: !!cfg.allow_on_headers_stop_iteration, statsTags: this.statsTags, logLevel: 'info',
      logSink: (line) => this.log(line),
    });
    if (!plugin.configured) {
      // the reason is what the plugin (or the host, on a trap) logged at warn or above; the host's
      // own "Unable to create" line only repeats the filter name
      const said = plugin.logs.filter((l) => (l.level === 'warn' || l.level === 'error' || l.level === 'critical') && !l.message.startsWith('Unable to create Wasm')).map((l) => l.message);
      plugin.close();
      throw new FilterConfigRejected(name, said.length ? said.join('; ') : 'the plugin refused its configuration (proxy_on_vm_start or proxy_on_configure returned false) without logging why');
    }
    plugin.onHttpCall = (call) => { void this.dispatchCall(plugin, call); };
    this.grpcUpstream.attach(plugin); // gRPC callouts go to the cluster over HTTP/2
    plugin.onTickPeriod = (ms) => this.armTick(plugin, ms);
    if (plugin.tickPeriod) this.armTick(plugin, plugin.tickPeriod);
    return { name, plugin };
  }

  private armTick(plugin: Plugin, ms: number): void {
    const t = this.timers.find((x) => (x as unknown as { plugin?: Plugin }).plugin === plugin);
    if (t) { clearInterval(t); this.timers = this.timers.filter((x) => x !== t); }
    if (!ms) return;
    const timer = setInterval(() => { plugin.tick(); plugin.clearLogs(); }, ms);
    (timer as unknown as { plugin: Plugin }).plugin = plugin;
    timer.unref();
    this.timers.push(timer);
  }

  private inflight = new Map<Plugin, Set<Promise<void>>>();
  private grpcUpstream = new GrpcUpstream((cluster) => this.pick(cluster), (plugin, p) => {
    const set = this.inflight.get(plugin) ?? new Set();
    this.inflight.set(plugin, set);
    const q: Promise<void> = p.finally(() => set.delete(q));
    set.add(q);
  });
  private dispatchCall(plugin: Plugin, call: PendingHttpCall): Promise<void> {
    const set = this.inflight.get(plugin) ?? new Set();
    this.inflight.set(plugin, set);
    const p = (async () => {
      await Promise.resolve(); // never answer inline (Envoy posts the callback)
      const ep = this.pick(call.cluster);
      const hdrs: HeaderList = call.headers.map(([k, v]) => [k, v]);
      let res: { status: number; headers: HeaderList; body: Buffer };
      if (!ep) res = { status: 503, headers: [['content-type', 'text/plain']], body: Buffer.from('no healthy upstream') };
      else res = await forward(ep, hdrs, call.body, call.timeoutMs).catch((e: Error) => (e.message === 'timeout'
        ? { status: 504, headers: [['content-type', 'text/plain']], body: Buffer.from('upstream request timeout') }
        : { status: 503, headers: [['content-type', 'text/plain']], body: Buffer.from(`upstream connect error or disconnect/reset before headers. reset reason: connection failure`) }));
      if (!plugin.pendingHttpCalls().some((c) => c.token === call.token)) return;
      plugin.respondHttpCall(call.token, { headers: [[':status', String(res.status)], ...res.headers.filter(([k]) => k !== 'content-length'), ['content-length', String(res.body.length)]], body: res.body });
    })().finally(() => set.delete(p));
    set.add(p);
    return p;
  }

  private pick(cluster: string): Endpoint | null {
    const eps = this.clusters.get(cluster);
    if (!eps || !eps.length) return null;
    const i = (this.rr.get(cluster) ?? 0) % eps.length;
    this.rr.set(cluster, i + 1);
    return eps[i];
  }

  /** Wait while the stream is paused and this plugin has http calls in flight. */
  private async settle(plugin: Plugin, paused: () => boolean): Promise<void> {
    for (let i = 0; i < 10000 && paused(); i++) {
      const set = this.inflight.get(plugin);
      if (!set || !set.size) return;
      await Promise.race(set);
    }
  }
  /** Whether settle() would wait: the stream is held and this plugin has http calls in flight (hot path: no await). */
  private waits(plugin: Plugin, s: HttpStream, resp: boolean): boolean {
    if (resp ? !s.responsePaused : !s.requestPaused || s.localReply) return false;
    const set = this.inflight.get(plugin);
    return !!set && set.size > 0;
  }

  private handle(l: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> | void {
    this.requests++;
    // HTTP/1.1: a request without content-length / transfer-encoding has no body (no wait for 'end')
    const raw = req.rawHeaders;
    let hasBody = false;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i];
      if (k.length === 14 && k.toLowerCase() === 'content-length') { if (raw[i + 1] !== '0') hasBody = true; }
      else if (k.length === 17 && k.toLowerCase() === 'transfer-encoding') hasBody = true;
    }
    if (!hasBody) { req.resume(); return this.process(l, req, res, EMPTY); }
    return new Promise<Buffer>((r, j) => { const cs: Buffer[] = []; req.on('data', (c: Buffer) => cs.push(c)); req.on('end', () => r(cs.length === 1 ? cs[0] : Buffer.concat(cs))); req.on('error', j); })
      .then((body) => this.process(l, req, res, body));
  }

  private process(l: Listener, req: IncomingMessage, res: ServerResponse, body: Uint8Array): Promise<void> | void {
    const raw = req.rawHeaders;
    const headers: HeaderList = [[':authority', req.headers.host ?? ''], [':path', req.url ?? '/'], [':method', req.method ?? 'GET'], [':scheme', 'http']];
    let xfp = false, rid = false;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      if (k === 'host' || k === 'connection' || k === 'keep-alive' || k === 'transfer-encoding') continue;
      if (k === 'x-forwarded-proto') xfp = true; else if (k === 'x-request-id') rid = true;
      headers.push([k, raw[i + 1]]);
    }
    if (!xfp) headers.push(['x-forwarded-proto', 'http']);
    if (!rid) headers.push(['x-request-id', randomUUID()]);
    return this.decode(l, res, headers, body, [], [], 0);
  }

  /** Decode path from filter i on; synchronous unless a filter waits for an http call. */
  private decode(l: Listener, res: ServerResponse, headers: HeaderList, reqBody: Uint8Array, reqTrailers: HeaderList, streams: HttpStream[], i: number): Promise<void> | void {
    for (; i < l.filters.length; i++) {
      const { plugin } = l.filters[i];
      const s = plugin.newStream(l.streamOptions);
      streams.push(s);
      const eos = reqBody.length === 0 && reqTrailers.length === 0;
      s.sendRequestHeaders(headers, eos);
      if (this.waits(plugin, s, false)) return this.decodeAsync(l, res, headers, reqBody, reqTrailers, streams, i, s, 0);
      if (reqBody.length) { s.sendRequestBody(reqBody, reqTrailers.length === 0); if (this.waits(plugin, s, false)) return this.decodeAsync(l, res, headers, reqBody, reqTrailers, streams, i, s, 1); }
      if (reqTrailers.length) { s.sendRequestTrailers(reqTrailers); if (this.waits(plugin, s, false)) return this.decodeAsync(l, res, headers, reqBody, reqTrailers, streams, i, s, 2); }
      const r = this.afterDecode(l, res, s, streams, i);
      if (r === 'stop') return;
      if (r !== 'next') return this.route(l, res, headers, reqBody, streams, r);
      const up = s.upstreamRequest!;
      headers = up.headers.toList(); reqBody = up.body; reqTrailers = up.trailers?.toList() ?? [];
    }
    return this.route(l, res, headers, reqBody, streams, null);
  }

  private async decodeAsync(l: Listener, res: ServerResponse, headers: HeaderList, reqBody: Uint8Array, reqTrailers: HeaderList, streams: HttpStream[], i: number, s: HttpStream, stage: number): Promise<void> {
    const { plugin } = l.filters[i];
    const held = () => s.requestPaused && !s.localReply;
    await this.settle(plugin, held);
    if (stage < 1 && reqBody.length) { s.sendRequestBody(reqBody, reqTrailers.length === 0); await this.settle(plugin, held); }
    if (stage < 2 && reqTrailers.length) { s.sendRequestTrailers(reqTrailers); await this.settle(plugin, held); }
    const r = this.afterDecode(l, res, s, streams, i);
    if (r === 'stop') return;
    if (r !== 'next') return this.route(l, res, headers, reqBody, streams, r);
    const up = s.upstreamRequest!;
    return this.decode(l, res, up.headers.toList(), up.body, up.trailers?.toList() ?? [], streams, i + 1);
  }

  /** After filter i's decode callbacks: 'next' (continue), a local reply to encode from filter i - 1, or 'stop' (reset). */
  private afterDecode(l: Listener, res: ServerResponse, s: HttpStream, streams: HttpStream[], i: number): 'next' | 'stop' | LocalAnswer {
    if (s.closed) { this.reset(res, streams, l); return 'stop'; }
    if (s.localReply || !s.requestContinued || s.requestPaused) {
      if (!s.localReply) s.sendLocalReply(408, 'stream_idle_timeout', Buffer.from('stream timeout'), [], null);
      const cr = s.clientResponse;
      if (!cr) { this.reset(res, streams, l); return 'stop'; }
      const local: LocalAnswer = { headers: cr.headers.toList(), body: cr.body, at: i };
      for (let j = i + 1; j < l.filters.length; j++) { const t = l.filters[j].plugin.newStream(l.streamOptions); t.localReplyFromEarlierFilter(Number(valueToString(cr.headers.get(':status') ?? '500'))); streams.push(t); }
      return local;
    }
    return 'next';
  }

  /** Router (or the local reply of filter local.at), then the encode path. */
  private route(l: Listener, res: ServerResponse, headers: HeaderList, reqBody: Uint8Array, streams: HttpStream[], local: LocalAnswer | null): Promise<void> | void {
    if (local) return this.encode(l, res, streams, local.headers, local.body, local.at - 1);
    const from = l.filters.length - 1;
    let path = '/';
    for (let k = 0; k < headers.length; k++) if (headers[k][0] === ':path') { path = valueToString(headers[k][1]); break; }
    const route = l.routes.find((r) => (r.path !== undefined ? path.split('?')[0] === r.path : path.startsWith(r.prefix!)));
    const ep = route ? this.pick(route.cluster) : null;
    if (!route) return this.encode(l, res, streams, [[':status', '404']], EMPTY, from);
    if (!ep) return this.encode(l, res, streams, [[':status', '503'], ['content-type', 'text/plain']], Buffer.from('no healthy upstream'), from);
    return forward(ep, headers, reqBody).then(
      (r) => { r.headers.unshift([':status', String(r.status)]); return this.encode(l, res, streams, r.headers, r.body, from); },
      () => {
        const b = Buffer.from('upstream connect error or disconnect/reset before headers. reset reason: connection failure');
        return this.encode(l, res, streams, [[':status', '503'], ['content-type', 'text/plain'], ['content-length', String(b.length)]], b, from);
      });
  }

  /** Encode path: filters from..0 in reverse order, then write the response. */
  private encode(l: Listener, res: ServerResponse, streams: HttpStream[], respHeaders: HeaderList, respBody: Uint8Array, from: number, settled = false): Promise<void> | void {
    for (let i = from; i >= 0; i--) {
      const s = streams[i];
      const { plugin } = l.filters[i];
      if (!settled) {
        s.sendResponseHeaders(respHeaders, respBody.length === 0);
        if (this.waits(plugin, s, true)) return this.encodeAsync(l, res, streams, respHeaders, respBody, i, 0);
        if (respBody.length) { s.sendResponseBody(respBody, true); if (this.waits(plugin, s, true)) return this.encodeAsync(l, res, streams, respHeaders, respBody, i, 1); }
      }
      settled = false;
      if (s.closed) return this.reset(res, streams, l);
      if (!s.clientResponse) s.sendLocalReply(408, 'stream_idle_timeout', Buffer.from('stream timeout'), [], null);
      const c2 = s.clientResponse;
      if (!c2) return this.reset(res, streams, l);
      respHeaders = c2.headers.toList(); respBody = c2.body;
    }
    this.write(l, res, streams, respHeaders, respBody);
  }

  private async encodeAsync(l: Listener, res: ServerResponse, streams: HttpStream[], respHeaders: HeaderList, respBody: Uint8Array, i: number, stage: number): Promise<void> {
    const s = streams[i];
    const { plugin } = l.filters[i];
    const held = () => s.responsePaused;
    await this.settle(plugin, held);
    if (stage < 1 && respBody.length) { s.sendResponseBody(respBody, true); await this.settle(plugin, held); }
    return this.encode(l, res, streams, respHeaders, respBody, i, true);
  }

  private write(l: Listener, res: ServerResponse, streams: HttpStream[], respHeaders: HeaderList, respBody: Uint8Array): void {
    let status = 200;
    const out: string[] = [];
    let server = false;
    for (let k = 0; k < respHeaders.length; k++) {
      const n = respHeaders[k][0], v = respHeaders[k][1];
      if (n === ':status') { status = parseInt(valueToString(v), 10) || 200; continue; }
      if (n.charCodeAt(0) === 58 || n === 'transfer-encoding' || n === 'connection' || n === 'content-length' || n === 'keep-alive') continue;
      if (n === 'server') server = true;
      out.push(n, valueToString(v as HeaderValue));
    }
    out.push('content-length', String(respBody.length));
    if (!server) out.push('server', 'envoy');
    // `date`: Node adds its per-second cached Date header (res.sendDate) unless the upstream sent one
    try {
      res.writeHead(status, out as unknown as Record<string, string>);
      res.end(Buffer.isBuffer(respBody) ? respBody : Buffer.from(respBody.buffer, respBody.byteOffset, respBody.length));
    } catch (e) { this.warn(`cannot write response: ${(e as Error).message}`); res.destroy(); }
    this.finish(streams, l);
  }

  private reset(res: ServerResponse, streams: HttpStream[], l: Listener): void { res.destroy(); this.finish(streams, l); }
  private finish(streams: HttpStream[], l: Listener): void {
    for (const s of streams) s.complete();
    // lines went to the log sink as they came; keep the in-memory list bounded
    for (const f of l.filters) if (f.plugin.logs.length) f.plugin.clearLogs();
  }

  /** Every wasm filter's plugin, listener by listener. */
  plugins(): Plugin[] { return this.listeners.flatMap((l) => l.filters.map((f) => f.plugin)); }

  prometheus(): string {
    const all = this.listeners.flatMap((l) => l.filters.flatMap((f) => f.plugin.metricObjects()));
    return prometheusText(all, this.statsTags, { help: true });
  }

  /** Binds every listener, then the admin one. On failure nothing stays bound. */
  async start(): Promise<void> {
    try {
      await this.listen();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async listen(): Promise<void> {
    const bind = (server: Server, what: string, host: string, port: number) => new Promise<void>((r, j) => {
      server.once('error', (e: NodeJS.ErrnoException) => j(e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new ListenError(what, host, port, e.code) : e));
      server.listen(port, host, () => r());
    });
    for (const l of this.listeners) {
      const server = createServer((req, res) => {
        const fail = (e: Error) => { this.warn(`request failed: ${e.stack ?? e.message}`); try { res.writeHead(500); res.end(); } catch { res.destroy(); } };
        try { const r = this.handle(l, req, res); if (r) r.catch(fail); } catch (e) { fail(e as Error); }
      });
      server.keepAliveTimeout = 60000;
      l.server = server;
      await bind(server, `listener ${l.name}`, l.host, l.port);
      const a = server.address();
      if (a && typeof a === 'object') l.port = a.port;
      this.log(`listener ${l.name} on http://${l.host}:${l.port} (${l.filters.length} wasm filter(s): ${l.filters.map((f) => f.name).join(', ') || 'none'})`);
    }
    if (this.admin) {
      const admin = new Admin(this);
      const server = createServer((req, res) => admin.handle(req, res));
      this.admin.server = server;
      await bind(server, 'admin', this.admin.host, this.admin.port);
      const a = server.address();
      if (a && typeof a === 'object') this.admin.port = a.port;
      this.log(`admin on http://${this.admin.host}:${this.admin.port} (/ready, /stats, /stats/prometheus, /clusters, /logging)`);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const close = (s?: Server) => new Promise<void>((r) => { if (!s?.listening) return r(); s.closeAllConnections?.(); s.close(() => r()); });
    await Promise.all([...this.listeners.map((l) => close(l.server)), close(this.admin?.server)]);
    for (const l of this.listeners) for (const f of l.filters) f.plugin.close();
    this.grpcUpstream.close();
  }
}

