/**
 * `npm run bench -- --baseline REF`: the filters built at REF (a clean checkout, the release
 * flow's `cleanCheckout`: that commit's own SDK and tools, the installed packages linked) against
 * the working tree's build, measured in the same run with the rounds interleaved (baseline and
 * current one after the other for each filter, the order swapped every round), so the machine's
 * drift falls on both sides alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cleanCheckout, listFilters } from '@meshwasm/release';
import { compareRuns, type Comparison, type FilterRuns } from './compare';
import type { TargetResult } from './measure';
import { BenchUsageError } from './options';
import { listTargets, type BenchTarget } from './targets';

export interface SideBySideOptions {
  ref: string;
  filters: string[] | null;
  rounds: number;
  smoke: boolean;
  /** measures one target in a fresh process, from `wasm` when given */
  measure: (t: BenchTarget, wasm: string | null) => TargetResult;
  log: (s: string) => void;
}

export interface SideBySideResult {
  commit: string;
  comparison: Comparison;
}

const nxEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NX_INTERACTIVE: 'false' });

function git(root: string, args: string[]): string | null {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** `nx run-many -t build -p <names>` in `dir`; throws with the end of Nx's output when it fails. */
function buildFilters(dir: string, names: string[], where: string): void {
  const r = spawnSync(join(dir, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '-p', names.join(','), '--outputStyle=static'], {
    cwd: dir,
    encoding: 'utf8',
    env: nxEnv(),
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`building ${names.join(', ')} ${where} failed:\n${`${r.stdout}\n${r.stderr}`.slice(-3000)}`);
}

/** The filters to compare: every filter of the working tree, or those named (each must exist). */
export function chooseFilters(all: string[], named: string[] | null): string[] {
  if (!named) return all;
  const unknown = named.filter((n) => !all.includes(n));
  if (unknown.length) throw new BenchUsageError(`--filter: no filter named ${unknown.map((u) => JSON.stringify(u)).join(', ')} (filters: ${all.join(', ')})`);
  return all.filter((n) => named.includes(n));
}

export function sideBySide(root: string, o: SideBySideOptions): SideBySideResult {
  const commit = git(root, ['rev-parse', '-q', '--verify', `${o.ref}^{commit}`]);
  if (!commit) throw new BenchUsageError(`--baseline: ${JSON.stringify(o.ref)} is not a commit of this repository`);
  const names = chooseFilters(listFilters(root).map((f) => f.name), o.filters);

  o.log(`▶ building ${names.join(', ')} at ${o.ref} (${commit.slice(0, 12)}) in a clean checkout`);
  const checkout = cleanCheckout(root, commit, nxEnv());
  try {
    buildFilters(checkout, names.filter((n) => existsSync(join(checkout, 'packages', n, 'asconfig.json'))), `at ${o.ref}`);
    o.log('▶ building the working tree\'s filters (nx, cached)');
    buildFilters(root, names, 'in the working tree');

    const targets = listTargets(root, () => {}).filter((t) => names.includes(t.id));
    const runs: FilterRuns[] = targets.map((t) => ({ filter: t.id, baseline: [], current: [] }));
    const missing = (t: BenchTarget): TargetResult => ({
      id: t.id, label: t.label, sdk: t.sdk, wasmBytes: 0, coldStartMs: 0, scenarios: [],
      memory: { afterWarmup: 0, afterN: 0, n: 0, flat: false }, error: `no packages/${t.id}/dist/${t.id}.wasm at ${o.ref}`,
    });
    for (let round = 1; round <= o.rounds; round++) {
      o.log(`▶ round ${round} of ${o.rounds}`);
      targets.forEach((t, i) => {
        const baseWasm = join(checkout, 'packages', t.id, 'dist', `${t.id}.wasm`);
        const sides = round % 2 === 1 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const);
        for (const side of sides) {
          const r = side === 'current' ? o.measure(t, null) : existsSync(baseWasm) ? o.measure(t, baseWasm) : missing(t);
          runs[i][side].push(r);
          const first = r.scenarios[0];
          o.log(`  ${t.id} ${side === 'current' ? 'working tree' : o.ref}: ${r.error ? `failed: ${r.error}` : `${first?.name ?? '?'} ${first?.nsPerExchange.toFixed(0) ?? '?'} ns`}`);
        }
      });
    }
    return { commit, comparison: compareRuns(runs) };
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
}
