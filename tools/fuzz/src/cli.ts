/**
 * `fuzz` target of a filter (run in packages/<name>):
 *   tsx ../../tools/fuzz/src/cli.ts . [--long] [--seed N] [--exchanges N] [--configs N] [--exchange N] [--wasm FILE]
 * (--exchange N replays exchange N of the seed alone, on a fresh VM)
 * Short pass (CI): 2,000 exchanges and 200 configs with the fixed seed 1. --long: 100,000 exchanges
 * and 10,000 configs with a fresh seed. The seed is always printed; exit 1 on a broken invariant.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { freshSeed } from './rng';
import { fuzzFilter, formatFailure, type Report } from './run';
import { PROFILES } from './profiles';

export const SHORT = { exchanges: 2000, configs: 200, seed: 1 };
export const LONG = { exchanges: 100000, configs: 10000 };

export interface CliArgs { dir: string; long: boolean; seed?: number; exchanges?: number; configs?: number; wasm?: string; exchange?: number }

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = { dir: '.', long: false };
  const num = (v: string | undefined, flag: string) => { const n = Number(v); if (!v || !Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${JSON.stringify(v ?? '')}`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const [flag, inline] = k.startsWith('--') && k.includes('=') ? [k.slice(0, k.indexOf('=')), k.slice(k.indexOf('=') + 1)] : [k, undefined];
    const val = () => inline ?? argv[++i];
    if (flag === '--long') a.long = inline === undefined || inline === 'true';
    else if (flag === '--seed') a.seed = num(val(), '--seed');
    else if (flag === '--exchanges') a.exchanges = num(val(), '--exchanges');
    else if (flag === '--configs') a.configs = num(val(), '--configs');
    else if (flag === '--wasm') a.wasm = val();
    else if (flag === '--exchange') a.exchange = num(val(), '--exchange');
    else if (!flag.startsWith('-')) a.dir = flag;
    else throw new Error(`unknown option ${flag} (use --long, --seed N, --exchanges N, --configs N, --exchange N, --wasm FILE)`);
  }
  return a;
}

export function countsLine(r: Report): string {
  const c = r.counts;
  const kv = (m: Record<string, number>) => Object.entries(m).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const pages = (b: number) => (b / 65536) | 0;
  const mem = c.memoryPasses.length ? `${c.memoryPasses.map(pages).join(' -> ')} pages (after the run, then after each replay of its first ${c.replayed} exchanges)` : '';
  return [
    `${r.name}: seed ${r.seed}: ${c.exchanges} exchanges (${(c.bodyBytes / 1048576).toFixed(1)} MiB of bodies, largest ${c.largestBody} bytes) in ${(c.ms.exchanges / 1000).toFixed(1)} s; ${c.configs.accepted + c.configs.refused} configs (${c.configs.accepted} accepted, ${c.configs.refused} refused) in ${(c.ms.configs / 1000).toFixed(1)} s`,
    `  planted: ${kv(c.planted)}`,
    `  http call answers: ${kv(c.callAnswers)}`,
    `  configs by origin/schema verdict: ${kv(c.configs.byOrigin)}`,
    `  linear memory: ${mem || 'not measured'}; during the run it grew at exchange ${c.memoryGrowth.map(([i, b]) => `${i} (${(b / 65536) | 0})`).join(', ') || 'never'}`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const dir = resolve(a.dir);
  const name = basename(dir);
  const wasmPath = a.wasm ? resolve(a.wasm) : join(dir, 'dist', `${name}.wasm`);
  if (!existsSync(wasmPath)) { console.error(`✗ ${wasmPath} is missing: build it first (npx nx run ${name}:build)`); return 1; }
  const seed = a.seed ?? (a.long ? freshSeed() : SHORT.seed);
  const exchanges = a.exchanges ?? (a.long ? LONG.exchanges : SHORT.exchanges);
  const configs = a.configs ?? (a.long ? LONG.configs : SHORT.configs);
  console.log(`fuzz ${name}: seed ${seed}, ${exchanges} exchanges, ${configs} configs (${a.long ? 'long' : 'short'} pass; repeat with --seed ${seed})`);
  const report = await fuzzFilter({
    name,
    wasm: await WebAssembly.compile(readFileSync(wasmPath)),
    schema: JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8')),
    lab: JSON.parse(readFileSync(join(dir, 'examples', 'lab.json'), 'utf8')),
    seed, exchanges, configs, only: a.exchange,
    profile: PROFILES[name],
    print: (l) => console.log(l),
  });
  console.log(countsLine(report));
  for (const f of report.failures) console.error(formatFailure(f, name));
  if (report.failures.length) { console.error(`✗ fuzz ${name}: ${report.failures.length} invariant(s) broken with seed ${seed}: see above`); return 1; }
  console.log(`✓ fuzz ${name}: every invariant held`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e: unknown) => { console.error(`✗ fuzz: ${e instanceof Error ? e.message : String(e)}`); process.exit(1); });
}
