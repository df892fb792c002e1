/**
 * A failing filter target ends its output with the tool's own reason (the `run` executor adds no
 * line after it), and `failedTasks` finds that line for the root entry points' closing lines.
 * Runs `nx run redact:publish` for real with WASM_REGISTRY unset (no registry is contacted: the
 * check comes first; `--excludeTaskDependencies` skips the build and package it depends on).
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ANSI, failedTasks, failureLines } from '../src/failures';

const root = join(__dirname, '..', '..', '..');
const GUIDANCE = 'error: WASM_REGISTRY is not set: export WASM_REGISTRY=host[:port]/path (e.g. WASM_REGISTRY=127.0.0.1:5000/meshwasm), or run meshwasm push <filter> --registry host[:port]/path';

function nx(args: string[]): { code: number | null; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
  delete env.WASM_REGISTRY;
  // a nested run from an Nx task: without these, Nx would treat it as part of the outer task
  delete env.NX_TASK_TARGET_PROJECT; delete env.NX_TASK_TARGET_TARGET; delete env.NX_TASK_HASH;
  // one stream, in the order a terminal shows it (Nx writes its summary to stderr)
  const r = spawnSync('sh', ['-c', 'exec "$0" "$@" 2>&1', join(root, 'node_modules', '.bin', 'nx'), ...args], { cwd: root, encoding: 'utf8', env, timeout: 240_000 });
  return { code: r.status, out: r.stdout.replace(ANSI, '').replace(/\r/g, '') };
}

/** The last non-empty line before Nx's own "… failed" banner: the end of the failed task's output. */
function lastTaskLine(out: string): string | undefined {
  const lines = out.split('\n');
  const banner = lines.findIndex((l) => /^\s*NX\s+Running target .* failed\s*$/.test(l));
  return lines.slice(0, banner < 0 ? lines.length : banner).filter((l) => l.trim() !== '').pop()?.trim();
}

describe('a failed filter target ends with why and what to do', () => {
  test('nx run redact:publish without WASM_REGISTRY: the guidance is the last line of the task output', () => {
    const r = nx(['run', 'redact:publish', '--excludeTaskDependencies', '--outputStyle=static']);
    expect(r.code).not.toBe(0);
    expect(lastTaskLine(r.out)).toBe(GUIDANCE);
    expect(r.out).not.toContain('exited with non-zero status code');
  }, 300_000);

  test('failedTasks() finds each failed task and its last line in a streamed run; failureLines() closes with them', () => {
    const r = nx(['run-many', '-t', 'publish', '-p', 'redact,header', '--excludeTaskDependencies', '--outputStyle=stream']);
    expect(r.code).not.toBe(0);
    const failed = failedTasks(r.out).sort((a, b) => a.task.localeCompare(b.task));
    expect(failed).toEqual([{ task: 'header:publish', lastLine: GUIDANCE }, { task: 'redact:publish', lastLine: GUIDANCE }]);
    expect(failureLines(failed)).toEqual([`✗ header:publish: ${GUIDANCE}`, `✗ redact:publish: ${GUIDANCE}`, '  to see one task\'s whole output: npx nx run header:publish']);
  }, 300_000);

  test('failedTasks() skips the lines npm and nx:run-commands add after a failed command', () => {
    const out = [
      'labs: src/index.ts(221,14): error TS2322: Type \'string\' is not assignable to type \'number\'.',
      'labs: npm error Lifecycle script `typecheck` failed with error:',
      'labs: npm error command sh -c tsc -p tsconfig.json',
      'labs: Warning: command "tsc -p tsconfig.json" exited with non-zero status code',
      '', ' NX   Running target typecheck for project labs failed', '', 'Failed tasks:', '', '- labs:typecheck', '',
    ].join('\n');
    expect(failedTasks(out)).toEqual([{ task: 'labs:typecheck', lastLine: 'src/index.ts(221,14): error TS2322: Type \'string\' is not assignable to type \'number\'.' }]);
  });

  test('no failed tasks in a run that passed', () => {
    expect(failedTasks('\n NX   Successfully ran target build for 5 projects\n')).toEqual([]);
  });
});
