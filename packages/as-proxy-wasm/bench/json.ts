// JSON reader benchmark: the time to configure a root whose configuration is one object of N keys
// (the `members` root of the json fixture walks the members once), in the minimal V8 host. The
// duplicate-key check is one hash lookup per key, so the time per key stays flat as N grows.
//   npx tsx bench/json.ts [--runs 5] [--json]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadMini } from './minihost';

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const RUNS = arg('--runs', 5);
const SIZES = [0, 1_000, 10_000, 110_000];

function objectOf(n: number): string {
  const members: string[] = [];
  for (let i = 0; i < n; i++) members.push(`"k${i}":${i}`);
  return `{${members.join(',')}}`;
}

function main(): void {
  const pkg = join(__dirname, '..');
  execFileSync(process.execPath, [join(pkg, 'scripts', 'build-fixtures.mjs'), '--only', 'json'], { stdio: 'inherit' });
  const wasm = join(pkg, 'build', 'json.wasm');
  const rows: Array<{ keys: number; bytes: number; msPerConfigure: number; nsPerKey: number | null }> = [];
  for (const n of SIZES) {
    const config = objectOf(n);
    const samples: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      const p = loadMini(wasm, config, 'members');
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!p.logs.some((l) => l.includes(`members:${n}:`))) throw new Error(`${n} keys: not read (${p.logs.join(' | ').slice(0, 200)})`);
    }
    samples.sort((a, b) => a - b);
    const ms = samples[samples.length >> 1];
    rows.push({ keys: n, bytes: config.length, msPerConfigure: +ms.toFixed(2), nsPerKey: null });
  }
  const base = rows[0].msPerConfigure; // instantiate + configure an empty object
  for (const r of rows) if (r.keys > 0) r.nsPerKey = +(((r.msPerConfigure - base) * 1e6) / r.keys).toFixed(0);
  if (process.argv.includes('--json')) { console.log(JSON.stringify({ rows }, null, 2)); return; }
  console.log('keys      bytes       ms per configure  ns per key (over the empty object)');
  for (const r of rows) console.log(`${String(r.keys).padEnd(9)} ${String(r.bytes).padEnd(11)} ${String(r.msPerConfigure).padStart(16)}  ${r.nsPerKey ?? '-'}`);
}
main();
