/**
 * The side-by-side table of `npm run bench -- --baseline REF` (pure: tested in
 * test/compare.test.ts): for each filter and scenario, the median ns per exchange of the baseline
 * build and of the current one over the interleaved rounds, the % change, and the .wasm sizes,
 * each against its budget (issue 14: per-exchange times within 5%, each .wasm at most 3% larger).
 */
import type { TargetResult } from './measure';

/** A slower exchange than this, in %, is over the time budget. */
export const TIME_BUDGET_PCT = 5;
/** A larger .wasm than this, in %, is over the size budget. */
export const SIZE_BUDGET_PCT = 3;

export interface FilterRuns {
  filter: string;
  /** one result per round (a failed process has `error`) */
  baseline: TargetResult[];
  current: TargetResult[];
}

export interface TimeRow {
  filter: string;
  scenario: string;
  baselineNs: number;
  currentNs: number;
  changePct: number;
  withinBudget: boolean;
}

export interface SizeRow {
  filter: string;
  baselineBytes: number;
  currentBytes: number;
  changePct: number;
  withinBudget: boolean;
}

export interface Comparison {
  times: TimeRow[];
  sizes: SizeRow[];
  /** filters that could not be compared, and why */
  failures: Array<{ filter: string; side: 'baseline' | 'current'; error: string }>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** (current - baseline) / baseline, in %. */
export function changePct(baseline: number, current: number): number {
  return baseline === 0 ? 0 : ((current - baseline) / baseline) * 100;
}

/** Every per-exchange figure of one result, by name: the host scenarios, then the minimal-host ones. */
export function figures(r: TargetResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of r.scenarios) out.set(s.name, s.nsPerExchange);
  if (r.minimalHost) out.set('headers (minimal host)', r.minimalHost.nsPerExchange);
  for (const b of r.minimalBody ?? []) out.set(`body ${Math.round(b.bytes / 1024)} KiB (minimal host)`, b.nsPerExchange);
  return out;
}

/** The median of each figure over the rounds that succeeded. */
function medians(runs: TargetResult[]): Map<string, number> {
  const all = new Map<string, number[]>();
  for (const r of runs) for (const [k, v] of figures(r)) all.set(k, [...(all.get(k) ?? []), v]);
  return new Map([...all].map(([k, v]) => [k, median(v)]));
}

export function compareRuns(runs: FilterRuns[]): Comparison {
  const out: Comparison = { times: [], sizes: [], failures: [] };
  for (const f of runs) {
    const ok = { baseline: f.baseline.filter((r) => !r.error), current: f.current.filter((r) => !r.error) };
    let failed = false;
    for (const side of ['baseline', 'current'] as const) {
      const bad = f[side].find((r) => r.error);
      if (ok[side].length === 0) {
        out.failures.push({ filter: f.filter, side, error: bad?.error ?? 'not measured' });
        failed = true;
      }
    }
    if (failed) continue;
    const base = medians(ok.baseline);
    const cur = medians(ok.current);
    for (const [scenario, currentNs] of cur) {
      const baselineNs = base.get(scenario);
      if (baselineNs === undefined) continue; // a scenario the baseline has not got
      const pct = changePct(baselineNs, currentNs);
      out.times.push({ filter: f.filter, scenario, baselineNs, currentNs, changePct: pct, withinBudget: pct <= TIME_BUDGET_PCT });
    }
    const baselineBytes = ok.baseline[0].wasmBytes;
    const currentBytes = ok.current[0].wasmBytes;
    const pct = changePct(baselineBytes, currentBytes);
    out.sizes.push({ filter: f.filter, baselineBytes, currentBytes, changePct: pct, withinBudget: pct <= SIZE_BUDGET_PCT });
  }
  return out;
}

const ns = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} µs` : `${v.toFixed(0)} ns`);
const pct = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(1)}%`;
const bytes = (v: number) => `${v.toLocaleString('en-US')} B`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');

export interface ComparisonMeta {
  /** the ref as given, and the commit it names */
  ref: string;
  commit: string;
  rounds: number;
  smoke: boolean;
}

/** The Markdown tables (also what the terminal shows). */
export function renderComparison(c: Comparison, meta: ComparisonMeta): string {
  const base = `${meta.ref} (${meta.commit.slice(0, 12)})`;
  const lines: string[] = [];
  lines.push(`## Side by side: ${base} vs the working tree`);
  lines.push('');
  lines.push(
    `ns per exchange, median over ${meta.rounds} interleaved round(s) (each round measures every filter's baseline and current build ` +
      `in fresh processes, one after the other)${meta.smoke ? '; smoke pass: the figures are not meaningful' : ''}. ` +
      `Budget: at most ${TIME_BUDGET_PCT}% slower, a .wasm at most ${SIZE_BUDGET_PCT}% larger.`,
  );
  lines.push('');
  lines.push(`| filter | scenario | ${meta.ref} | working tree | change | |`);
  lines.push('|---|---|---|---|---|---|');
  for (const t of c.times) lines.push(`| ${t.filter} | ${t.scenario} | ${ns(t.baselineNs)} | ${ns(t.currentNs)} | ${pct(t.changePct)} | ${mark(t.withinBudget)} |`);
  lines.push('');
  lines.push(`| filter | .wasm at ${meta.ref} | working tree | change | |`);
  lines.push('|---|---|---|---|---|');
  for (const s of c.sizes) lines.push(`| ${s.filter} | ${bytes(s.baselineBytes)} | ${bytes(s.currentBytes)} | ${pct(s.changePct)} | ${mark(s.withinBudget)} |`);
  for (const f of c.failures) lines.push('', `✗ ${f.filter}: the ${f.side} build could not be measured: ${f.error}`);
  const over = [...c.times.filter((t) => !t.withinBudget).map((t) => `${t.filter} ${t.scenario} ${pct(t.changePct)}`), ...c.sizes.filter((s) => !s.withinBudget).map((s) => `${s.filter} .wasm ${pct(s.changePct)}`)];
  lines.push('');
  lines.push(over.length === 0 ? '✅ every figure within budget' : `❌ over budget: ${over.join(', ')}`);
  return lines.join('\n') + '\n';
}
