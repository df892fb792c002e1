/** Test helpers: the real bin as a spawned process, and throwaway git workspaces. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pinYamlFile } from '@meshwasm/release';

export const PKG = resolve(__dirname, '..');
export const REPO = resolve(PKG, '..', '..');
export const BIN = join(PKG, 'bin', 'meshwasm.cjs');

export interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Clean environment for the CLI: no WASM_REGISTRY unless a test sets it; Nx without daemon/TUI/cloud. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...extra };
  if (!('WASM_REGISTRY' in extra)) delete env.WASM_REGISTRY;
  return env;
}

/** Runs `meshwasm <args>` (node bin/meshwasm.cjs) to completion. */
export function meshwasm(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env: opts.env ?? cliEnv(), encoding: 'utf8', timeout: 600_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Starts `meshwasm <args>` and collects its output as it runs. */
export function meshwasmAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env: opts.env ?? cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

/** Waits until `cond` holds (polling), or fails with `what` and the last output. */
export async function waitFor(cond: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=test@meshwasm.invalid', '-c', 'user.name=meshwasm test', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * A throwaway git workspace holding copies of the repository's `filters` (their package.json,
 * asconfig.json, schema.json, wasmplugin.yaml, examples/ and assembly/) and of the SDK's sources:
 * enough for listFilters, the release manifests and the source-path checks, and nothing to build.
 */
const scratch: string[] = [];
/** Removes the temporary directories the tests made (call from afterAll). */
export function removeScratch(): void {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
}
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

/** The version every filter of a fixture workspace has: the fixture starts unreleased, whatever the repository's releases. */
export const FIXTURE_VERSION = '0.1.0';

/** Makes a copied filter unreleased at FIXTURE_VERSION: package.json's version, and a wasmplugin.yaml without pin. */
function unrelease(dir: string, name: string): void {
  const pkg = join(dir, 'packages', name, 'package.json');
  writeFileSync(pkg, JSON.stringify({ ...JSON.parse(readFileSync(pkg, 'utf8')), version: FIXTURE_VERSION }, null, 2) + '\n');
  const manifest = join(dir, 'packages', name, 'wasmplugin.yaml');
  if (!existsSync(manifest)) return;
  const text = readFileSync(manifest, 'utf8')
    .replace(/^(\s*)sha256:.*\n/gm, '')
    .replace(new RegExp(`(url: oci://[^\\s]*/${name}):[^\\s]+`, 'g'), `$1:${FIXTURE_VERSION}`);
  writeFileSync(manifest, text);
}

export function fixtureWorkspace(filters: string[]): string {
  const dir = scratchDir('meshwasm-ws-');
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  cpSync(join(REPO, 'asconfig.base.json'), join(dir, 'asconfig.base.json'));
  for (const p of [...filters, 'as-proxy-wasm']) {
    mkdirSync(join(dir, 'packages', p), { recursive: true });
    for (const f of ['package.json', 'asconfig.json', 'schema.json', 'wasmplugin.yaml', 'examples', 'assembly', 'index.ts', 'README.md']) {
      const src = join(REPO, 'packages', p, f);
      if (existsSync(src)) cpSync(src, join(dir, 'packages', p, f), { recursive: true });
    }
  }
  for (const p of filters) unrelease(dir, p);
  writeFileSync(join(dir, '.gitignore'), 'node_modules\ndist\n');
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'fixture']);
  return dir;
}

/** Pins a filter's wasmplugin.yaml the way release:version does (tools/release's pinYamlFile) and commits it. */
export function pinAndCommit(ws: string, name: string, sha256: string, version = '0.1.0', registry = 'ghcr.io/meshwasm'): string {
  pinYamlFile(join(ws, 'packages', name, 'wasmplugin.yaml'), { name, url: `oci://${registry}/${name}:${version}`, sha256 }, { mode: 'own' });
  git(ws, ['commit', '-q', '-am', `release ${name}@${version}`]);
  return git(ws, ['rev-parse', 'HEAD']);
}

/** Every line of `err` (without the trailing newline). */
export const lines = (s: string): string[] => s.replace(/\n$/, '').split('\n').filter((l) => l !== '');

/** Text without ANSI colour codes (Nx colours its log when its parent asks for colour). */
// eslint-disable-next-line no-control-regex
export const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
