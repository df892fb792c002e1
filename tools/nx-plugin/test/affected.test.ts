/**
 * Proves the project graph in a throwaway git copy of this workspace: which projects does
 * `nx show projects --affected` list after a change to one package?
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { copyWorkspace, removeDir, workspaceRoot } from '@meshwasm/workspace/test-support';

const root = workspaceRoot;
let copy: string;

function sh(cmd: string, args: string[], cwd = copy): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
}

function affected(): string[] {
  const out = sh(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '--json']);
  return (JSON.parse(out.slice(out.indexOf('['))) as string[]).sort();
}

/** The projects that depend on `name`, directly or through others, from Nx's project graph. */
function dependentsOf(name: string): string[] {
  const file = join(copy, 'graph.json');
  sh(join(root, 'node_modules', '.bin', 'nx'), ['graph', `--file=${file}`]);
  const graph = JSON.parse(readFileSync(file, 'utf8')).graph as { dependencies: Record<string, Array<{ target: string }>> };
  rmSync(file);
  const found = new Set<string>();
  const visit = (target: string): void => {
    for (const [source, deps] of Object.entries(graph.dependencies)) {
      if (!found.has(source) && deps.some((d) => d.target === target)) {
        found.add(source);
        visit(source);
      }
    }
  };
  visit(name);
  return [...found].sort();
}

function commitChange(file: string, line: string): void {
  appendFileSync(join(copy, file), line);
  sh('git', ['add', '-A']);
  sh('git', ['commit', '-qm', `change ${file}`]);
}

const FILTERS = ['blocklist', 'callout', 'header', 'http-timing', 'redact'];

beforeAll(() => {
  // Every tracked or new (not ignored) file of the working tree, so the test sees the current config.
  copy = copyWorkspace('nx-affected-');
}, 120_000);

afterAll(() => removeDir(copy));

describe('nx affected in a throwaway copy', () => {
  test('the workspace has the five filters as projects with inferred targets', () => {
    const projects = JSON.parse(sh(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects', '--json'])) as string[];
    for (const f of FILTERS.filter((f) => existsSync(join(root, 'packages', f, 'asconfig.json')))) expect(projects).toContain(f);
    const header = JSON.parse(sh(join(root, 'node_modules', '.bin', 'nx'), ['show', 'project', 'header', '--json']));
    expect(Object.keys(header.targets)).toEqual(expect.arrayContaining(['build', 'test', 'typecheck', 'validate', 'fuzz']));
    // fuzz runs the built wasm through tools/fuzz; extra arguments (--long, --seed) reach its CLI
    expect(header.targets.fuzz.dependsOn).toEqual(['build']);
    expect(header.targets.fuzz.options.command).toBe('tsx ../../tools/fuzz/src/cli.ts .');
    expect(header.targets.build.outputs).toEqual(['{projectRoot}/dist/header.wasm']); // its file: restoring it keeps dist/header.lab.wasm
    // validate checks the built dist/*.wasm (wasm-validate --disable-simd), so it needs the build and hashes its output
    expect(header.targets.validate.dependsOn).toEqual(expect.arrayContaining(['build']));
    expect(header.targets.validate.inputs).toEqual(expect.arrayContaining([{ dependentTasksOutputFiles: '**/*.wasm' }, { env: 'CI' }]));
  }, 120_000);

  test('a change to packages/header affects header and what consumes it, nothing else', () => {
    commitChange('packages/header/assembly/index.ts', '\n// touched\n');
    const got = affected();
    expect(got).toContain('header');
    expect(got.filter((p) => FILTERS.includes(p))).toEqual(['header']);
    expect(got).not.toContain('as-proxy-wasm');
    // exactly header and the projects that depend on it, directly or not (deploy, …)
    const consumers = dependentsOf('header');
    expect(consumers).toContain('deploy');
    expect(got).toEqual([...new Set(['header', ...consumers])].sort());
  }, 120_000);

  test('a change to packages/as-proxy-wasm affects every filter', () => {
    commitChange('packages/as-proxy-wasm/assembly/index.ts', '\n// touched\n');
    const got = affected();
    const present = FILTERS.filter((f) => existsSync(join(root, 'packages', f, 'asconfig.json')));
    expect(present.length).toBeGreaterThan(0);
    for (const f of present) expect(got).toContain(f);
    expect(got).toContain('as-proxy-wasm');
  }, 120_000);
});
