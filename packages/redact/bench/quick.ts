// Quick redact benchmark through tools/proxy-wasm-host (the Envoy-faithful host, its own cost
// included): ns per exchange and MB/s for 64 KiB and 1 MiB JSON request bodies in 16 KiB chunks,
// with the lab config (SECRET= marker) and with every rule kind.
//   npx tsx bench/quick.ts [--runs 5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** CPU time of this process in ns (user + system): robust when other jobs share the machine. */
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
import { loadPlugin, type HeaderList } from '@meshwasm/proxy-wasm-host';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const CHUNK = Number(process.argv[process.argv.indexOf("--chunk") + 1]) || 16384;

function jsonBody(size: number): Uint8Array {
  let s = '[';
  for (let i = 0; s.length < size; i++) s += `{"id":${i},"note":"order ${i} for customer ${i * 7}","text":"SECRET=s3cr3t-${i} and more words","mail":"u${i}@example.com"},`;
  return new TextEncoder().encode(s.slice(0, size - 1) + ']');
}

async function main(): Promise<void> {
  const wasm = new Uint8Array(readFileSync(join(__dirname, '..', 'dist', 'redact.wasm')));
  const configs: Record<string, unknown> = {
    'floor: not scanned': { rules: [{ marker: 'SECRET=' }], contentTypes: ['form'] },
    'marker never found': { rules: [{ marker: 'ZZZZ=' }] },
    'lab (SECRET= marker)': JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'lab.json'), 'utf8')),
    'all rule kinds': { rules: [{ marker: 'SECRET=' }, { jsonField: 'password' }, { detector: 'email' }, { detector: 'credit_card' }, { detector: 'bearer_token' }, { detector: 'jwt' }, { detector: 'cloud_key' }] },
  // a pattern rule: a US SSN (the body's many digits keep the automaton busy) or the body's secrets
  'pattern (SSN|s3cr3t-N)': { rules: [{ pattern: '\\d{3}-\\d{2}-\\d{4}|s3cr3t-\\d+' }] },
  };
  for (const [label, config] of Object.entries(configs)) {
    for (const size of [64 * 1024, 1024 * 1024]) {
      const p = await loadPlugin(wasm, { config: config as object, logLevel: 'warn' });
      const body = jsonBody(size);
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < body.length; o += CHUNK) chunks.push(body.subarray(o, o + CHUNK));
      const req: HeaderList = [[':authority', 'svc'], [':path', '/'], [':method', 'POST'], [':scheme', 'http'], ['content-type', 'application/json'], ['content-length', String(size)]];
      const one = () => {
        const s = p.newStream();
        s.sendRequestHeaders(req, false);
        for (let i = 0; i < chunks.length; i++) s.sendRequestBody(chunks[i], i === chunks.length - 1);
        s.sendResponseHeaders([[':status', '204']], true);
        s.complete();
        return s;
      };
      const check = Buffer.from(one().requestBody).toString();
      if (label.startsWith('lab') && check.includes('s3cr3t')) throw new Error('not redacted');
      const n = Math.max(20, Math.round((64 * 1024 * 1024) / size));
      for (let i = 0; i < n / 4; i++) one();
      const samples: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const t0 = cpuNs();
        for (let i = 0; i < n; i++) one();
        samples.push((cpuNs() - t0) / n);
      }
      samples.sort((a, b) => a - b);
      const ns = samples[samples.length >> 1];
      console.log(`${label.padEnd(22)} ${String(size / 1024).padStart(5)} KiB  ${(ns / 1000).toFixed(1).padStart(8)} µs/exchange  ${((size / ns) * 1e3).toFixed(0).padStart(5)} MB/s  memory ${p.memoryBytes()} B`);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
