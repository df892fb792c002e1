// Micro-benchmark (not a test): the host's own cost per full exchange with a no-op filter
// (context create, request headers, response headers, log, done, delete).
//   npx tsx bench/host-overhead.ts [iterations]
import { loadPlugin, type HeaderList } from '../src/index';
import { noopModule } from '../src/testing/wasm-builder';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 300000);
  const p = await loadPlugin(noopModule());
  const req: HeaderList = [[':authority', 'localhost'], [':path', '/'], [':method', 'GET'], [':scheme', 'http'], ['user-agent', 'bench'], ['accept', '*/*']];
  const resp: HeaderList = [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '2']];
  const once = () => { const s = p.newStream(); s.sendRequestHeaders(req, true); s.sendResponseHeaders(resp, true); s.complete(); };
  for (let i = 0; i < 50000; i++) once(); // warm-up (JIT tiers)
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) once();
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[2];
  // the high-level API, for comparison
  const m = 20000;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < m; i++) await p.exchange({});
  const exch = Number(process.hrtime.bigint() - t1) / m;
  process.stdout.write(`no-op filter, HttpStream API: median ${median.toFixed(0)} ns/exchange (rounds: ${rounds.map((x) => x.toFixed(0)).join(', ')}; target <= 1000 ns)\n`);
  process.stdout.write(`no-op filter, plugin.exchange(): ${exch.toFixed(0)} ns/exchange (builds a full ExchangeResult)\n`);
  p.close();
}
void main();
