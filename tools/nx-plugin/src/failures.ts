/**
 * For the root entry points that run Nx (`npm test`, `npm start`'s build): run it with its output
 * shown as it comes, and afterwards say which tasks failed and why, as the last lines.
 *
 * Nx ends a failed run with its own summary ("Failed tasks: - redact:publish", timings) and the
 * reason sits above it, in the task's output. With `--outputStyle=stream` every line of a task's
 * output is prefixed with its project's name, so the last line a failed task's project printed is,
 * with our `run` executor (src/run.ts), the tool's own error line.
 */
import { spawn } from 'node:child_process';

export interface FailedTask {
  /** `project:target` */
  task: string;
  /** The last non-empty line its project printed (prefix removed), npm's and Nx's own failure lines skipped; '' when none. */
  lastLine: string;
}

// eslint-disable-next-line no-control-regex -- ESC starts the colour codes Nx writes
export const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** Lines the launchers add after a failed command (npm's lifecycle report, nx:run-commands' warning): not the reason. */
const NOISE = /^(npm error |npm ERR! |Warning: command ".*" exited with non-zero status code)/;

/** The failed tasks listed in an Nx run's summary, each with the last line its project printed. */
export function failedTasks(output: string): FailedTask[] {
  const text = output.replace(ANSI, '').replace(/\r/g, '');
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === 'Failed tasks:');
  if (at < 0) return [];
  const tasks: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\s*-\s+(\S+:\S+)\s*$/.exec(l);
    if (m) tasks.push(m[1]);
    else if (l.trim() !== '' && tasks.length) break;
  }
  return tasks.map((task) => {
    const prefix = `${task.slice(0, task.lastIndexOf(':'))}: `;
    let lastLine = '';
    for (let i = at - 1; i >= 0; i--) {
      const l = lines[i];
      const said = l.startsWith(prefix) ? l.slice(prefix.length).trim() : '';
      if (said !== '' && !NOISE.test(said)) { lastLine = said; break; }
    }
    return { task, lastLine };
  });
}

/** The closing lines for failed tasks: one per task with its reason, then what to run next. */
export function failureLines(failed: FailedTask[]): string[] {
  if (failed.length === 0) return [];
  const out = failed.map((f) => `✗ ${f.task}${f.lastLine ? `: ${f.lastLine}` : ''}`);
  out.push(`  to see one task's whole output: npx nx run ${failed[0].task}`);
  return out;
}

/**
 * Runs `npx nx ARGS` (add `--outputStyle=stream` for the per-project prefixes), passing its output
 * through (or collecting it only, with `quiet`), and resolves with its exit code, its output and
 * the failed tasks. `onChild` receives the process (to stop it on a signal).
 */
export function runNx(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; quiet?: boolean; onChild?: (c: import('node:child_process').ChildProcess) => void },
): Promise<{ code: number; output: string; failed: FailedTask[] }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), NX_TUI: 'false' };
    if (!opts.quiet && process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = 'true'; // piped, Nx would drop its colours
    const child = spawn('npx', ['nx', ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
    opts.onChild?.(child);
    let output = '';
    const take = (to: NodeJS.WriteStream) => (d: Buffer) => { output += d.toString(); if (!opts.quiet) to.write(d); };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('error', (e) => { output += `cannot run nx: ${e.message}\n`; });
    child.on('close', (code) => resolve({ code: code ?? 1, output, failed: failedTasks(output) }));
  });
}
