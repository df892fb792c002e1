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
 *   npm start -- --listen-port N --echo-port N --metadata-port N --admin-port N
 *                              other ports than 10000, 8080, 8081, 9901 (0 = any free port)
 *
 * Ctrl-C, SIGTERM, or the death of the npm process that started it (npm passes SIGTERM to its
 * shell, which dies without passing it on) stop the build and every server, then it exits. Any
 * failure ends the output with one line: what went wrong and what to do.
 */
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { failureLines, runNx } from '@meshwasm/nx-plugin/failures';
import { findWorkspaceRoot, listLabFilters } from '@meshwasm/workspace';
import { formatLabReport, labFiles, runLab, type LabExchange } from '@meshwasm/labs';
import { curlFor } from '@meshwasm/labs/course';
import {
  endWithSignalsAndParent, EnvoyLikeProxy, FilterConfigRejected, ListenError, startEcho, startMetadataService, type RunningServer,
} from '@meshwasm/proxy-wasm-host';

const root = findWorkspaceRoot(__dirname);
const ENVOY_YAML = join(root, 'deploy', 'envoy', 'envoy.yaml');

/** A failure the user can act on: `message` says what went wrong, `todo` what to do. */
class Failure extends Error {
  /** `details`: lines printed just before the last one (e.g. each failed build task). */
  constructor(message: string, readonly todo: string, readonly details: string[] = []) { super(message); }
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2), strict: true,
      options: {
        verbose: { type: 'boolean' }, once: { type: 'boolean' }, 'no-serve': { type: 'boolean' },
        'listen-port': { type: 'string' }, 'echo-port': { type: 'string' }, 'metadata-port': { type: 'string' }, 'admin-port': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new Failure((e as Error).message, 'the options are --verbose, --once, --no-serve, --listen-port N, --echo-port N, --metadata-port N, --admin-port N');
  }
  const port = (flag: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Failure(`--${flag} ${v} is not a port number`, `give a number from 0 (any free port) to 65535`);
    return Number(v);
  };
  return {
    verbose: !!values.verbose, once: !!values.once, noServe: !!values['no-serve'],
    listenPort: port('listen-port', values['listen-port'], 10000), echoPort: port('echo-port', values['echo-port'], 8080),
    metadataPort: port('metadata-port', values['metadata-port'], 8081), adminPort: port('admin-port', values['admin-port'], 9901),
  };
}
type Options = ReturnType<typeof options>;

/** What is running now, so a signal (or the parent's death) can stop it. */
const running: { build?: ChildProcess; proxy?: EnvoyLikeProxy; services: RunningServer[] } = { services: [] };
async function stopEverything(): Promise<void> {
  running.build?.kill('SIGTERM');
  await running.proxy?.stop();
  await Promise.all(running.services.map((s) => s.close()));
  running.proxy = undefined;
  running.services = [];
}

async function main(o: Options): Promise<number> {
  console.log('▶ building every filter (nx run-many -t build)');
  // its output is shown only when it fails
  const built = await runNx(['run-many', '-t', 'build', '--outputStyle=stream'], { cwd: root, quiet: true, onChild: (c) => (running.build = c) });
  running.build = undefined;
  if (built.code !== 0) {
    process.stdout.write(built.output);
    throw new Failure('the build failed', 'fix what the compiler says above, then npm start again', failureLines(built.failed));
  }
  const cached = /(\d+) out of (\d+) tasks? (?:was|were) (?:read|retrieved) from cache|Nx read the output from the cache|Cache:\s+\d+\/\d+ hit/.exec(built.output);
  console.log(`✓ built${cached ? ' (from the Nx cache where nothing changed)' : ''}\n`);

  let failures = 0;
  const failedLabs: string[] = [];
  for (const { name, dir } of listLabFilters(root)) {
    const report = await runLab(dir);
    console.log(formatLabReport(report, { verbose: o.verbose }));
    console.log('');
    const n = report.results.filter((r) => r.failures.length > 0).length + (report.configured ? 0 : 1);
    if (n) failedLabs.push(name);
    failures += n;
  }
  if (failures > 0) {
    throw new Failure(`${failures} lab exchange(s) differ from the documented outcome (${failedLabs.join(', ')})`,
      `the report above says what differs; npx nx run ${failedLabs[0]}:test runs that filter's tests`);
  }
  console.log('✓ every lab behaves as documented');
  if (o.noServe) return 0;
  return serve(o);
}

