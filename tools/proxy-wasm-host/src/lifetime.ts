// How a long-running server process (serve, echo, metadata, `npm start`) ends, and how to start
// `serve` as a child that ends with its parent.
//
// A server stops, closes every listener and exits when:
//   - it gets SIGINT (Ctrl-C), SIGTERM or SIGHUP;
//   - the process that started it is gone. `npx proxy-wasm-host serve` is npm -> sh -c -> node:
//     a SIGTERM to npm reaches sh, which dies without passing it on, and node, re-parented to
//     init, would keep listening. Node cannot ask the kernel for a signal on its parent's death
//     (prctl PR_SET_PDEATHSIG), so it watches instead: `process.ppid` changing, checked twice a
//     second, and the IPC channel closing when it has one (children of `spawnServe`).
// Stopping is bounded: when closing takes longer than `graceMs` the process exits anyway.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';

export interface LifetimeOptions {
  /** Closes every listener and child the process owns. Called once. */
  stop: () => Promise<void>;
  /** Told why the process stops ("SIGTERM", "its parent process 4242 exited", ...) before stop() runs. */
  onStop?: (reason: string) => void;
  /** Exit anyway when stop() has not finished after this many ms. Default 5000. */
  graceMs?: number;
  /** How often the parent is checked, in ms. Default 500. */
  pollMs?: number;
}

export interface Lifetime {
  /** Stop now (as a signal would) and exit with `code`. */
  end(reason: string, code?: number): Promise<never>;
  /** Remove the handlers and the parent watch (the caller takes over ending the process). */
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Ends the process cleanly on SIGINT, SIGTERM, SIGHUP or its parent's death (see the file comment). */
export function endWithSignalsAndParent(opts: LifetimeOptions): Lifetime {
  const graceMs = opts.graceMs ?? 5000;
  const parent = process.ppid;
  let ending: Promise<never> | null = null;
  let endingSince = 0;

  const end = (reason: string, code = 0): Promise<never> => {
    if (ending) return ending;
    endingSince = Date.now();
    clearInterval(watch);
    process.off('disconnect', onDisconnect);
    opts.onStop?.(reason);
    setTimeout(() => {
      process.stderr.write(`still closing after ${graceMs} ms: exiting anyway\n`);
      process.exit(code || 1);
    }, graceMs).unref();
    ending = opts.stop().then(
      () => process.exit(code),
      (e: unknown) => {
        process.stderr.write(`error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
        return process.exit(code || 1);
      },
    );
    return ending;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    // A second Ctrl-C a moment later means "now"; the same signal delivered twice at once (the
    // terminal's and a parent's relay) does not.
    if (ending) { if (Date.now() - endingSince > 1000) process.exit(1); return; }
    void end(signal);
  };
  const onDisconnect = (): void => void end('its parent process closed the IPC channel');
  const watch = setInterval(() => {
    if (process.ppid !== parent) void end(`its parent process ${parent} exited`);
  }, opts.pollMs ?? 500);
  watch.unref();

  for (const s of SIGNALS) process.on(s, onSignal);
  if (process.connected) process.once('disconnect', onDisconnect);

  return {
    end,
    dispose: () => {
      clearInterval(watch);
      process.off('disconnect', onDisconnect);
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}

/** The `proxy-wasm-host` bin (runs the TypeScript CLI through tsx). */
export const BIN = join(__dirname, '..', 'bin', 'proxy-wasm-host.cjs');

export interface ServeChild {
  child: ChildProcess;
  /** Resolves with the exit code (128 + n when a signal n killed it). */
  exited: Promise<number>;
}

/**
 * Starts `proxy-wasm-host serve ARGS` as a child process that cannot outlive this one: it has an
 * IPC channel, and stops when the channel closes (this process exiting, however it exits). While
 * it runs, SIGINT, SIGTERM and SIGHUP sent to this process are passed on to it, so this process
 * can wait for it and exit with its code:
 *
 *   const { exited } = spawnServe(['--envoy-config', file]);
 *   process.exitCode = await exited;
 */
export function spawnServe(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdio?: 'inherit' | 'pipe' } = {}): ServeChild {
  const io = opts.stdio ?? 'inherit';
  const stdio: StdioOptions = [io === 'inherit' ? 'inherit' : 'ignore', io, io, 'ipc'];
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio });
  const relay = (s: NodeJS.Signals) => { if (child.exitCode === null && child.signalCode === null) child.kill(s); };
  for (const s of SIGNALS) process.on(s, relay);
  const unrelay = () => { for (const s of SIGNALS) process.off(s, relay); };
  const exited = new Promise<number>((resolve) => {
    child.once('error', (e) => { unrelay(); process.stderr.write(`cannot start proxy-wasm-host serve: ${e.message}\n`); resolve(1); });
    child.once('exit', (code, signal) => { unrelay(); resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)); });
  });
  return { child, exited };
}
