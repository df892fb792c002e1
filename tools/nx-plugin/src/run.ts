/**
 * Executor `@meshwasm/nx-plugin:run`: runs one shell command in a project folder, with the
 * workspace's node_modules/.bin on the PATH and the arguments given after the target appended
 * (`nx run redact:publish --registry R`), like `nx:run-commands`.
 *
 * Why not `nx:run-commands`: when a command fails it appends its own line, `Warning: command "…"
 * exited with non-zero status code`, after the command's output. The tools run by the filter
 * targets end a failure with one line saying why and what to do; with this executor that line is
 * the last of the task's output, right above Nx's summary of failed tasks.
 */
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';

export interface RunOptions {
  command: string;
  cwd?: string;
  __unparsed__?: string[];
}

/** Quotes an argument for sh when it needs it. */
function shellArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export default async function run(options: RunOptions, context: { root: string }): Promise<{ success: boolean }> {
  const extra = (options.__unparsed__ ?? []).map(shellArg).join(' ');
  const command = extra ? `${options.command} ${extra}` : options.command;
  process.stdout.write(`> ${command}\n\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [join(context.root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter) };
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = 'true';
  const code = await new Promise<number>((resolve) => {
    const child = spawn(command, { cwd: join(context.root, options.cwd ?? '.'), env, shell: true, stdio: 'inherit' });
    // Nx ends a task with SIGTERM (or SIGINT on Ctrl-C): the command ends with it
    const pass = (s: NodeJS.Signals) => child.kill(s);
    process.on('SIGTERM', pass);
    process.on('SIGINT', pass);
    const done = (c: number) => { process.off('SIGTERM', pass); process.off('SIGINT', pass); resolve(c); };
    child.on('error', (e) => { process.stderr.write(`cannot run ${command}: ${e.message}\n`); done(1); });
    child.on('exit', (c) => done(c ?? 1));
  });
  return { success: code === 0 };
}
