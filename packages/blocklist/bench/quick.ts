// Quick blocklist benchmark: ns per exchange with 10 vs 10,000 entries (the cost must stay within
// 2x), in the SDK's minimal V8 host (filter cost) and in tools/proxy-wasm-host (host included).
//   npx tsx bench/quick.ts [--n 100000] [--runs 5]
import { join } from 'node:path';
import { loadMini } from '../../as-proxy-wasm/bench/minihost';

/** CPU time of this process in ns (user + system): robust when other jobs share the machine. */
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
import { loadPlugin, type HeaderList } from '@meshwasm/proxy-wasm-host';

const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const N = arg('--n', 100000);
const RUNS = arg('--runs', 5);
const wasmPath = join(__dirname, '..', 'dist', 'blocklist.wasm');

function entries(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `*.w${i}.example.com` : i % 3 === 1 ? `.s${i}.example.net` : `h${i}.example.org`));
}
const HOSTS = ['api.internal.example:8443', 'www.w0.example.com', 'Shop.Example.ORG.', '[2001:db8::1]:443', 'xn--bcher-kva.de'];
const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const size of [10, 10000]) {
    const config = JSON.stringify({ deny: entries(size) });
    // minimal host: headers only
    const p = loadMini(wasmPath, config, 'blocklist');
    const reqs = HOSTS.map((h) => [[':authority', h], [':path', '/'], [':method', 'GET'], [':scheme', 'http'], ['user-agent', 'bench']] as Array<[string, string]>);
    const resp: Array<[string, string]> = [[':status', '200']];
    let k = 0;
    const one = () => p.exchange(reqs[k++ % reqs.length].slice(), resp.slice());
    for (let i = 0; i < 20000; i++) one();
    const mini: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = cpuNs();
      for (let i = 0; i < N; i++) one();
      mini.push((cpuNs() - t0) / N);
    }
    // full host
    const h = await loadPlugin(wasmPath, { config, logLevel: 'warn' });
    const hreqs: HeaderList[] = reqs;
    const hone = () => { const s = h.newStream(); s.sendRequestHeaders(hreqs[k++ % hreqs.length], true); if (!s.localReply) s.sendResponseHeaders(resp, true); s.complete(); };
    for (let i = 0; i < 5000; i++) hone();
    const full: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = cpuNs();
      for (let i = 0; i < N / 5; i++) hone();
      full.push((cpuNs() - t0) / (N / 5));
    }
    rows.push(`${String(size).padStart(6)} entries  minimal host ${median(mini).toFixed(0).padStart(6)} ns/exchange  proxy-wasm-host ${median(full).toFixed(0).padStart(6)} ns/exchange  memory ${p.memoryBytes()} B`);
  }
  console.log(rows.join('\n'));
}
main().catch((e) => { console.error(e); process.exit(1); });
