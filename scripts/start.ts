/**
 * The main job (`npm start`), on the embedded Node host — no Docker, no Envoy, no registry:
 *   1. builds every filter with Nx (cached);
 *   2. runs each filter's course lab (examples/lab.json + examples/lab.exchanges.json) through
 *      tools/proxy-wasm-host and prints what the filter did, checked against the lab;
 *   3. serves deploy/envoy/envoy.yaml (every filter in one chain) on 127.0.0.1:10000 with our
 *      local proxy, in front of a built-in echo upstream (127.0.0.1:8080) and a metadata service
 *      (127.0.0.1:8081), sends each lab's request through it once, and prints the curl command
 *      for each lab. It keeps serving until Ctrl-C.
 *
 *   npm start -- --verbose     also print every header the upstream and the client saw
 *   npm start -- --once        stop after the demonstration requests (scripts, tests)
 *   npm start -- --no-serve    stop after the labs
 */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLabReport, labFiles, runLab, type LabExchange } from '@meshwasm/labs';
import { EnvoyLikeProxy, startEcho, startMetadataService } from '@meshwasm/proxy-wasm-host';

const root = join(__dirname, '..');
const verbose = process.argv.includes('--verbose');
const once = process.argv.includes('--once');
const noServe = process.argv.includes('--no-serve');
const LISTEN = 'http://127.0.0.1:10000';

function filters(): string[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'asconfig.json')) && existsSync(join(dir, n, 'examples', 'lab.exchanges.json')))
    .sort();
}

async function main(): Promise<number> {
  console.log('▶ building every filter (nx run-many -t build)');
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, NX_TUI: 'false' },
  });
  if (build.status !== 0) {
    process.stdout.write(build.stdout);
    process.stderr.write(build.stderr);
    console.error('✗ build failed');
    return 1;
  }
  const cached = /(\d+) out of (\d+) tasks? (?:was|were) (?:read|retrieved) from cache|Nx read the output from the cache/.exec(build.stdout);
  console.log(`✓ built${cached ? ' (from the Nx cache where nothing changed)' : ''}\n`);

  let failures = 0;
  for (const name of filters()) {
    const report = await runLab(join(root, 'packages', name));
    console.log(formatLabReport(report, { verbose }));
    console.log('');
    failures += report.results.filter((r) => r.failures.length > 0).length + (report.configured ? 0 : 1);
  }
  console.log(failures === 0 ? '✓ every lab behaves as documented' : `✗ ${failures} lab exchange(s) differ from the documented outcome`);
  if (failures > 0) return 1;
  if (noServe) return 0;
  return serve();
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The curl command that sends a lab exchange's request to the local proxy. */
function curlFor(ex: LabExchange): string {
  const r = ex.request;
  const parts = ['curl', '-si'];
  if (r.method && r.method !== 'GET') parts.push('-X', r.method);
  if (r.authority && r.authority !== '127.0.0.1:10000') parts.push('-H', shellQuote(`host: ${r.authority}`));
  for (const [k, v] of r.headers ?? []) parts.push('-H', shellQuote(`${k}: ${v}`));
  if (r.body) parts.push('--data-binary', shellQuote(r.body));
  parts.push(shellQuote(`${LISTEN}${r.path ?? '/'}`));
  return parts.join(' ');
}

/** Sends a lab's request through the local proxy (node:http: fetch would drop the Host header). */
function demo(ex: LabExchange): Promise<string> {
  const r = ex.request;
  const headers: Record<string, string> = {};
  for (const [k, v] of r.headers ?? []) headers[k] = v;
  if (r.authority) headers.host = r.authority;
  return new Promise((resolveDemo, rejectDemo) => {
    const req = httpRequest(`${LISTEN}${r.path ?? '/'}`, { method: r.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const clientX = Object.entries(res.headers).filter(([k]) => k.startsWith('x-') && k !== 'x-echo').map(([k, v]) => `${k}: ${v}`);
        let line = `client got ${res.statusCode}${clientX.length ? ` (${clientX.join(', ')})` : ''}`;
        if (res.headers['x-echo'] === 'true') {
          // The echo upstream answers with what it received: show the parts the filters changed.
          const seen = JSON.parse(body) as { headers: Record<string, string>; body: string };
          const upX = Object.entries(seen.headers).filter(([k]) => k.startsWith('x-') && k !== 'x-request-id' && k !== 'x-forwarded-proto');
          line += `; upstream saw ${upX.map(([k, v]) => `${k}: ${v}`).join(', ') || 'no x- headers'}${seen.body ? `, body ${JSON.stringify(seen.body)}` : ''}`;
        } else if (body) {
          line += `, body ${JSON.stringify(body.length > 100 ? body.slice(0, 100) + '…' : body)}`;
        }
        resolveDemo(line);
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', rejectDemo);
    req.end(r.body);
  });
}

async function serve(): Promise<number> {
  console.log('\n▶ serving deploy/envoy/envoy.yaml with the local proxy (every filter in one chain)');
  const echo = await startEcho({ port: 8080, host: '127.0.0.1' });
  const meta = await startMetadataService({ port: 8081, host: '127.0.0.1' });
  const proxy = await EnvoyLikeProxy.fromFile(join(root, 'deploy', 'envoy', 'envoy.yaml'), { cwd: root, log: () => {} });
  await proxy.start();
  console.log(`  listener ${LISTEN}  ·  echo upstream ${echo.url}  ·  metadata service ${meta.url}  ·  admin http://127.0.0.1:9901 (/ready, /stats/prometheus)\n`);
  for (const name of filters()) {
    const { lab } = labFiles(join(root, 'packages', name));
    const ex = lab.exchanges[0];
    console.log(`  ${name} — ${lab.lab}`);
    console.log(`    $ ${curlFor(ex)}`);
    try {
      console.log(`    → ${await demo(ex)}`);
    } catch (e) {
      console.log(`    → request failed: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log('\n  metrics: curl -s http://127.0.0.1:9901/stats/prometheus');
  const stop = async () => {
    await proxy.stop();
    await echo.close();
    await meta.close();
  };
  if (once) {
    await stop();
    return 0;
  }
  console.log('  serving until Ctrl-C');
  return new Promise<number>((resolveExit) => {
    const onSignal = () => void stop().then(() => resolveExit(0));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
