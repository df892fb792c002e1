// The local proxy's admin listener, with the shapes of Envoy's admin interface for what a lab needs:
//   GET  /ready                 LIVE
//   GET  /stats                 every stat as `name: value` lines, histograms as Envoy's quantile summary
//                               (?filter=REGEX, ?usedonly, ?format=prometheus)
//   GET  /stats/prometheus      the Prometheus exposition
//   GET  /clusters              cluster::host::stat lines for the configured clusters
//   POST /logging               list the loggers; ?wasm=LEVEL, ?level=LEVEL (all), ?paths=wasm:LEVEL change them
//   GET  /logging               the list too (Envoy only answers POST there: use POST to be portable)
//   GET  /help                  this list
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from './plugin';
import type { LogLevelName } from './abi';
import { MetricType, STAT_NAMESPACE, type Metric } from './metrics';
import type { Endpoint, HostStats } from './upstream';

/** What the admin reads: the filters' plugins and the clusters. */
export interface AdminSource {
  readonly clusters: ReadonlyMap<string, Endpoint[]>;
  plugins(): Plugin[];
  prometheus(): string;
}

/** Envoy's (spdlog's) level names, in order; `off` drops everything. */
export const ENVOY_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
export type EnvoyLevel = (typeof ENVOY_LEVELS)[number];

/** The loggers this proxy has: only `wasm` (what the filters log, and what proxy_get_log_level answers). */
const LOGGERS = ['wasm'] as const;

const HELP = [
  ['/clusters', 'upstream cluster status'],
  ['/help', 'print out list of admin commands'],
  ['/logging', 'query/change logging levels'],
  ['/ready', 'print server state, return 200 if LIVE, otherwise return 503'],
  ['/stats', 'print server stats'],
  ['/stats/prometheus', 'print server stats in prometheus format'],
];

export class Admin {
  constructor(private readonly source: AdminSource) {}

  /** The level of the `wasm` logger (every filter shares it, like Envoy's one `wasm` logger). */
  wasmLevel(): EnvoyLevel {
    const p = this.source.plugins()[0];
    return p ? toEnvoyLevel(p.logLevel) : 'info';
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin');
    const send = (status: number, body: string, type = 'text/plain; charset=UTF-8') => { res.writeHead(status, { 'content-type': type }); res.end(body); };
    switch (url.pathname) {
      case '/ready': return send(200, 'LIVE\n', 'text/plain');
      case '/stats/prometheus': return send(200, this.source.prometheus(), 'text/plain; version=0.0.4');
      case '/stats': {
        const format = url.searchParams.get('format');
        if (format === 'prometheus') return send(200, this.source.prometheus(), 'text/plain; version=0.0.4');
        if (format !== null && format !== 'text') return send(400, `usage: /stats?format=text|prometheus (format=${format} is not served by proxy-wasm-host)\n`);
        const filter = url.searchParams.get('filter');
        let re: RegExp | null = null;
        if (filter !== null) { try { re = new RegExp(filter); } catch (e) { return send(400, `Invalid re2 regex: ${(e as Error).message}\n`); } }
        return send(200, this.statsText(re, url.searchParams.has('usedonly')));
      }
      case '/clusters': {
        const format = url.searchParams.get('format');
        if (format !== null && format !== 'text') return send(400, `usage: /clusters?format=text (format=${format} is not served by proxy-wasm-host)\n`);
        return send(200, this.clustersText());
      }
      case '/logging': {
        const params = [...url.searchParams.entries()];
        if (params.length && req.method !== 'POST') return send(405, `Method ${req.method ?? 'GET'} not allowed, POST required.`);
        const ok = params.length === 0 || this.changeLevels(params);
        return send(ok ? 200 : 404, (ok ? '' : loggingUsage()) + this.loggersText());
      }
      case '/':
      case '/help': return send(200, 'admin commands are:\n' + HELP.map(([p, d]) => `  ${p}: ${d}\n`).join(''));
      default: return send(404, `invalid path. admin commands are:\n${HELP.map(([p, d]) => `  ${p}: ${d}\n`).join('')}`);
    }
  }

  // ------------------------------------------------------------------ /logging
  /** Envoy LogsHandler::changeLogLevel: one of ?level=L, ?paths=name:L,..., or ?name=L. False: bad request. */
  private changeLevels(params: Array<[string, string]>): boolean {
    if (params.length !== 1) return false;
    const [key, value] = params[0];
    const changes: Array<[string, EnvoyLevel]> = [];
    if (key === 'level') {
      const l = parseLevel(value); if (!l) return false;
      for (const n of LOGGERS) changes.push([n, l]);
    } else if (key === 'paths') {
      for (const part of value.split(',')) {
        const [name, lv] = part.split(':');
        const l = parseLevel(lv ?? ''); if (!l || !(LOGGERS as readonly string[]).includes(name)) return false;
        changes.push([name, l]);
      }
    } else {
      const l = parseLevel(value); if (!l || !(LOGGERS as readonly string[]).includes(key)) return false;
      changes.push([key, l]);
    }
    for (const [, l] of changes) for (const p of this.source.plugins()) p.setLogLevel(toLogLevelName(l));
    return true;
  }

  private loggersText(): string {
    return 'active loggers:\n' + LOGGERS.map((n) => `  ${n}: ${this.wasmLevel()}\n`).join('') + '\n';
  }

