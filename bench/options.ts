/**
 * The options of `npm run bench` (pure: tested in test/options.test.ts).
 *
 *   --smoke                a short pass (CI): small N, one round
 *   --json                 the JSON report on stdout instead of the table
 *   --only=a,b             only these targets (ids: noop, header, redact, …, serve)
 *   --rounds N             rounds of fresh processes per target (default 3, smoke 1)
 *   --baseline REF         side by side: the filters built at git REF (a clean checkout) against the
 *                          working tree, interleaved in one run, with the % change and the .wasm sizes
 *   --filter NAME          with --baseline: only this filter (repeat, or NAME,NAME)
 */

export interface BenchOptions {
  smoke: boolean;
  json: boolean;
  only: string[] | null;
  /** rounds of processes per target; null = the default (3, or 1 for --smoke) */
  rounds: number | null;
  /** git ref to compare the filters with, or null for the normal run */
  baseline: string | null;
  /** with --baseline: the filters to compare (null = every filter) */
  filters: string[] | null;
  /** internal: measure this one target in this process and print its result as JSON */
  child: string | null;
  /** internal: the .wasm the child measures instead of the target's own (a baseline build) */
  childWasm: string | null;
  /** internal: the lighter measurement of a side-by-side run */
  compare: boolean;
}

export class BenchUsageError extends Error {}

export const BENCH_USAGE =
  'usage: npm run bench -- [--smoke] [--json] [--only=a,b] [--rounds N] [--baseline REF [--filter NAME]...]';

const VALUED = ['only', 'rounds', 'baseline', 'filter', 'child', 'child-wasm'] as const;
const FLAGS = ['smoke', 'json', 'compare'] as const;

/** Parses the command line; a bad one throws a BenchUsageError with one line saying what is wrong. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    if (!m) throw new BenchUsageError(`unexpected argument ${JSON.stringify(a)}; ${BENCH_USAGE}`);
    const [, name, inline] = m;
    if ((FLAGS as readonly string[]).includes(name)) {
      if (inline !== undefined) throw new BenchUsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    if (!(VALUED as readonly string[]).includes(name)) throw new BenchUsageError(`unknown option --${name}; ${BENCH_USAGE}`);
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new BenchUsageError(`--${name} needs a value`);
      i++;
    }
    if (value.trim() === '') throw new BenchUsageError(`--${name} needs a value`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const one = (name: string): string | null => {
    const v = values.get(name);
    if (!v) return null;
    if (v.length > 1 && name !== 'filter') throw new BenchUsageError(`--${name} given twice`);
    return v[0];
  };
  const list = (name: string): string[] | null => {
    const v = values.get(name);
    return v ? v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean) : null;
  };
  let rounds: number | null = null;
  const r = one('rounds');
  if (r !== null) {
    if (!/^\d+$/.test(r) || Number(r) < 1 || Number(r) > 50) throw new BenchUsageError(`--rounds must be a whole number from 1 to 50, got ${JSON.stringify(r)}`);
    rounds = Number(r);
  }
  const baseline = one('baseline');
  const filters = list('filter');
  if (filters && baseline === null) throw new BenchUsageError('--filter selects filters of a side-by-side run: give --baseline REF too (use --only=NAME for the normal run)');
  if (baseline !== null && values.has('only')) throw new BenchUsageError('--only is for the normal run; with --baseline, choose filters with --filter NAME');
  return {
    smoke: flags.has('smoke'),
    json: flags.has('json'),
    only: list('only'),
    rounds,
    baseline,
    filters,
    child: one('child'),
    childWasm: one('child-wasm'),
    compare: flags.has('compare'),
  };
}
