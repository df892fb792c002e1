/**
 * Throwaway copies of this workspace for tests that run Nx, git or the release flow on a whole
 * workspace: the tracked and untracked (not ignored) files, a symlink to the real node_modules,
 * and, when asked, a fresh git repository on `main` with one commit, "base".
 *
 *   import { copyWorkspace, removeDir } from '@meshwasm/workspace/test-support';
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findWorkspaceRoot } from './root';

/** The workspace these tests run in. */
export const workspaceRoot = findWorkspaceRoot(__dirname);

/** Environment for tools run in a copy: nothing from the outer npm/nx/jest run leaks in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NX_|WASM_REGISTRY$|CHANGESET_)/i.test(k)) e[k] = v;
  return { ...e, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_INTERACTIVE: 'false', ...extra };
}

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A committer identity (and no signing) for a test repository. */
export function configureGit(dir: string): void {
  gitIn(dir, 'config', 'user.email', 'workspace-test@example.invalid');
  gitIn(dir, 'config', 'user.name', 'workspace test');
  gitIn(dir, 'config', 'commit.gpgsign', 'false');
  gitIn(dir, 'config', 'tag.gpgsign', 'false');
}

export interface CopyOptions {
  /** Keep the workspace's pending changesets (default: only config.json and README.md). */
  keepChangesets?: boolean;
  /** Make the copy a git repository on `main` with one commit, "base" (default true). */
  git?: boolean;
  /** The workspace to copy (default: this one). */
  from?: string;
  /**
   * Makes the copy's node_modules (default: one symlink to the workspace's node_modules). The
   * release tests pass tools/release's linkNodeModules, so the copy's own packages and bins are
   * the copy's folders.
   */
  makeNodeModules?: (from: string, copy: string) => void;
}

/** The files a copy holds: tracked and untracked-but-not-ignored regular files. */
export function workspaceFiles(from = workspaceRoot, opts: Pick<CopyOptions, 'keepChangesets'> = {}): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: from, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && existsSync(join(from, f)) && statSync(join(from, f)).isFile())
    .filter((f) => opts.keepChangesets || !/^\.changeset\/.+\.md$/.test(f) || f === '.changeset/README.md');
}

/** Copies the working tree into a new temporary directory named `<tmp>/<prefix>XXXXXX`. */
export function copyWorkspace(prefix: string, opts: CopyOptions = {}): string {
  const from = opts.from ?? workspaceRoot;
  const copy = mkdtempSync(join(tmpdir(), prefix));
  for (const f of workspaceFiles(from, opts)) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(from, f), join(copy, f));
  }
  if (opts.makeNodeModules) opts.makeNodeModules(from, copy);
  else symlinkSync(join(from, 'node_modules'), join(copy, 'node_modules'), 'dir');
  if (opts.git !== false) {
    gitIn(copy, 'init', '-q', '-b', 'main');
    configureGit(copy);
    gitIn(copy, 'add', '-A');
    gitIn(copy, 'commit', '-qm', 'base');
  }
  return copy;
}

export function removeDir(dir: string | undefined): void {
  if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}

export interface RunResult {
  status: number;
  out: string;
}

/** Runs a command to completion; stdout and stderr together in `out`. */
export function runIn(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()): RunResult {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}
