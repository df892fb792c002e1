/**
 * What every subcommand needs: the workspace it works on, its filters, how to fail (one line and
 * an exit code) and how to run the tools it delegates to.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { findWorkspaceRoot, listFilters, type FilterInfo } from '@meshwasm/release';

/** Exit codes: 0 done, 1 the work failed (a delegated tool failed, nothing released yet), 2 bad input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Ends the command with one line on stderr (`meshwasm <cmd>: <message>`) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT_USAGE,
  ) {
    super(message);
  }
}
/** Bad input: a flag, an argument or a config file (exit 2). */
export const usageError = (message: string) => new CliError(message, EXIT_USAGE);
/** The input was fine but the work could not be done (exit 1). */
export const failure = (message: string) => new CliError(message, EXIT_FAILED);

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const processIo = (): Io => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
});

/**
 * The workspace: the npm workspace root above the current directory, else the one this CLI is
 * installed in (so `meshwasm` also works from a directory outside the repository).
 */
export function workspaceRoot(cwd: string): string {
  try {
    return findWorkspaceRoot(cwd);
  } catch {
    return findWorkspaceRoot(join(__dirname, '..'));
  }
}

/** Path shown to the user: relative to the working directory when inside it. */
export function shown(cwd: string, abs: string): string {
  const r = relative(cwd, abs);
  return r && !r.startsWith('..') && !r.startsWith(sep) ? r : abs;
}

export class Workspace {
  readonly root: string;
  private cached?: FilterInfo[];
  constructor(readonly io: Io) {
    this.root = workspaceRoot(io.cwd);
  }

  filters(): FilterInfo[] {
    if (!this.cached) {
      try {
        this.cached = listFilters(this.root);
      } catch (e) {
        throw failure((e as Error).message);
      }
    }
    return this.cached;
  }

  /** The filter named `name`; without a name, the filter folder the command runs in. */
  filter(name: string | undefined, cmd: string): FilterInfo {
    const all = this.filters();
    const names = all.map((f) => f.name).join(', ');
    if (name === undefined) {
      const here = all.find((f) => this.io.cwd === f.dir || this.io.cwd.startsWith(f.dir + sep));
      if (here) return here;
      throw usageError(`name a filter (${names}), or run it inside packages/<filter>; meshwasm ${cmd} --help shows the usage`);
    }
    const f = all.find((x) => x.name === name) ?? all.find((x) => x.root === `packages/${name}`);
    if (!f) throw usageError(`unknown filter "${name}" (filters: ${names})`);
    return f;
  }

  /** Workspace-relative path of a file, for messages. */
  rel(abs: string): string {
    return shown(this.root, abs);
  }

  /** node_modules/.bin/<bin> of the workspace. */
  bin(name: string): string {
    const p = join(this.root, 'node_modules', '.bin', name);
    if (!existsSync(p)) throw failure(`${name} is not installed in ${this.root} (no node_modules/.bin/${name}); run npm ci at the repository root`);
    return p;
  }
}

/** The proxy-wasm host's CLI (tools/proxy-wasm-host/bin). */
export function hostBin(): string {
  return join(dirname(require.resolve('@meshwasm/proxy-wasm-host/package.json')), 'bin', 'proxy-wasm-host.cjs');
}

/** The environment Nx runs with: no daemon, no TUI, no cloud (what the repository's scripts use). */
export function nxEnv(env: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...env, ...extra };
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  /** The last line the child printed that starts with `error:` (how tools/release reports a failure). */
  lastError?: string;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Send the child's stdout to our stderr (keeps our stdout clean, e.g. for `run --json`). */
  stdoutToStderr?: boolean;
  /** Forward SIGINT/SIGTERM/SIGHUP to the child (long-running servers). */
  forwardSignals?: boolean;
}

/**
 * Runs a delegated tool with its output passed through as it comes, and remembers its last
 * `error: …` line so that the command can end with the reason.
 */
export function runTool(command: string, args: string[], opts: SpawnOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const stdio: StdioOptions = ['inherit', 'pipe', 'pipe'];
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio });
    let lastError: string | undefined;
    const scan = (chunk: Buffer, pending: { text: string }) => {
      pending.text += chunk.toString('utf8');
      const lines = pending.text.split('\n');
      pending.text = lines.pop() ?? '';
      for (const l of lines) {
        // eslint-disable-next-line no-control-regex
        const plain = l.replace(/\x1b\[[0-9;]*m/g, '').trim();
        // `error: …`, or `<project>: error: …` when Nx streams a task's output
        const m = /^(?:[\w@/.-]+: )?error: (.+)$/.exec(plain);
        if (m) lastError = m[1];
      }
    };
    const outPending = { text: '' };
    const errPending = { text: '' };
    child.stdout!.on('data', (c: Buffer) => {
      (opts.stdoutToStderr ? process.stderr : process.stdout).write(c);
      scan(c, outPending);
    });
    child.stderr!.on('data', (c: Buffer) => {
      process.stderr.write(c);
      scan(c, errPending);
    });
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (s: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(s);
    };
    const handlers = signals.map((s) => [s, forward(s)] as const);
    if (opts.forwardSignals) for (const [s, h] of handlers) process.on(s, h);
    child.on('error', (e) => reject(failure(`cannot run ${command}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (opts.forwardSignals) for (const [s, h] of handlers) process.off(s, h);
      resolvePromise({ code: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1), signal, lastError });
    });
  });
}

function signalNumber(s: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[s];
}

/** Runs `nx <args>` at the workspace root; its output goes to stderr when `quiet` (stdout stays ours). */
export async function runNx(ws: Workspace, args: string[], opts: { env?: NodeJS.ProcessEnv; stdoutToStderr?: boolean } = {}): Promise<RunResult> {
  return runTool(ws.bin('nx'), [...args, '--outputStyle=stream'], { cwd: ws.root, env: nxEnv(ws.io.env, opts.env), stdoutToStderr: opts.stdoutToStderr });
}

