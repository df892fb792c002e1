/**
 * Throwaway git copies of this workspace for the release tests: the tracked and untracked
 * (not ignored) files, a symlink to the real node_modules, a fresh repository on `main`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { linkNodeModules } from '../src/verify';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const workspaceRoot = join(__dirname, '..', '..', '..');

/** Environment for tools run in a copy: nothing from the outer npm/nx/jest run leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NX_|WASM_REGISTRY$|CHANGESET_)/i.test(k)) e[k] = v;
  return { ...e, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_INTERACTIVE: 'false', ...extra };
}

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function configureGit(dir: string): void {
  gitIn(dir, 'config', 'user.email', 'release-test@example.invalid');
  gitIn(dir, 'config', 'user.name', 'release test');
  gitIn(dir, 'config', 'commit.gpgsign', 'false');
  gitIn(dir, 'config', 'tag.gpgsign', 'false');
}

export interface CopyOptions {
  /** Keep the workspace's pending changesets (default: only config.json and README.md). */
  keepChangesets?: boolean;
  /**
   * node_modules as linkNodeModules makes it (the installed packages, but the workspace's own
   * packages and bins are the copy's folders) instead of one link to the workspace's node_modules.
   */
  ownPackages?: boolean;
}

/** Copies the working tree into a new repository on `main` with one commit, "base". */
export function copyWorkspace(prefix: string, opts: CopyOptions = {}): string {
  const copy = mkdtempSync(join(tmpdir(), prefix));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: workspaceRoot, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && existsSync(join(workspaceRoot, f)) && statSync(join(workspaceRoot, f)).isFile())
    .filter((f) => opts.keepChangesets || !/^\.changeset\/.+\.md$/.test(f) || f === '.changeset/README.md');
  for (const f of files) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(workspaceRoot, f), join(copy, f));
  }
  if (opts.ownPackages) linkNodeModules(workspaceRoot, copy);
  else symlinkSync(join(workspaceRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  gitIn(copy, 'init', '-q', '-b', 'main');
  configureGit(copy);
  gitIn(copy, 'add', '-A');
  gitIn(copy, 'commit', '-qm', 'base');
  return copy;
}

/** A clean checkout of `commit` of `repo` (a clone: nothing of the working tree, no build output). */
export function cloneAt(repo: string, commit: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  gitIn(dir, 'clone', '-q', '--no-checkout', repo, '.');
  gitIn(dir, 'checkout', '-q', '--detach', commit);
  linkNodeModules(workspaceRoot, dir); // that commit's own SDK and tools, the installed packages
  return dir;
}

export function removeDir(dir: string): void {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  status: number;
  out: string;
}

export function runIn(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()): RunResult {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

/** `.changeset/*.md` files other than README.md. */
export function changesetFiles(dir: string): string[] {
  return readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
}
