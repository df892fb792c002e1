// Quick SDK benchmark: ns per exchange (median of runs), .wasm bytes and
// linear memory after N exchanges, for our no-op/header fixtures and the same
// filters on @gcoredev/proxy-wasm-sdk-as, in a minimal V8 host (bench/minihost.ts).
//   npx tsx bench/quick.ts [--n 200000] [--runs 5] [--json]
import { statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadMini } from './minihost';

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const N = arg('--n', 200000);
const RUNS = arg('--runs', 5);
const MEM_N = arg('--mem', 1000000);

type P = [string, string];
const REQ: P[] = [[':authority', 'example.com'], [':path', '/'], [':method', 'GET'], [':scheme', 'http'], ['user-agent', 'bench'], ['accept', '*/*']];
const RESP: P[] = [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '2']];

async function main(): Promise<void> {
  const pkg = join(__dirname, '..');
  execFileSync(process.execPath, [join(pkg, 'scripts', 'build-fixtures.mjs'), '--peer', '--only', 'noop,header,peer-noop,peer-header'], { stdio: 'inherit' });
  const files: Record<string, string> = {};
  for (const n of ['noop', 'header', 'peer-noop', 'peer-header']) files[n] = join(pkg, 'build', `${n}.wasm`);
  const rows: Array<Record<string, unknown>> = [];
  for (const name of ['noop', 'header', 'peer-noop', 'peer-header']) {
    const p = loadMini(files[name]);
    const one = () => p.exchange(REQ.slice(), RESP.slice());
    const check = one();
    if (name.endsWith('header') && !check.req.some(([k]) => k === 'x-training')) throw new Error(`${name}: header not set`);
    for (let i = 0; i < 20000; i++) one(); // warm-up
    const memWarm = p.memoryBytes();
    const samples: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) one();
      samples.push(Number(process.hrtime.bigint() - t0) / N);
    }
    samples.sort((a, b) => a - b);
    // memory flatness: run MEM_N exchanges in total
    for (let i = (RUNS * N + 20000); i < MEM_N; i++) one();
    rows.push({ filter: name, nsPerExchange: +samples[samples.length >> 1].toFixed(1), wasmBytes: statSync(files[name]).size, memAfterWarmup: memWarm, memAfterN: p.memoryBytes(), exchanges: Math.max(MEM_N, RUNS * N + 20000) });
  }
  const ours = (n: string) => rows.find((r) => r.filter === n)!.nsPerExchange as number;
  const ratio = { noop: +(ours('peer-noop') / ours('noop')).toFixed(2), header: +(ours('peer-header') / ours('header')).toFixed(2) };
  if (process.argv.includes('--json')) { console.log(JSON.stringify({ rows, speedupVsPeer: ratio }, null, 2)); return; }
  console.log('filter        ns/exchange  .wasm bytes  mem warm  mem after N');
  for (const r of rows) console.log(`${String(r.filter).padEnd(13)} ${String(r.nsPerExchange).padStart(11)}  ${String(r.wasmBytes).padStart(11)}  ${String(r.memAfterWarmup).padStart(8)}  ${String(r.memAfterN).padStart(11)} (${r.exchanges})`);
  console.log(`speed-up vs @gcoredev: no-op ${ratio.noop}x, header ${ratio.header}x`);
}
main().catch((e) => { console.error(e); process.exit(1); });