/** Sends a lab's request through the local proxy (node:http: fetch would drop the Host header). */
function demo(ex: LabExchange, listen: string): Promise<string> {
  const r = ex.request;
  const headers: Record<string, string> = {};
  for (const [k, v] of r.headers ?? []) headers[k] = v;
  if (r.authority) headers.host = r.authority;
  return new Promise((resolveDemo, rejectDemo) => {
    const req = httpRequest(`${listen}${r.path ?? '/'}`, { method: r.method ?? 'GET', headers }, (res) => {
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

/** A service on a fixed port; a port in use is a Failure naming the flag that moves it. */
async function service(what: string, flag: string, start: () => Promise<RunningServer>, port: number): Promise<RunningServer> {
  try {
    const s = await start();
    running.services.push(s);
    return s;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Failure(`the ${what} cannot listen on 127.0.0.1:${port}: the port is in use (another npm start?)`, `stop what holds it, or npm start -- --${flag} N (0 = any free port)`);
    throw e;
  }
}

async function serve(o: Options): Promise<number> {
  console.log('\n▶ serving deploy/envoy/envoy.yaml with the local proxy (every filter in one chain)');
  const yaml = relative(root, ENVOY_YAML);
  // the filters first: a configuration they refuse fails before any port is bound
  try {
    running.proxy = await EnvoyLikeProxy.fromFile(ENVOY_YAML, { cwd: root, log: () => {}, portOverrides: { ingress: o.listenPort }, adminPort: o.adminPort });
  } catch (e) {
    if (e instanceof FilterConfigRejected) throw new Failure(e.message, `fix the configuration of filter "${e.filter}" in ${yaml}`);
    throw new Failure(`cannot load ${yaml}: ${(e as Error).message}`, `fix ${yaml}`);
  }
  const echo = await service('echo upstream', 'echo-port', () => startEcho({ port: o.echoPort, host: '127.0.0.1' }), o.echoPort);
  const meta = await service('metadata service', 'metadata-port', () => startMetadataService({ port: o.metadataPort, host: '127.0.0.1' }), o.metadataPort);
  const proxy = running.proxy;
  // the config names 8080 and 8081; the services may be elsewhere (--echo-port, --metadata-port)
  proxy.clusters.set('upstream', [{ host: '127.0.0.1', port: echo.port }]);
  proxy.clusters.set('metadata', [{ host: '127.0.0.1', port: meta.port }]);
  try {
    await proxy.start();
  } catch (e) {
    if (e instanceof ListenError) throw new Failure(`the ${e.what} ${e.message.slice(e.what.length + 1)}`, `stop what holds port ${e.port}, or npm start -- --${e.what === 'admin' ? 'admin-port' : 'listen-port'} N (0 = any free port)`);
    throw e;
  }
  const listen = `http://127.0.0.1:${proxy.listeners[0].port}`;
  console.log(`  listener ${listen}  ·  echo upstream ${echo.url}  ·  metadata service ${meta.url}  ·  admin http://127.0.0.1:${proxy.admin?.port} (/ready, /stats/prometheus)\n`);
  for (const { name, dir } of listLabFilters(root)) {
    const { lab } = labFiles(dir);
    const ex = lab.exchanges[0];
    console.log(`  ${name} — ${lab.lab}`);
    console.log(`    $ ${curlFor(ex, listen)}`);
    try {
      console.log(`    → ${await demo(ex, listen)}`);
    } catch (e) {
      console.log(`    → request failed: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log(`\n  metrics: curl -s http://127.0.0.1:${proxy.admin?.port}/stats/prometheus`);
  if (o.once) {
    await stopEverything();
    return 0;
  }
  console.log('  serving until Ctrl-C');
  return new Promise<number>(() => {}); // the lifetime handlers stop everything and exit
}

let opts: Options;
try {
  opts = options();
} catch (e) {
  console.error(`✗ ${(e as Error).message}: ${(e as Failure).todo}`);
  process.exit(2);
}
endWithSignalsAndParent({ stop: stopEverything, onStop: (why) => console.log(`\n  stopping (${why})`) });
main(opts).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    await stopEverything().catch(() => {});
    if (err instanceof Failure) {
      for (const l of err.details) console.error(l);
      console.error(`✗ ${err.message}: ${err.todo}`);
    }
    else console.error(`✗ ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
