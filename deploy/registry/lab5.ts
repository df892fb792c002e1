/**
 * Lab 5 on one machine: the steps of "deploy to Istio" that need no cluster, against a real
 * registry on loopback.
 *
 *   1. Debian's docker-registry on 127.0.0.1 (deploy/registry/config.yml, storage in a temp dir);
 *   2. `meshwasm push <filter> --registry 127.0.0.1:<port>/meshwasm` (the 2-layer artifact);
 *   3. `meshwasm wasmplugin <filter> --registry …`: the manifest Istio would be given;
 *   4. `meshwasm-oras istio-check` on the url and sha256 of that manifest: Istio's own rules;
 *   5. the course's one-layer `oras push` of the same module, and Istio's refusal of it;
 *   6. the registry stopped, the temp dirs removed.
 *
 * Your working tree is never written: the filter is released as this checkout has it (what
 * `npm run release:version` does) in a scratch copy of the workspace, because a filter changed
 * since its last release has a pin that no longer matches, and `meshwasm push` refuses that.
 *
 * Usage: npx tsx deploy/registry/lab5.ts [filter] [--port N]   (default header, any free port)
 * Exit: 0 as documented, 1 anything differs (the last line says what), 2 bad usage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const REPO = resolve(__dirname, '..', '..');
export const REGISTRY_BIN = '/usr/bin/docker-registry';
const CONFIG = join(REPO, 'deploy', 'registry', 'config.yml');
const COURSE_MEDIA_TYPE = 'application/vnd.module.wasm.content.layer.v1+wasm';
/** What Istio says about a one-layer artifact (tools/oras/src/istio.ts, ported from istio-agent). */
export const ONE_LAYER_REFUSAL = 'could not parse as oci variant: number of layers must be 2 but got 1';

type Log = (line: string) => void;

class LabFailure extends Error {}

