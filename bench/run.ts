/**
 * `npm run bench`: the benchmark suite. For a no-op floor, every filter and the @gcoredev peers it
 * reports ns per exchange (median of several runs), .wasm bytes, cold start (compile +
 * instantiate + configure), and linear memory after warm-up and after N more exchanges.
 *
 * Two hosts are measured:
 *   - "host": tools/proxy-wasm-host, the Envoy-faithful host every test uses (its own cost is
 *     part of the figure);
 *   - "minimal": a minimal V8 host (packages/as-proxy-wasm/bench/minihost.ts), the kind of host
 *     the Rust SDK reference figures were taken in, for the SDK-vs-SDK comparison.
 *
 *   npm run bench                 full run, writes bench/RESULTS.md and bench/results.json
 *   npm run bench -- --json       prints the JSON instead of the table
 *   npm run bench -- --smoke      a short pass (CI): small N, checks everything runs
 *   npm run bench -- --only=header,noop
 *   npm run bench -- --rounds 5   rounds of fresh processes per target (default 3)
 *   npm run bench -- --baseline main [--filter header]...
 *                                 the filters built at a git ref (clean checkout) side by side with
 *                                 the working tree's, interleaved in one run: % change and .wasm sizes
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildAll, listTargets, type BenchTarget } from './targets';
import { GOALS, checkGoals } from './goals';
import { measureTarget, type TargetResult } from './measure';
import { renderMarkdown } from './report';
import { sideBySide } from './baseline';
import { renderComparison } from './compare';
import { BenchUsageError, parseBenchArgs, type BenchOptions } from './options';
import { measureServeThroughput, type ServeLoadResult } from '@meshwasm/proxy-wasm-host/bench/serve-load';

const RESULT_MARK = '@@bench-result ';
/** Envoy's V8 compiles every wasm function with TurboFan up front (proxy-wasm-cpp-host v8.cc: liftoff = false). */
const CHILD_V8_FLAGS = ['--no-liftoff'];

/**
 * Each target is measured in a process of its own: V8's inline caches and tier-up state for the
 * host code (ours and the minimal one) would otherwise carry over from one module to the next, so
 * a target measured after others looked up to 2.7x slower than alone, and the order of the
 * targets (ours before the peers) would bias the SDK-vs-SDK ratios.
 */
