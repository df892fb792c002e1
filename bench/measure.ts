/**
 * Measurement: cold start, ns per exchange (median of several runs after a warm-up), and linear
 * memory after warm-up and after N more exchanges (flat = no leak).
 */
import { readFileSync, statSync } from 'node:fs';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { loadMini } from '../packages/as-proxy-wasm/bench/minihost';
import { load as loadMiniBody, jsonBody } from '../packages/redact/bench/minibody';
import type { BenchTarget } from './targets';
import { REQUEST, RESPONSE } from './scenarios';

export interface ScenarioResult {
  name: string;
  exchanges: number;
  runs: number;
  nsPerExchange: number;
  nsAll: number[];
  mbPerSec?: number;
}

export interface TargetResult {
  id: string;
  label: string;
  sdk: string;
  wasmBytes: number;
  coldStartMs: number;
  scenarios: ScenarioResult[];
  minimalHost?: { nsPerExchange: number; nsAll: number[]; exchanges: number };
  /** body scenarios in a minimal V8 host (the filter's own cost, as the Rust body figure) */
  minimalBody?: Array<{ bytes: number; nsPerExchange: number; mbPerSec: number }>;
  memory: { afterWarmup: number; afterN: number; n: number; flat: boolean };
  error?: string;
  /** fresh processes measured (full runs: the median one is reported) */
  processes?: number;
  /** the headline ns of each process, sorted */
  headlineByProcess?: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeLoop(fn: () => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

/** The longest run of one scenario in a side-by-side run, in ns. */
const COMPARE_RUN_NS = 200e6;

/**
 * `compare`: the lighter profile of a side-by-side run (`--baseline`), which measures every filter
 * twice per round: fewer exchanges per run (a quarter, and no run longer than COMPARE_RUN_NS) and a
 * short memory check; the same warm-up and median.
 */

export async function measureTarget(t: BenchTarget, smoke: boolean, compare = false): Promise<TargetResult> {
  const scale = smoke ? 0.01 : compare ? 0.25 : 1;
  const bytes = new Uint8Array(readFileSync(t.wasmPath));
  const base = {
    id: t.id,
    label: t.label,
    sdk: t.sdk,
    wasmBytes: statSync(t.wasmPath).size,
  };
  const load = (config: unknown) =>
    loadPlugin(bytes, {
      config: (config === '' ? '' : config) as object,
      pluginName: t.id,
      rootId: t.sdk === 'as-proxy-wasm' ? t.id : '',
      clusters: t.clusters,
      logLevel: 'error',
    });
  try {
    // Cold start: compile + instantiate + vm_start + configure.
    const colds: number[] = [];
    for (let i = 0; i < (smoke ? 2 : compare ? 3 : 7); i++) {
      const t0 = process.hrtime.bigint();
      const p = await load(t.config);
      colds.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!p.configured) throw new Error(`configure failed: ${p.logs.map((l) => l.message).join(' | ')}`);
      p.close();
    }

    const runs = smoke ? 2 : compare ? 5 : 7;
    const scenarios: ScenarioResult[] = [];
    let memory = { afterWarmup: 0, afterN: 0, n: 0, flat: true };
    for (const sc of t.scenarios) {
      const plugin = await load(sc.config ?? t.config);
      let n = Math.max(20, Math.round((200_000 * scale) / (sc.weight ?? 1)));
      const fn = () => sc.run(plugin);
      const warmNs = timeLoop(fn, Math.max(10, Math.round(n / 4))); // warm-up (tier-up to TurboFan)
      // side by side: no run longer than COMPARE_RUN_NS (a heavy scenario's weight says its bytes, not its cost)
      if (compare) n = Math.max(20, Math.min(n, Math.round(COMPARE_RUN_NS / warmNs)));
      const all: number[] = [];
      for (let r = 0; r < runs; r++) all.push(timeLoop(fn, n));
      const ns = median(all);
      if (plugin.failed) throw new Error(`VM failed during ${sc.name}: ${plugin.logs.slice(-3).map((l) => l.message).join(' | ')}`);
      scenarios.push({
        name: sc.name,
        exchanges: n,
        runs,
        nsPerExchange: ns,
        nsAll: all,
        mbPerSec: sc.bodyBytes ? sc.bodyBytes / ns * 1e3 : undefined,
      });
      if (sc === t.scenarios[0]) {
        // Memory: after warm-up, then after N more exchanges of the first scenario.
        const afterWarmup = plugin.memoryBytes();
        const total = smoke || compare ? 10_000 : 1_000_000;
        for (let i = 0; i < total; i++) fn();
        const afterN = plugin.memoryBytes();
        memory = { afterWarmup, afterN, n: total, flat: afterN === afterWarmup };
      }
      plugin.close();
    }

    let minimalHost: TargetResult['minimalHost'];
    if (t.minimalHost) {
      const mini = loadMini(t.wasmPath, t.config === '' ? '' : JSON.stringify(t.config), t.sdk === 'as-proxy-wasm' ? t.id : '');
      const n = smoke ? 2_000 : Math.round(500_000 * scale);
      // The minimal host edits the lists in place: hand it fresh copies (a cheap slice, the same
      // for every target) rather than building the pairs inside the timed loop.
      const req = REQUEST.map(([k, v]) => [k, String(v)] as [string, string]);
      const resp = RESPONSE.map(([k, v]) => [k, String(v)] as [string, string]);
      const fn = () => {
        mini.exchange(req.slice(), resp.slice());
      };
      timeLoop(fn, n / 4);
      const all: number[] = [];
      for (let r = 0; r < runs; r++) all.push(timeLoop(fn, n));
      minimalHost = { nsPerExchange: median(all), nsAll: all, exchanges: n };
    }
    let minimalBody: TargetResult['minimalBody'];
    if (t.minimalBodySizes) {
      minimalBody = [];
      for (const size of t.minimalBodySizes) {
        const mb = loadMiniBody(t.config, t.wasmPath);
        const body = jsonBody(size);
        const n = smoke ? 20 : Math.max(50, Math.round((256 * 1024 * 1024 * (compare ? 0.25 : 1)) / size));
        const fn = () => void mb.exchange(body);
        timeLoop(fn, Math.max(5, n / 4));
        const all: number[] = [];
        for (let r = 0; r < runs; r++) all.push(timeLoop(fn, n));
        const ns = median(all);
        minimalBody.push({ bytes: size, nsPerExchange: ns, mbPerSec: (size / ns) * 1e3 });
      }
    }
    return { ...base, coldStartMs: median(colds), scenarios, minimalHost, minimalBody, memory };
  } catch (e) {
    return {
      ...base,
      coldStartMs: 0,
      scenarios: [],
      memory: { afterWarmup: 0, afterN: 0, n: 0, flat: false },
      error: e instanceof Error ? e.message : String(e),
    };
  }
}
