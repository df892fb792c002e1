/**
 * The inferred `lint` target (src/lint.ts + eslint.config.mjs):
 *   - which folders get one (the plugin's rule, on a made-up workspace);
 *   - that every TypeScript project of this workspace has it;
 *   - that it fails on a lint error (in a throwaway copy of the workspace);
 *   - that the AssemblyScript sources are left out, and the TypeScript tests are not.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContextV2 } from '@nx/devkit';
import { copyWorkspace, removeDir, workspaceRoot } from '@meshwasm/workspace/test-support';
import { createNodesV2 } from '../src/lint';

const root = workspaceRoot;
const nx = join(root, 'node_modules', '.bin', 'nx');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true' };

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

function json<T>(out: string): T {
  return JSON.parse(out.slice(out.search(/[[{]/))) as T;
}

describe('the lint plugin', () => {
  let ws: string;
  beforeAll(() => {
    ws = mkdtempSync(join(tmpdir(), 'nx-lint-plugin-'));
    const files: Record<string, string> = {
      'tsconfig.json': '{}', // the workspace root: no project
      'tools/a/package.json': '{"name":"a"}',
      'tools/a/tsconfig.json': '{}',
      'bench/project.json': '{"name":"bench"}',
      'bench/tsconfig.json': '{}',
      'tools/a/test/fixtures/tsconfig.json': '{}', // a sub-folder that is no project
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(ws, f)), { recursive: true });
      writeFileSync(join(ws, f), text);
    }
  });
  afterAll(() => { if (ws) rmSync(ws, { recursive: true, force: true }); });

  test('gives a lint target to each project folder with a tsconfig.json, and creates no project', async () => {
    const context: CreateNodesContextV2 = { workspaceRoot: ws, nxJsonConfiguration: {} };
    const files = ['tsconfig.json', 'tools/a/tsconfig.json', 'bench/tsconfig.json', 'tools/a/test/fixtures/tsconfig.json'];
    const results = await createNodesV2[1](files, undefined, context);
    const byFile = Object.fromEntries(results.map(([file, r]) => [file, r]));
    expect(byFile['tsconfig.json']).toEqual({});
    expect(byFile['tools/a/test/fixtures/tsconfig.json']).toEqual({});
    for (const p of ['tools/a', 'bench']) {
      const project = byFile[`${p}/tsconfig.json`].projects?.[p];
      expect(project?.name).toBeUndefined(); // the name comes from package.json / project.json
      expect(project?.targets?.lint).toMatchObject({ command: 'eslint . --max-warnings=0', options: { cwd: p }, cache: true });
      expect(project?.targets?.lint.inputs).toContain('{workspaceRoot}/eslint.config.mjs');
    }
    const renamed = await createNodesV2[1](['bench/tsconfig.json'], { targetName: 'eslint' }, context);
    expect(Object.keys(renamed[0][1].projects?.bench.targets ?? {})).toEqual(['eslint']);
  });
});

describe('in this workspace', () => {
  test('every TypeScript project has the inferred lint target', () => {
    const r = run(nx, ['show', 'projects', '--with-target', 'lint', '--json'], root);
    expect(r.code).toBe(0);
    const withLint = json<string[]>(r.out);
    const expected = ['bench', 'scripts'];
    for (const dir of ['tools', 'packages']) {
      for (const d of readdirSync(join(root, dir))) {
        const pkg = join(root, dir, d, 'package.json');
        if (existsSync(pkg) && existsSync(join(root, dir, d, 'tsconfig.json'))) expected.push(JSON.parse(readFileSync(pkg, 'utf8')).name);
      }
    }
    // docs projects with TypeScript (docs/course: the course's tested solutions)
    for (const d of readdirSync(join(root, 'docs'))) {
      const project = join(root, 'docs', d, 'project.json');
      if (existsSync(project) && existsSync(join(root, 'docs', d, 'tsconfig.json'))) expected.push(JSON.parse(readFileSync(project, 'utf8')).name);
    }
    expect(expected.length).toBeGreaterThan(8);
    expect(withLint.sort()).toEqual(expected.sort());
  }, 300_000);
});

describe('in a throwaway copy of the workspace', () => {
  let copy: string;
  beforeAll(() => {
    copy = copyWorkspace('nx-lint-', { git: false });
  });
  afterAll(() => removeDir(copy));

  test('a lint error in scripts/ fails scripts:lint, naming the file and the rule', () => {
    // A floating promise: the type-aware rule must see it, so the file must be in scripts/tsconfig.json.
    writeFileSync(join(copy, 'scripts', 'lint-probe.ts'), 'async function later(): Promise<number> { return 1; }\nlater();\n');
    const r = run(nx, ['run', 'scripts:lint', '--skipNxCache', '--outputStyle=stream'], copy);
    expect(r.out).toMatch(/lint-probe\.ts/);
    expect(r.out).toMatch(/@typescript-eslint\/no-floating-promises/);
    expect(r.code).not.toBe(0);
  }, 300_000);

  test('ESLint leaves the AssemblyScript sources out and lints the TypeScript tests', () => {
    // ESLint's own answer with the workspace config (in a child: ESLint loads eslint.config.mjs
    // with import(), which jest's module sandbox does not provide).
    const files = {
      'packages/header/assembly/index.ts': true,
      'packages/as-proxy-wasm/assembly/index.ts': true,
      'packages/as-proxy-wasm/index.ts': true,
      'packages/as-proxy-wasm/test/fixtures/noop.ts': true,
      'tools/proxy-wasm-host/test/fixtures/kitchen.ts': true,
      'packages/header/test/header.test.ts': false,
      'packages/redact/bench/quick.ts': false,
      'tools/proxy-wasm-host/src/serve.ts': false,
      'scripts/start.ts': false,
    };
    for (const f of Object.keys(files)) expect(existsSync(join(copy, f))).toBe(true);
    const script = `const { ESLint } = require('eslint'); const e = new ESLint();
      Promise.all(${JSON.stringify(Object.keys(files))}.map(async (f) => [f, await e.isPathIgnored(f)]))
        .then((r) => console.log(JSON.stringify(Object.fromEntries(r))));`;
    const r = run(process.execPath, ['-e', script], copy);
    expect(r.code).toBe(0);
    expect(json<Record<string, boolean>>(r.out)).toEqual(files);
  }, 300_000);
});
