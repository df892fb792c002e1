// Load benchmark (not a test): `proxy-wasm-host serve` with packages/header/envoy.yaml (the header filter, Lab 1
// config) in front of the built-in echo upstream, measured with a bounded load generator on loopback.
//
// Three processes, like a real deployment:
//   - the proxy alone, pinned to ONE core (`taskset -c 0` when available);
//   - the echo upstream and the load generator on the other core(s);
//   - the generator is Debian's `wrk` when installed (`apt-get install -y wrk`), else a Node keep-alive generator
//     in a child process. Fixed duration (<= 10 s) and connection count; loopback only.
//
//   npx tsx bench/serve-load.ts [--duration 5] [--connections 32] [--generator auto|wrk|node] [--config FILE] [--without-wasm] [--no-pin] [--no-boost] [--json]
//
// bench/run.ts (root `npm run bench`) calls measureServeThroughput().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

const ROOT = resolve(__dirname, '../../..');
const DEFAULT_CONFIG = join(ROOT, 'packages/header/envoy.yaml');

export interface ServeLoadOptions {
  /** Measured duration in seconds (1..10; default 5). A 1 s warm-up precedes it. */
  durationSec?: number;
  /** Concurrent keep-alive connections (1..256; default 32). */
  connections?: number;
  /** Envoy bootstrap to serve (default packages/header/envoy.yaml); relative wasm filenames resolve from its directory. */
  envoyConfig?: string;
  /** 'auto' (default): wrk when installed, else the Node generator. */
  generator?: 'auto' | 'wrk' | 'node';
  /** Pin the proxy to CPU 0 and the generator + echo to the others (default true when taskset exists and >1 CPU). */
  pin?: boolean;
  /** Request path (default /bench). */
  path?: string;
  /** Warm-up seconds before measuring (default 1). */
  warmupSec?: number;
  /** Baseline: the same bootstrap with its wasm filters removed (the proxy's own HTTP cost). */
  withoutWasm?: boolean;
  /** Run the bench processes at nice -10 (only possible as root) so concurrent builds on a shared machine do not
   *  steal the proxy's core during the <= 10 s run. Default true. */
  boost?: boolean;
}

export interface ServeLoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** Responses whose status was not 2xx (the proxy answered, but not with the upstream's 200). */
  non2xx: number;
  durationSec: number;
  connections: number;
  generator: 'wrk' | 'node';
  pinned: boolean;
  /** CPU time the proxy process used per wall second during the measurement (1.0 = one full core). */
  proxyCpu: number;
  /** Requests per second of proxy CPU time (throughput if the proxy had exactly one whole core). */
  rpsPerProxyCore: number;
  config: string;
  withoutWasm: boolean;
  /** The bench processes ran at nice -10. */
  boosted: boolean;
  /** 1-minute load average when the run started (other work on the machine skews every figure). */
  loadAvg: number;
}

function has(cmd: string): boolean { return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0; }
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

let boosted = false;
/** Prefix a command with CPU pinning and priority. */
function wrap(cmd: string[], cpus: string | null): string[] {
  const pinned = cpus ? ['taskset', '-c', cpus, ...cmd] : cmd;
  return boosted ? ['nice', '-n', '-10', ...pinned] : pinned;
}

/** Spawn this file in a role; resolves with the first stdout line "READY <port>". */
function spawnRole(role: string, args: string[], cpus: string | null): Promise<{ child: ChildProcess; port: number }> {
  const node = [process.execPath, '--require', require.resolve('tsx/cjs'), __filename, '--role', role, ...args];
  const cmd = wrap(node, cpus);
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /READY (\d+)\n/.exec(out);
      if (m) { child.stdout!.off('data', onData); res({ child, port: Number(m[1]) }); }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => rej(new Error(`${role} exited (${code}) before it was ready: ${out}`)));
    child.once('error', rej);
  });
}

function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}

function parseWrkDuration(s: string): number {
  const m = /([\d.]+)(us|ms|s|m)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60000;
}

interface GenResult { requests: number; errors: number; non2xx: number; seconds: number; p50Ms: number; p99Ms: number }

