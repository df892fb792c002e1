/**
 * The filter generator (`nx g @meshwasm/nx-plugin:filter <name>`, also `meshwasm init <name>`):
 * which names it takes, which files it writes, and, in a throwaway git copy of the workspace, that
 * the new package passes build, test, validate, typecheck and lint, that its README's transcript
 * holds, what the lockfile needs, and that `nx affected` lists the new package and nothing else
 * of the workspace's filters, SDK or tools.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FsTree } from 'nx/src/generators/tree';
import filterGenerator, { FilterNameError, nextSteps } from '../src/generators/filter/generator';
import { filterFiles, INITIAL_VERSION } from '../src/generators/filter/files';
import { className, filterNameProblem, type NameContext } from '../src/generators/filter/name';
import { cleanEnv, copyWorkspace, gitIn, removeDir, runIn, workspaceRoot } from '../../release/test/workspace-copy';

const NAME = 'demo-filter';

const ctx = (over: Partial<NameContext> = {}): NameContext => ({
  projects: ['header', 'as-proxy-wasm', 'bench', '@meshwasm/release'],
  folderExists: (n) => n === 'header' || n === 'as-proxy-wasm',
  installed: (n) => n === 'yaml' || n === 'jest',
  ...over,
});

describe('the name of a new filter', () => {
  test.each(['ratelimit', 'rate-limit', 'a', 'geo2ip', 'x-v2-auth'])('%s is accepted', (name) => {
    expect(filterNameProblem(name, ctx())).toBeNull();
  });

  test.each([
    ['RateLimit', /^"RateLimit" is not a valid filter name: use lowercase letters, digits and single hyphens, starting with a letter .*; e\.g\. ratelimit$/],
    ['rate_limit', /not a valid filter name.*; e\.g\. rate-limit$/],
    ['rate.limit', /not a valid filter name/],
    ['2fa', /not a valid filter name/],
    ['-x', /not a valid filter name/],
    ['x-', /not a valid filter name/],
    ['a--b', /not a valid filter name/],
    ['@meshwasm/x', /not a valid filter name/],
    ['../x', /not a valid filter name/],
    ['rate limit', /not a valid filter name/],
    ['', /^a filter needs a name, e\.g\. ratelimit$/],
    ['a'.repeat(41), /too long: at most 40 characters$/],
  ])('%j is refused: %s', (name, message) => {
    expect(filterNameProblem(name, ctx())).toMatch(message);
  });

  test('an existing package, a project name, a reserved name, a Node built-in and an installed package are refused', () => {
    expect(filterNameProblem('header', ctx())).toBe('packages/header already exists: choose another name, or edit that filter');
    expect(filterNameProblem('bench', ctx())).toBe('"bench" is already the name of a project of this workspace: choose another name');
    expect(filterNameProblem('node_modules', ctx())).toMatch(/not a valid filter name/);
    expect(filterNameProblem('lab', ctx())).toBe('"lab" is reserved (it names a folder or a tool here): choose another name');
    expect(filterNameProblem('http', ctx())).toBe('"http" is a Node.js built-in module, which npm refuses as a package name: choose another name');
    expect(filterNameProblem('yaml', ctx())).toBe('"yaml" is an installed npm package (node_modules/yaml); a workspace package of that name would replace it: choose another name');
  });

  test('class names are the name in PascalCase', () => {
    expect([className('ratelimit'), className('rate-limit'), className('x-v2-auth')]).toEqual(['Ratelimit', 'RateLimit', 'XV2Auth']);
  });
});

describe('the files of a new filter', () => {
  test('every file a filter has (as packages/header), the student-sized lab.ts, and valid JSON', () => {
    const files = filterFiles(NAME);
    const header = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .filter((f) => !/^(dist|build|node_modules|bench)\//.test(f));
    const expected = header(join(workspaceRoot, 'packages', 'header')).map((f) => f.replace('header.test.ts', `${NAME}.test.ts`));
    expect(Object.keys(files).sort()).toEqual([...new Set([...expected, 'assembly/lab.ts'])].sort());
    for (const [f, text] of Object.entries(files)) if (f.endsWith('.json')) expect(() => JSON.parse(text) as unknown).not.toThrow();
    const pkg = JSON.parse(files['package.json']) as { name: string; version: string };
    expect([pkg.name, pkg.version]).toEqual([NAME, INITIAL_VERSION]);
    expect(files['wasmplugin.yaml']).toContain(`url: oci://ghcr.io/meshwasm/${NAME}:${INITIAL_VERSION}\n`);
    expect(files['wasmplugin.yaml']).not.toMatch(/^\s*sha256:/m); // unreleased: nothing pinned
    expect(files['assembly/index.ts']).toContain('class DemoFilterRoot extends RootContext');
    expect(files['assembly/lab.ts'].split('\n').length).toBeLessThanOrEqual(60);
  });

  test('the generator writes them under packages/<name> with the first changeset, and refuses a taken name', () => {
    const tree = new FsTree(workspaceRoot, false);
    const done = filterGenerator(tree, { name: NAME });
    const written = tree.listChanges().map((c) => c.path).sort();
    expect(written).toEqual([...Object.keys(filterFiles(NAME)).map((f) => `packages/${NAME}/${f}`), `.changeset/${NAME}-first-release.md`].sort());
    expect(tree.read(`.changeset/${NAME}-first-release.md`, 'utf8')).toMatch(new RegExp(`^---\\n"${NAME}": minor\\n---\\n\\nFirst release of the ${NAME} filter`));
    expect(typeof done).toBe('function');
    expect(nextSteps(NAME).join('\n')).toMatch(/run `npm install` at the repository root/);
    expect(existsSync(join(workspaceRoot, 'packages', NAME))).toBe(false); // nothing flushed
    expect(() => filterGenerator(new FsTree(workspaceRoot, false), { name: 'header' })).toThrow(new FilterNameError('packages/header already exists: choose another name, or edit that filter'));
    expect(() => filterGenerator(new FsTree(workspaceRoot, false), { name: 'nx' })).toThrow(FilterNameError);
  });
});

describe('a generated filter in a throwaway copy of the workspace', () => {
  let copy = '';
  let probe = '';
  const env = cleanEnv();
  // without colours: under `nx run` the outer Nx asks its children for them
  // eslint-disable-next-line no-control-regex
  const plain = (r: { status: number; out: string }) => ({ status: r.status, out: r.out.replace(/\x1b\[[0-9;]*m/g, '') });
  const nx = (...args: string[]) => plain(runIn(copy, join(copy, 'node_modules', '.bin', 'nx'), args, env));

  /** package.json files and the lockfile, without node_modules: where `npm ci --dry-run` can say what it thinks. */
  function npmCiDryRun(): { status: number; out: string } {
    rmSync(probe, { recursive: true, force: true });
    for (const f of ['package.json', 'package-lock.json', ...['packages', 'tools'].flatMap((g) => readdirSync(join(copy, g)).map((d) => `${g}/${d}/package.json`))]) {
      if (!existsSync(join(copy, f))) continue;
      mkdirSync(dirname(join(probe, f)), { recursive: true });
      cpSync(join(copy, f), join(probe, f));
    }
    return runIn(probe, 'npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], env);
  }

  beforeAll(() => {
    copy = copyWorkspace('nx-generator-', { ownPackages: true });
    probe = mkdtempSync(join(tmpdir(), 'nx-generator-npm-'));
    gitIn(copy, 'checkout', '-q', '-b', 'new-filter');
  }, 120_000);

  afterAll(() => {
    removeDir(copy);
    removeDir(probe);
  });

  test('nx g refuses a bad or existing name with one clear line and writes nothing', () => {
    const bad = nx('g', '@meshwasm/nx-plugin:filter', 'Rate_Limit', '--no-interactive');
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('"Rate_Limit" is not a valid filter name: use lowercase letters, digits and single hyphens');
    const taken = nx('g', '@meshwasm/nx-plugin:filter', 'header', '--no-interactive');
    expect(taken.status).not.toBe(0);
    expect(taken.out).toContain('packages/header already exists: choose another name, or edit that filter');
    expect(gitIn(copy, 'status', '--porcelain')).toBe('');
  }, 120_000);

  test('generated, it passes its own targets; npm install records it in the lockfile; nx affected lists only it', () => {
    const g = nx('g', '@meshwasm/nx-plugin:filter', NAME, '--no-interactive');
    expect(g.status).toBe(0);
    expect(g.out).toContain(`CREATE packages/${NAME}/assembly/index.ts`);
    expect(g.out).toContain('next: run `npm install` at the repository root');

    // npm ci refuses a lockfile that lacks a workspace package; npm install adds it (offline: nothing to download)
    const before = plain(npmCiDryRun());
    expect(before.status).not.toBe(0);
    expect(before.out).toContain(`Missing: ${NAME}@${INITIAL_VERSION} from lock file`);
    const lockBefore = readFileSync(join(copy, 'package-lock.json'), 'utf8');
    const install = runIn(copy, 'npm', ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], env);
    expect(install.status).toBe(0);
    const lock = JSON.parse(readFileSync(join(copy, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const old = JSON.parse(lockBefore) as { packages: Record<string, unknown> };
    const added = Object.keys(lock.packages).filter((k) => !(k in old.packages)).sort();
    expect(added).toEqual([`node_modules/${NAME}`, `packages/${NAME}`]);
    expect(Object.keys(old.packages).filter((k) => JSON.stringify(old.packages[k]) !== JSON.stringify(lock.packages[k]))).toEqual([]);
    expect(npmCiDryRun().status).toBe(0);

    gitIn(copy, 'add', '-A');
    gitIn(copy, 'commit', '-qm', `${NAME}: a new filter`);

    const run = nx('run-many', '-t', 'build', 'test', 'validate', 'typecheck', 'lint', '-p', NAME, '--outputStyle=stream');
    expect({ status: run.status, tail: run.out.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Successfully ran targets build, test, validate, typecheck, lint') });
    // the first changeset covers the new sources (validate runs changeset-check against main)
    expect(run.out).toContain(`released (minor) by .changeset/${NAME}-first-release.md (pass)`);
    expect(run.out).toMatch(/Tests: +\d+ passed, \d+ total/);

    // the student-sized filter compiles with plain asc, the way index.ts does
    const lab = runIn(join(copy, 'packages', NAME), join(copy, 'node_modules', '.bin', 'asc'), ['assembly/lab.ts', '--config', 'asconfig.json', '--target', 'release', '--outFile', `dist/${NAME}.lab.wasm`], env);
    expect(lab.status).toBe(0);
    expect(existsSync(join(copy, 'packages', NAME, 'dist', `${NAME}.lab.wasm`))).toBe(true);

    // the README's links resolve and its transcript is the real output
    const docs = plain(runIn(copy, join(copy, 'node_modules', '.bin', 'tsx'), ['tools/docs/src/cli.ts', `packages/${NAME}/README.md`], env));
    expect({ status: docs.status, out: docs.out }).toEqual({ status: 0, out: expect.stringContaining(`✓ packages/${NAME}/README.md`) });

    // Only the new filter and the two projects whose tests read every packages/*/examples
    // (deploy runs every lab, meshwasm lists every filter): no other filter, not the SDK, no tool.
    const affected = nx('show', 'projects', '--affected', '--base=main', '--head=HEAD', '--json');
    expect(affected.status).toBe(0);
    const got = (JSON.parse(affected.out.slice(affected.out.indexOf('['), affected.out.lastIndexOf(']') + 1)) as string[]).sort();
    expect(got).toEqual(['demo-filter', 'deploy', 'meshwasm']);
  }, 900_000);
});