export interface Registry {
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** docker-registry with deploy/registry/config.yml, moved to 127.0.0.1:<port> and a temp storage dir. */
export async function startRegistry(port: number): Promise<Registry> {
  if (!existsSync(REGISTRY_BIN)) {
    throw new LabFailure(`docker-registry is not installed (${REGISTRY_BIN}): ./scripts/setup-system.sh or apt-get install docker-registry`);
  }
  const data = mkdtempSync(join(tmpdir(), 'meshwasm-lab5-registry-'));
  const chosen = port || (await freePort());
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', CONFIG], {
    env: { ...process.env, REGISTRY_HTTP_ADDR: `127.0.0.1:${chosen}`, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: data },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(data, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new LabFailure(`docker-registry exited (${child.exitCode}) before answering on 127.0.0.1:${chosen}: ${stderr.trim().split('\n').pop() ?? ''}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${chosen}/v2/`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new LabFailure(`docker-registry did not answer on 127.0.0.1:${chosen} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port: chosen, stop };
}

/** Environment for the tools run in the copy: nothing of an outer npm/Nx run leaks in. */
function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NX_|WASM_REGISTRY$|INIT_CWD$)/i.test(k)) env[k] = v;
  return { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_INTERACTIVE: 'false', FORCE_COLOR: '0' };
}

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(cwd: string, cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { cwd, env: toolEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const git = (cwd: string, ...args: string[]): Run =>
  run(cwd, 'git', ['-c', 'user.email=lab5@meshwasm.invalid', '-c', 'user.name=meshwasm lab 5', '-c', 'commit.gpgsign=false', ...args]);

/** A scratch git copy of the working tree (tracked and untracked, not ignored), node_modules linked. */
function copyWorkspace(): string {
  const copy = mkdtempSync(join(tmpdir(), 'meshwasm-lab5-ws-'));
  const files = run(REPO, 'git', ['ls-files', '-co', '--exclude-standard']).out.split('\n');
  for (const f of files) {
    const from = join(REPO, f);
    if (!f || !existsSync(from) || !statSync(from).isFile()) continue;
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(from, join(copy, f));
  }
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir');
  for (const step of [['init', '-q', '-b', 'main'], ['add', '-A'], ['commit', '-qm', 'lab 5: the working tree']]) {
    const r = git(copy, ...step);
    if (r.code !== 0) throw new LabFailure(`git ${step[0]} in the scratch copy failed: ${r.err.trim()}`);
  }
  return copy;
}

const node = process.execPath;
const tsx = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const meshwasm = (ws: string, args: string[]): Run => run(ws, node, [join(ws, 'tools', 'meshwasm', 'bin', 'meshwasm.cjs'), ...args]);
const oras = (ws: string, args: string[]): Run => run(ws, node, [join(ws, 'tools', 'oras', 'bin', 'meshwasm-oras.cjs'), ...args]);

function lastLine(r: Run): string {
  const all = `${r.out}\n${r.err}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return all.pop() ?? `(no output, exit ${r.code})`;
}

/** Text without ANSI colour codes (Nx colours its log). */
// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

function indent(log: Log, text: string): void {
  for (const l of text.replace(/\s+$/, '').split('\n')) log(`  ${l}`);
}

export interface Lab5Options {
  filter?: string;
  port?: number;
  log?: Log;
}

/** Runs Lab 5; resolves to the exit code (0 as documented, 1 otherwise). Always stops what it started. */
export async function runLab5(opts: Lab5Options = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const filter = opts.filter ?? 'header';
  let registry: Registry | undefined;
  let ws: string | undefined;
  try {
    log(`Lab 5 on one machine: ${filter} through a local registry, its WasmPlugin, and Istio's acceptance check`);
    log('');
    registry = await startRegistry(opts.port ?? 0);
    const where = `127.0.0.1:${registry.port}/meshwasm`;
    log(`▶ docker-registry serve deploy/registry/config.yml  (127.0.0.1:${registry.port}, storage in a temp dir)`);

    ws = copyWorkspace();
    const pin = run(ws, node, [tsx, 'tools/release/src/cli.ts', 'pin', filter]);
    if (pin.code !== 0) throw new LabFailure(`releasing ${filter} in the scratch copy failed: ${lastLine(pin)}`);
    git(ws, 'commit', '-qam', `release ${filter} as it is`);
    const pinned = pin.out.split('\n').find((l) => l.startsWith(`pinned ${filter}@`)) ?? '';
    log(`▶ ${filter} released as this checkout has it, in a scratch copy of the workspace (your tree is not touched)`);
    log(`  ${pinned.replace(/ \(.*\)$/, '')}`);
    log('');

    log(`$ npx meshwasm push ${filter} --registry ${where}`);
    const push = meshwasm(ws, ['push', filter, '--registry', where]);
    if (push.code !== 0) throw new LabFailure(`meshwasm push failed (exit ${push.code}): ${lastLine(push)}`);
    const said = plain(`${push.out}\n${push.err}`).split('\n').map((l) => /\b((?:already )?published|warning): .*/.exec(l)?.[0]);
    const published = said.filter((l): l is string => l !== undefined);
    if (!published.some((l) => l.includes(`${where}/${filter}:`))) throw new LabFailure(`meshwasm push said nothing about ${where}/${filter}: ${lastLine(push)}`);
    for (const l of published) log(`  ${l}`);
    log('');

    log(`$ npx meshwasm wasmplugin ${filter} --registry ${where} --namespace labs`);
    const wp = meshwasm(ws, ['wasmplugin', filter, '--registry', where, '--namespace', 'labs']);
    if (wp.code !== 0) throw new LabFailure(`meshwasm wasmplugin failed (exit ${wp.code}): ${lastLine(wp)}`);
    indent(log, wp.out);
    const manifest = parseYaml(wp.out) as { spec?: { url?: string; sha256?: string } };
    const url = manifest.spec?.url ?? '';
    const sha256 = manifest.spec?.sha256 ?? '';
    if (!url.startsWith(`oci://${where}/${filter}:`) || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new LabFailure(`the WasmPlugin names ${url || 'no url'} and sha256 ${sha256 || '(none)'}: expected oci://${where}/${filter}:<version> and a pinned digest`);
    }
    log('');

    const ref = url.slice('oci://'.length);
    log(`$ npx meshwasm-oras istio-check ${ref} --sha256 ${sha256}`);
    const check = oras(ws, ['istio-check', ref, '--sha256', sha256]);
    indent(log, `${check.out}${check.err}`);
    if (check.code !== 0 || !check.out.startsWith(`Istio accepts ${ref}`)) {
      throw new LabFailure(`Istio's rules refuse what meshwasm pushed: ${lastLine(check)}`);
    }
    log('');

    const courseRef = `127.0.0.1:${registry.port}/course/${filter}:v0.1.0`;
    const wasm = `packages/${filter}/dist/${filter}.wasm`;
    log(`▶ the course's way: one layer (oras push FILE:${COURSE_MEDIA_TYPE})`);
    log(`$ npx meshwasm-oras push ${courseRef} ${wasm}:${COURSE_MEDIA_TYPE}`);
    const coursePush = oras(ws, ['push', courseRef, `${wasm}:${COURSE_MEDIA_TYPE}`]);
    if (coursePush.code !== 0) throw new LabFailure(`the one-layer push failed (exit ${coursePush.code}): ${lastLine(coursePush)}`);
    log(`  ${coursePush.out.split('\n').find((l) => l.startsWith('Pushed')) ?? lastLine(coursePush)}`);
    log(`$ npx meshwasm-oras istio-check ${courseRef}`);
    const refused = oras(ws, ['istio-check', courseRef]);
    indent(log, `${refused.out}${refused.err}`);
    if (refused.code !== 1 || !refused.err.includes(ONE_LAYER_REFUSAL)) {
      throw new LabFailure(`Istio's rules were expected to refuse the one-layer artifact ("${ONE_LAYER_REFUSAL}"); exit ${refused.code}: ${lastLine(refused)}`);
    }
    log('');
    log(`✓ Lab 5 behaves as documented: Istio accepts ${filter}'s 2-layer artifact pinned by its manifest digest, and refuses the course's one layer`);
    return 0;
  } catch (e) {
    log(`✗ ${e instanceof LabFailure ? e.message : (e as Error).stack ?? String(e)}`);
    return 1;
  } finally {
    if (registry) {
      await registry.stop();
      log(`▶ docker-registry on 127.0.0.1:${registry.port} stopped`);
    }
    if (ws) rmSync(ws, { recursive: true, force: true });
  }
}

function usage(message: string): number {
  console.error(`lab5: ${message}`);
  console.error('usage: npx tsx deploy/registry/lab5.ts [filter] [--port N]   (default: header, any free port)');
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const rest: string[] = [];
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) return usage(`--port takes a port number (0 = any free port), got ${v ?? 'nothing'}`);
      port = Number(v);
    } else if (a.startsWith('-')) return usage(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length > 1) return usage(`one filter at most, got ${rest.join(' ')}`);
  const filters = readdirSync(join(REPO, 'packages')).filter((d) => existsSync(join(REPO, 'packages', d, 'wasmplugin.yaml')));
  const filter = rest[0] ?? 'header';
  if (!filters.includes(filter)) return usage(`unknown filter "${filter}" (filters: ${filters.sort().join(', ')})`);
  return runLab5({ filter, port });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`lab5: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