function measureInChild(t: BenchTarget, smoke: boolean, side: { wasm?: string | null; compare?: boolean } = {}): TargetResult {
  const args = [
    ...process.execArgv, ...CHILD_V8_FLAGS, __filename, `--child=${t.id}`,
    ...(smoke ? ['--smoke'] : []), ...(side.wasm ? [`--child-wasm=${side.wasm}`] : []), ...(side.compare ? ['--compare'] : []),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (r.status !== 0 || !line) {
    const error = `the measuring process exited with ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}`;
    return { id: t.id, label: t.label, sdk: t.sdk, wasmBytes: 0, coldStartMs: 0, scenarios: [], memory: { afterWarmup: 0, afterN: 0, n: 0, flat: false }, error };
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as TargetResult;
}

/** Processes per target in a full run: the spread between processes (JIT and machine noise) is larger than within one. */
const PROCESSES = 3;

/** The headline figure of a result: the minimal-host ns when measured there, else the first scenario's. */
function headline(r: TargetResult): number {
  return r.minimalHost?.nsPerExchange ?? r.minimalBody?.[0]?.nsPerExchange ?? r.scenarios[0]?.nsPerExchange ?? 0;
}

/** Of `runs` (one target's processes), the run whose headline figure is the median. */
function pickMedian(runs: TargetResult[]): TargetResult {
  const sorted = [...runs].sort((a, b) => headline(a) - headline(b));
  const pick = sorted[Math.floor(sorted.length / 2)];
  return { ...pick, processes: sorted.length, headlineByProcess: sorted.map(headline) };
}

/**
 * Measures every target in `n` rounds, each round one fresh process per target, in the same order,
 * and keeps each target's median process. Interleaved rounds share the machine's drift (a shared
 * VM's speed changes over minutes): measuring one target's processes back to back, then the next
 * target's, put a slow spell on one side of an SDK-vs-SDK ratio only.
 */
function measureRounds(targets: BenchTarget[], smoke: boolean, n: number, log: (s: string) => void): TargetResult[] {
  const runs = new Map<string, TargetResult[]>(targets.map((t) => [t.id, []]));
  const failed = new Map<string, TargetResult>();
  for (let round = 1; round <= n; round++) {
    if (n > 1) log(`▶ round ${round} of ${n}`);
    for (const t of targets) {
      if (failed.has(t.id)) continue;
      const r = measureInChild(t, smoke);
      if (r.error) {
        failed.set(t.id, r);
        log(`  ${t.id} failed: ${r.error}`);
        continue;
      }
      runs.get(t.id)!.push(r);
      log(`  ${t.id}: ${headline(r).toFixed(0)} ns`);
    }
  }
  return targets.map((t) => failed.get(t.id) ?? pickMedian(runs.get(t.id)!));
}

async function childMain(opts: BenchOptions, root: string): Promise<void> {
  const t = listTargets(root, () => {}).find((x) => x.id === opts.child);
  if (!t) throw new Error(`unknown benchmark target ${opts.child}`);
  if (opts.childWasm) t.wasmPath = opts.childWasm;
  const r = await measureTarget(t, opts.smoke, opts.compare);
  process.stdout.write(RESULT_MARK + JSON.stringify(r) + '\n');
}

/** `--baseline REF`: the side-by-side table on stdout (JSON with --json); exit 1 when a side could not be measured. */
function sideBySideMain(opts: BenchOptions, root: string, log: (s: string) => void): void {
  const rounds = opts.rounds ?? (opts.smoke ? 1 : PROCESSES);
  const ref = opts.baseline!;
  const { commit, comparison } = sideBySide(root, {
    ref,
    filters: opts.filters,
    rounds,
    smoke: opts.smoke,
    measure: (t, wasm) => measureInChild(t, opts.smoke, { wasm, compare: true }),
    log,
  });
  if (opts.json) process.stdout.write(JSON.stringify({ ref, commit, rounds, smoke: opts.smoke, ...comparison }, null, 2) + '\n');
  else process.stdout.write(renderComparison(comparison, { ref, commit, rounds, smoke: opts.smoke }));
  if (comparison.failures.length) {
    console.error(`✗ ${comparison.failures.map((f) => `${f.filter} (${f.side}): ${f.error}`).join('; ')}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    console.error(`bench: ${e.message}`);
    process.exit(2);
  }
  const root = join(__dirname, '..');
  if (opts.child) return childMain(opts, root);
  const log = (s: string) => {
    if (!opts.json) console.error(s);
  };
  if (opts.baseline !== null) {
    try {
      return sideBySideMain(opts, root, log);
    } catch (e) {
      if (!(e instanceof BenchUsageError)) throw e;
      console.error(`bench: ${e.message}`);
      process.exit(2);
    }
  }
  log(`▶ building benchmark targets${opts.smoke ? ' (smoke pass)' : ''}`);
  buildAll(root, log);
  let targets: BenchTarget[] = listTargets(root, log);
  if (opts.only) targets = targets.filter((t) => opts.only!.includes(t.id));

  const results = measureRounds(targets, opts.smoke, opts.rounds ?? (opts.smoke ? 1 : PROCESSES), log);
  for (const r of results) {
    if (r.error) continue;
    log(
      `▶ ${r.id}: ${r.label}\n` +
        `  ${r.wasmBytes} B, cold start ${r.coldStartMs.toFixed(2)} ms, ` +
        r.scenarios.map((s) => `${s.name}: ${s.nsPerExchange.toFixed(0)} ns${s.mbPerSec ? ` (${s.mbPerSec.toFixed(0)} MB/s)` : ''}`).join(', ') +
        `, memory ${r.memory.afterWarmup} -> ${r.memory.afterN} B after ${r.memory.n} exchanges`,
    );
  }
  // The local proxy (`proxy-wasm-host serve`) with the header filter, under a bounded load on loopback.
  let serve: ServeLoadResult | { error: string } | null = null;
  if (!opts.only || opts.only.includes('serve')) {
    log('▶ serve: proxy-wasm-host serve packages/header/envoy.yaml under a bounded loopback load');
    try {
      serve = await measureServeThroughput(opts.smoke ? { durationSec: 1, warmupSec: 0 } : { durationSec: 5 });
      log(`  ${serve.rps.toFixed(0)} req/s (${serve.generator}, proxy CPU ${serve.proxyCpu}, load ${serve.loadAvg})`);
    } catch (e) {
      serve = { error: e instanceof Error ? e.message : String(e) };
      log(`  serve measurement failed: ${serve.error}`);
    }
  }
  const goals = checkGoals(results, opts.smoke, serve && 'rps' in serve ? serve : null);
  const report = {
    date: new Date().toISOString(),
    smoke: opts.smoke,
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    goals,
    targets: results,
    serve,
    goalDefinitions: GOALS,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else if (!opts.smoke) {
    mkdirSync(join(root, 'bench'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(root, 'bench', 'RESULTS.md'), renderMarkdown(report));
    console.log(renderMarkdown(report));
    console.error('wrote bench/RESULTS.md and bench/results.json');
  } else {
    console.log(renderMarkdown(report));
  }
  const failed = [...results.filter((r) => r.error).map((r) => ({ id: r.id, error: r.error! })), ...(serve !== null && 'error' in serve ? [{ id: 'serve', error: serve.error }] : [])];
  if (failed.length) {
    // the last line: what failed and how to see it alone (its own error is above)
    console.error(`✗ ${failed.length} benchmark target(s) failed: ${failed.map((f) => `${f.id}: ${f.error}`).join('; ')}. Their errors are above; rerun one alone with npm run bench -- --only=${failed[0].id}`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  // the stack for whoever debugs it, then the reason as the last line
  if (err instanceof Error && err.stack) console.error(err.stack);
  console.error(`✗ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
