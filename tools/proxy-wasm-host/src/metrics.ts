// Custom metrics with Envoy's rules (wasm.h / context.cc) and its Prometheus exposition.

export const enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }
export const DEFAULT_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
export const STAT_NAMESPACE = 'wasmcustom.';

export interface HistogramValue { count: number; sum: number; buckets: Array<{ le: number; count: number }> }
export type MetricValue = number | HistogramValue;

export class Metric {
  value = 0n;
  count = 0;
  sum = 0;
  /** Smallest and largest value recorded (histograms). */
  min = Infinity;
  max = -Infinity;
  bucketCounts: number[] = [];
  constructor(readonly id: number, readonly type: MetricType, readonly name: string, bucketCount: number) {
    if (type === MetricType.Histogram) this.bucketCounts = new Array(bucketCount).fill(0);
  }
}

const U64 = (1n << 64n) - 1n;

export class MetricStore {
  private byId = new Map<number, Metric>();
  private byKey = new Map<string, Metric>();
  private next = [0, 1, 2];
  constructor(readonly buckets: number[] = DEFAULT_BUCKETS) {}

  /** define_metric: ids 4,8,.. (counters) 5,9,.. (gauges) 6,10,.. (histograms); same (type,name) -> same id. */
  define(type: number, name: string): number {
    const key = type + '\0' + name;
    const existing = this.byKey.get(key);
    if (existing) return existing.id;
    const id = (this.next[type] += 4);
    const m = new Metric(id, type, name, this.buckets.length);
    this.byId.set(id, m); this.byKey.set(key, m);
    return id;
  }
  get(id: number): Metric | undefined { return this.byId.get(id); }
  find(name: string): Metric | undefined {
    for (const t of [0, 1, 2]) { const m = this.byKey.get(t + '\0' + name); if (m) return m; }
    return undefined;
  }
  record(m: Metric, v: bigint): void {
    if (m.type === MetricType.Counter) m.value = (m.value + BigInt.asUintN(64, v)) & U64; // Envoy: counter.add(value)
    else if (m.type === MetricType.Gauge) m.value = BigInt.asUintN(64, v);
    else {
      const x = Number(BigInt.asUintN(64, v));
      m.count++; m.sum += x;
      if (x < m.min) m.min = x;
      if (x > m.max) m.max = x;
      for (let i = 0; i < this.buckets.length; i++) if (x <= this.buckets[i]) m.bucketCounts[i]++;
    }
  }
  all(): Metric[] { return [...this.byId.values()]; }
  static value(m: Metric, buckets: number[]): MetricValue {
    if (m.type === MetricType.Histogram) return { count: m.count, sum: m.sum, buckets: buckets.map((le, i) => ({ le, count: m.bucketCounts[i] })) };
    return m.type === MetricType.Gauge ? Number(BigInt.asIntN(64, m.value)) : Number(m.value);
  }
}

export interface StatsTag { tagName: string; regex: string }

/** Envoy TagExtractorImpl: the first capture group is removed from the name, the second is the value. */
export function extractTags(fullName: string, tags: StatsTag[]): { name: string; labels: Array<[string, string]> } {
  let name = fullName;
  const labels: Array<[string, string]> = [];
  for (const t of tags) {
    let re: RegExp;
    try { re = new RegExp(t.regex); } catch { continue; }
    const m = re.exec(name);
    if (!m || m[1] === undefined) continue;
    const value = m[2] ?? m[1];
    const start = m.index + m[0].indexOf(m[1]);
    name = name.slice(0, start) + name.slice(start + m[1].length);
    labels.push([t.tagName, value]);
  }
  // Envoy collapses the leftover separators ("a..b" -> "a.b", no leading/trailing '.')
  name = name.replace(/\.{2,}/g, '.').replace(/^\.|\.$/g, '');
  return { name, labels };
}

export function sanitizeName(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = '_' + s;
  return s;
}
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(x));

/** Prometheus text exposition for custom metrics (Envoy PrometheusStatsFormatter, wasmcustom namespace). */
export function prometheusText(metrics: Array<{ m: Metric; buckets: number[] }>, tags: StatsTag[], opts: { help?: boolean } = {}): string {
  type Row = { labels: Array<[string, string]>; m: Metric; buckets: number[] };
  const groups = new Map<string, { type: string; rows: Row[] }>();
  for (const { m, buckets } of metrics) {
    const ex = extractTags(STAT_NAMESPACE + m.name, tags);
    let n = ex.name.startsWith(STAT_NAMESPACE) ? ex.name.slice(STAT_NAMESPACE.length) : ex.name;
    n = sanitizeName(n);
    const type = m.type === MetricType.Counter ? 'counter' : m.type === MetricType.Gauge ? 'gauge' : 'histogram';
    let g = groups.get(n);
    if (!g) groups.set(n, (g = { type, rows: [] }));
    g.rows.push({ labels: ex.labels.map(([k, v]) => [sanitizeName(k), v]), m, buckets });
  }
  const lab = (ls: Array<[string, string]>, extra?: [string, string]) => {
    const all = extra ? [...ls, extra] : ls;
    return all.length ? '{' + all.map(([k, v]) => `${k}="${esc(v)}"`).join(',') + '}' : '';
  };
  let out = '';
  for (const name of [...groups.keys()].sort()) {
    const g = groups.get(name)!;
    // Envoy prints no HELP; `help` adds one (the stat name) so that `promtool check metrics` lints clean
    if (opts.help) out += `# HELP ${name} ${STAT_NAMESPACE}${g.rows[0].m.name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    out += `# TYPE ${name} ${g.type}\n`;
    for (const r of g.rows) {
      if (g.type !== 'histogram') { out += `${name}${lab(r.labels)} ${MetricStore.value(r.m, r.buckets)}\n`; continue; }
      r.buckets.forEach((le, i) => { out += `${name}_bucket${lab(r.labels, ['le', fmt(le)])} ${r.m.bucketCounts[i]}\n`; });
      out += `${name}_bucket${lab(r.labels, ['le', '+Inf'])} ${r.m.count}\n`;
      out += `${name}_sum${lab(r.labels)} ${fmt(r.m.sum)}\n`;
      out += `${name}_count${lab(r.labels)} ${r.m.count}\n`;
    }
  }
  return out;
}