  // ------------------------------------------------------------------ /stats
  /** Counters and gauges (`name: value`, sorted), then histograms (`name: P0(interval,cumulative) ...`). */
  statsText(filter: RegExp | null = null, usedOnly = false): string {
    const values = new Map<string, number>();
    const histograms = new Map<string, Recorded[]>();
    for (const p of this.source.plugins()) {
      for (const { m, buckets } of p.metricObjects()) {
        const name = STAT_NAMESPACE + m.name;
        if (m.type === MetricType.Histogram) { const l = histograms.get(name) ?? []; l.push({ m, buckets }); histograms.set(name, l); continue; }
        const v = m.type === MetricType.Gauge ? Number(BigInt.asIntN(64, m.value)) : Number(m.value);
        values.set(name, m.type === MetricType.Counter ? (values.get(name) ?? 0) + v : v); // one store in Envoy: same name, same stat
      }
    }
    for (const [cluster, eps] of this.source.clusters) {
      const sum = (k: keyof HostStats) => eps.reduce((a, e) => a + (e.stats?.[k] ?? 0), 0);
      for (const [stat, k] of [['upstream_cx_active', 'cx_active'], ['upstream_cx_connect_fail', 'cx_connect_fail'], ['upstream_cx_total', 'cx_total'],
        ['upstream_rq_active', 'rq_active'], ['upstream_rq_timeout', 'rq_timeout'], ['upstream_rq_total', 'rq_total']] as const) {
        values.set(`cluster.${cluster}.${stat}`, sum(k));
      }
    }
    const keep = (n: string, used: boolean) => (!filter || filter.test(n)) && (!usedOnly || used);
    let out = '';
    for (const n of [...values.keys()].sort()) if (keep(n, values.get(n) !== 0)) out += `${n}: ${values.get(n)}\n`;
    for (const n of [...histograms.keys()].sort()) {
      const ms = histograms.get(n)!;
      const count = ms.reduce((a, r) => a + r.m.count, 0);
      if (keep(n, count > 0)) out += `${n}: ${histogramSummary(ms)}\n`;
    }
    return out;
  }

  // ------------------------------------------------------------------ /clusters
  /** Envoy ClustersHandler text: circuit breakers, added_via_api, then each host's stats and attributes. */
  clustersText(): string {
    let out = '';
    for (const name of [...this.source.clusters.keys()].sort()) {
      out += `${name}::observability_name::${name}\n`;
      for (const prio of ['default', 'high']) {
        out += `${name}::${prio}_priority::max_connections::1024\n${name}::${prio}_priority::max_pending_requests::1024\n`;
        out += `${name}::${prio}_priority::max_requests::1024\n${name}::${prio}_priority::max_retries::3\n`;
      }
      out += `${name}::added_via_api::false\n`;
      for (const ep of this.source.clusters.get(name)!) {
        const h = `${name}::${ep.host}:${ep.port}`;
        const st = ep.stats;
        for (const k of ['cx_active', 'cx_connect_fail', 'cx_total', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total'] as const) out += `${h}::${k}::${st?.[k] ?? 0}\n`;
        out += `${h}::hostname::\n${h}::health_flags::healthy\n${h}::weight::1\n${h}::region::\n${h}::zone::\n${h}::sub_zone::\n`;
        out += `${h}::canary::false\n${h}::priority::0\n${h}::success_rate::-1\n${h}::local_origin_success_rate::-1\n`;
      }
    }
    return out;
  }
}

/** spdlog's names ("warn" is accepted for "warning"). */
export function parseLevel(v: string): EnvoyLevel | null {
  if (v === 'warn') return 'warning';
  return (ENVOY_LEVELS as readonly string[]).includes(v) ? (v as EnvoyLevel) : null;
}
const toLogLevelName = (l: EnvoyLevel): LogLevelName | 'off' => (l === 'warning' ? 'warn' : l);
const toEnvoyLevel = (l: LogLevelName | 'off'): EnvoyLevel => (l === 'warn' ? 'warning' : l);

function loggingUsage(): string {
  return 'usage: /logging?<name>=<level> (change single level)\n'
    + 'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n'
    + 'usage: /logging?level=<level> (change all levels)\n'
    + `levels: ${ENVOY_LEVELS.map((l) => l + ' ').join('')}\n`;
}

/** Envoy's supported quantiles: P0 P25 P50 P75 P90 P95 P99 P99.5 P99.9 P100. */
export const QUANTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** A histogram of one plugin, with its bucket bounds (bucketCounts[i] counts the values <= buckets[i]). */
export interface Recorded { m: Metric; buckets: number[] }

/**
 * Envoy ParentHistogram::quantileSummary: `P<q>(<interval>,<cumulative>)` for each quantile, or "No recorded values".
 * The interval column is what was recorded since the last stats flush; this proxy has no flush, so it is `nan`
 * (what Envoy prints before its first flush). Cumulative quantiles come from the bucket counts: P0 and P100 are the
 * smallest and largest value, the others are interpolated inside their bucket.
 */
export function histogramSummary(rs: Recorded[]): string {
  const count = rs.reduce((a, r) => a + r.m.count, 0);
  if (count === 0) return 'No recorded values';
  return QUANTILES.map((q) => `P${fmt(q * 100)}(nan,${fmt(quantile(rs, count, q))})`).join(' ');
}

function quantile(rs: Recorded[], count: number, q: number): number {
  const min = Math.min(...rs.map((r) => r.m.min)), max = Math.max(...rs.map((r) => r.m.max));
  if (q === 0) return min;
  if (q === 1) return max;
  const rank = q * count;
  const les = rs[0].buckets;
  let prevCum = 0, lo = min;
  for (let i = 0; i < les.length; i++) {
    const cum = rs.reduce((a, r) => a + (r.m.bucketCounts[i] ?? 0), 0);
    if (cum >= rank && cum > prevCum) {
      const hi = Math.min(les[i], max);
      return lo + (hi - lo) * (rank - prevCum) / (cum - prevCum);
    }
    if (cum > prevCum) lo = Math.max(les[i], min);
    prevCum = cum;
  }
  return max; // above the last bucket
}

const fmt = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : 'nan');