function runWrk(port: number, path: string, conns: number, secs: number, cpus: string | null): GenResult {
  const cmd = wrap(['wrk', '-t1', `-c${conns}`, `-d${secs}s`, '--latency', `http://127.0.0.1:${port}${path}`], cpus);
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: (secs + 20) * 1000 });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const o = r.stdout;
  const num = (re: RegExp) => { const m = re.exec(o); return m ? Number(m[1]) : 0; };
  const requests = num(/(\d+) requests in/);
  const seconds = (() => { const m = /requests in ([\d.]+\w+),/.exec(o); return m ? parseWrkDuration(m[1]) / 1000 : secs; })();
  const lat = (p: string) => { const m = new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`).exec(o); return m ? parseWrkDuration(m[1]) : NaN; };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(o);
  const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { requests, errors, non2xx: num(/Non-2xx or 3xx responses: (\d+)/), seconds, p50Ms: lat('50'), p99Ms: lat('99') };
}

async function runNodeGen(port: number, path: string, conns: number, secs: number, cpus: string | null): Promise<GenResult> {
  const node = [process.execPath, '--require', require.resolve('tsx/cjs'), __filename, '--role', 'gen', String(port), path, String(conns), String(secs)];
  const cmd = wrap(node, cpus);
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`node load generator failed (${code}): ${out}`);
  return JSON.parse(out) as GenResult;
}

/** Node load generator (child role): `conns` keep-alive connections, each sending back-to-back requests for `secs`. */
async function genRole(port: number, path: string, conns: number, secs: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: conns });
  const lat: number[] = [];
  let errors = 0, non2xx = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(secs * 1e9));
  const one = () => new Promise<void>((res) => {
    const s = process.hrtime.bigint();
    const r = request({ host: '127.0.0.1', port, path, agent }, (x) => {
      x.resume();
      x.on('end', () => { if ((x.statusCode ?? 0) >= 300) non2xx++; lat.push(Number(process.hrtime.bigint() - s) / 1e6); res(); });
    });
    r.on('error', () => { errors++; res(); });
    r.end();
  });
  const worker = async () => { while (process.hrtime.bigint() < deadline) await one(); };
  await Promise.all(Array.from({ length: conns }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
  agent.destroy();
  process.stdout.write(JSON.stringify({ requests: lat.length, errors, non2xx, seconds, p50Ms: q(0.5), p99Ms: q(0.99) }));
}

/** Rewrite a bootstrap for the bench: listeners and admin on ephemeral loopback ports, every cluster -> the echo port,
 *  wasm filenames absolute (relative to the bootstrap's directory, where its README says to run it). */
function benchBootstrap(file: string, echoPort: number, withoutWasm = false): string {
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, any>;
  const base = dirname(resolve(file));
  for (const l of doc.static_resources?.listeners ?? []) {
    l.address = { socket_address: { address: '127.0.0.1', port_value: 0 } };
    for (const fc of l.filter_chains ?? []) for (const f of fc.filters ?? []) {
      if (withoutWasm && f.typed_config?.http_filters) f.typed_config.http_filters = f.typed_config.http_filters.filter((hf: { name?: string }) => hf.name !== 'envoy.filters.http.wasm');
    }
    for (const fc of l.filter_chains ?? []) for (const f of fc.filters ?? []) for (const hf of f.typed_config?.http_filters ?? []) {
      const local = hf.typed_config?.config?.vm_config?.code?.local;
      if (local?.filename && !isAbsolute(local.filename)) local.filename = join(base, local.filename);
    }
  }
  for (const c of doc.static_resources?.clusters ?? []) {
    c.type = 'STATIC';
    c.load_assignment = { cluster_name: c.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: echoPort } } } }] }] };
  }
  delete doc.admin;
  return toYaml(doc);
}

/** Proxy role: serve the bootstrap; print READY <first listener port>. */
async function proxyRole(file: string): Promise<void> {
  // Loaded lazily, in this role only. require, not import(): the roles run under tsx/cjs, and a
  // dynamic import() goes to Node's ESM loader, which cannot resolve '../src/serve'.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { EnvoyLikeProxy } = require('../src/serve') as typeof import('../src/serve');
  const proxy = await EnvoyLikeProxy.fromFile(file, { log: () => {} });
  await proxy.start();
  process.stdout.write(`READY ${proxy.listeners[0].port}\n`);
  process.on('SIGTERM', () => { void proxy.stop().then(() => process.exit(0)); });
}

async function echoRole(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as in proxyRole
  const { startEcho } = require('../src/servers') as typeof import('../src/servers');
  const e = await startEcho({ port: 0 });
  process.stdout.write(`READY ${e.port}\n`);
  process.on('SIGTERM', () => { void e.close().then(() => process.exit(0)); });
}

function probe(port: number, path: string): Promise<number> {
  return new Promise((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path }, (x) => { x.resume(); x.on('end', () => res(x.statusCode ?? 0)); });
    r.on('error', rej); r.end();
  });
}

/** Measure `serve` throughput: proxy on one core, echo upstream + bounded generator elsewhere, loopback only. */
export async function measureServeThroughput(opts: ServeLoadOptions = {}): Promise<ServeLoadResult> {
  const durationSec = clamp(opts.durationSec ?? 5, 1, 10);
  const conns = clamp(Math.floor(opts.connections ?? 32), 1, 256);
  const warmup = clamp(opts.warmupSec ?? 1, 0, 5);
  const path = opts.path ?? '/bench';
  const config = opts.envoyConfig ?? DEFAULT_CONFIG;
  if (!existsSync(config)) throw new Error(`Envoy config ${config} not found`);
  const gen = opts.generator === 'node' ? 'node' : opts.generator === 'wrk' || has('wrk') ? 'wrk' : 'node';
  if (gen === 'wrk' && !has('wrk')) throw new Error('wrk is not installed (apt-get install -y wrk), use generator "node"');
  const ncpu = cpus().length;
  const pinned = (opts.pin ?? true) && ncpu > 1 && has('taskset');
  boosted = (opts.boost ?? true) && process.getuid?.() === 0 && has('nice');
  const proxyCpus = pinned ? '0' : null;
  const otherCpus = pinned ? `1-${ncpu - 1}` : null;
  const dir = mkdtempSync(join(tmpdir(), 'pwh-serve-load-'));
  const children: ChildProcess[] = [];
  try {
    const echo = await spawnRole('echo', [], otherCpus);
    children.push(echo.child);
    const file = join(dir, 'envoy.yaml');
    writeFileSync(file, benchBootstrap(config, echo.port, !!opts.withoutWasm));
    const proxy = await spawnRole('proxy', [file], proxyCpus);
    children.push(proxy.child);
    const st = await probe(proxy.port, path);
    if (st !== 200) throw new Error(`the proxy answered ${st} to a probe request (expected 200)`);
    const run = (secs: number) => (gen === 'wrk' ? Promise.resolve(runWrk(proxy.port, path, conns, secs, otherCpus)) : runNodeGen(proxy.port, path, conns, secs, otherCpus));
    if (warmup > 0) await run(warmup);
    const loadAvg = Number(loadavg()[0].toFixed(2));
    const c0 = cpuSeconds(proxy.child.pid!), t0 = process.hrtime.bigint();
    const r = await run(durationSec);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (cpuSeconds(proxy.child.pid!) - c0) / wall;
    const rps = r.requests / r.seconds;
    return {
      rps: Math.round(rps), p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests, errors: r.errors, non2xx: r.non2xx,
      durationSec: r.seconds, connections: conns, generator: gen, pinned, proxyCpu: Number(cpu.toFixed(2)),
      rpsPerProxyCore: cpu > 0 ? Math.round(rps / Math.min(1, cpu)) : NaN, config, withoutWasm: !!opts.withoutWasm, boosted, loadAvg,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => { const t = setTimeout(() => { c.kill('SIGKILL'); r(undefined); }, 3000); c.once('exit', () => { clearTimeout(t); r(undefined); }); }))));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const roleIdx = argv.indexOf('--role');
  if (roleIdx >= 0) {
    const role = argv[roleIdx + 1], rest = argv.slice(roleIdx + 2);
    if (role === 'proxy') return proxyRole(rest[0]);
    if (role === 'echo') return echoRole();
    if (role === 'gen') return genRole(Number(rest[0]), rest[1], Number(rest[2]), Number(rest[3]));
    throw new Error(`unknown role ${role}`);
  }
  const val = (n: string) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
  const r = await measureServeThroughput({
    durationSec: val('--duration') ? Number(val('--duration')) : undefined,
    connections: val('--connections') ? Number(val('--connections')) : undefined,
    generator: val('--generator') as ServeLoadOptions['generator'],
    envoyConfig: val('--config'),
    pin: !argv.includes('--no-pin'),
    withoutWasm: argv.includes('--without-wasm'),
    boost: !argv.includes('--no-boost'),
  });
  if (argv.includes('--json')) { process.stdout.write(JSON.stringify(r, null, 2) + '\n'); return; }
  process.stdout.write(`serve + ${r.config.replace(ROOT + '/', '')}${r.withoutWasm ? ' WITHOUT its wasm filters (baseline)' : ''}: ${r.rps} requests/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms ` +
    `(${r.requests} requests in ${r.durationSec.toFixed(1)} s, ${r.connections} connections, ${r.generator}, proxy ${r.pinned ? 'pinned to CPU 0' : 'not pinned'}${r.boosted ? ', nice -10' : ''}, ` +
    `proxy CPU ${(r.proxyCpu * 100).toFixed(0)}% -> ${r.rpsPerProxyCore} requests per proxy core-second; errors ${r.errors}, non-2xx ${r.non2xx}; ` +
    `load average ${r.loadAvg} on ${cpus().length} CPUs; target >= 5000)\n`);
}

if (require.main === module) main(process.argv.slice(2)).catch((e: Error) => { process.stderr.write(`${e.stack ?? e.message}\n`); process.exit(1); });
