import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  RELEASE_EDITED_FILES,
  artifactSourceGlobs,
  artifactSourcePaths,
  findWorkspaceRoot,
  isFilterDir,
  labPaths,
  linkedPackageDirs,
  listFilters,
  listLabFilters,
  readFilter,
} from '../src';

let ws: string;

function write(files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(ws, f)), { recursive: true });
    writeFileSync(join(ws, f), text);
  }
}

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'workspace-model-'));
  write({
    'package.json': JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*', 'tools/*'] }),
    'asconfig.base.json': '{}',
    // two filters (one with a lab), linking the SDK and a tool
    'packages/zeta/package.json': JSON.stringify({ name: 'zeta', version: '1.2.3', dependencies: { sdk: '*', '@ws/tool': '*' } }),
    'packages/zeta/asconfig.json': '{}',
    'packages/alpha-dir/package.json': JSON.stringify({ name: 'alpha', version: '0.1.0-rc.1' }),
    'packages/alpha-dir/asconfig.json': '{}',
    'packages/alpha-dir/examples/lab.exchanges.json': '{}',
    // the SDK: a workspace package, no asconfig.json, so no filter
    'packages/sdk/package.json': JSON.stringify({ name: 'sdk', version: '1.0.0' }),
    'packages/sdk/index.ts': '',
    // an asconfig.json without package.json is no filter either
    'packages/stray/asconfig.json': '{}',
    'tools/tool/package.json': JSON.stringify({ name: '@ws/tool' }),
  });
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('the filters of a workspace', () => {
  it('are the packages with asconfig.json and package.json, sorted by package name', () => {
    const filters = listFilters(ws);
    expect(filters.map((f) => [f.name, f.root, f.version])).toEqual([
      ['alpha', 'packages/alpha-dir', '0.1.0-rc.1'],
      ['zeta', 'packages/zeta', '1.2.3'],
    ]);
    const [alpha, zeta] = filters;
    expect(alpha.wasmPath).toBe(join(ws, 'packages', 'alpha-dir', 'dist', 'alpha-dir.wasm'));
    expect(alpha.layoutDir).toBe(join(ws, 'packages', 'alpha-dir', 'dist', 'oci'));
    expect(zeta.dependencies).toEqual(['sdk', '@ws/tool']);
    expect(isFilterDir(join(ws, 'packages', 'sdk'))).toBe(false);
    expect(listLabFilters(ws).map((f) => f.name)).toEqual(['alpha']);
    expect(labPaths(alpha).config).toBe(join(alpha.dir, 'examples', 'lab.json'));
  });

  it('refuses a package.json that cannot name an OCI artifact, saying which file', () => {
    write({ 'packages/bad/package.json': JSON.stringify({ name: '@scope/bad', version: '1.0.0' }), 'packages/bad/asconfig.json': '{}' });
    expect(() => readFilter(ws, 'packages/bad')).toThrow(/@scope\/bad: a filter's package name must be a valid OCI repository component/);
    write({ 'packages/bad/package.json': JSON.stringify({ name: 'bad', version: 'one' }) });
    expect(() => listFilters(ws)).toThrow(`${join(ws, 'packages', 'bad', 'package.json')}: "version" "one" is not a semver version`);
    write({ 'packages/bad/package.json': '{ nope' });
    expect(() => readFilter(ws, 'packages/bad')).toThrow(/package\.json: invalid JSON/);
    rmSync(join(ws, 'packages', 'bad'), { recursive: true });
  });

  it('finds the workspace root from a folder inside it', () => {
    expect(findWorkspaceRoot(join(ws, 'packages', 'zeta'))).toBe(ws);
    expect(() => findWorkspaceRoot(tmpdir())).toThrow(/no npm workspace root/);
  });
});

describe('what an artifact is built from', () => {
  it('is the filter, the base asconfig and the AssemblyScript packages it links, never a release-edited file', () => {
    const zeta = readFilter(ws, 'packages/zeta');
    expect(linkedPackageDirs(ws, zeta)).toEqual(['packages/sdk']);
    const paths = artifactSourcePaths(ws, zeta);
    expect(paths).toEqual(['packages/zeta/assembly', ':(exclude)packages/zeta/assembly/lab.ts', 'packages/zeta/asconfig.json', 'asconfig.base.json', 'packages/sdk/assembly', 'packages/sdk/index.ts']);
    for (const edited of RELEASE_EDITED_FILES) expect(paths.some((p) => p.endsWith(edited))).toBe(false);
  });

  it('gives Nx the same files as git, folders as globs', () => {
    const zeta = readFilter(ws, 'packages/zeta');
    const globs = artifactSourceGlobs(ws, zeta);
    expect(globs).toEqual([
      '{workspaceRoot}/packages/zeta/assembly/**/*',
      '!{workspaceRoot}/packages/zeta/assembly/lab.ts',
      '{workspaceRoot}/packages/zeta/asconfig.json',
      '{workspaceRoot}/asconfig.base.json',
      '{workspaceRoot}/packages/sdk/assembly/**/*',
      '{workspaceRoot}/packages/sdk/index.ts',
    ]);
    // '!' in a glob is the pathspec's ':(exclude)'
    const asPathspecs = globs.map((g) => g.replace('{workspaceRoot}/', '').replace('/**/*', '').replace(/^!/, ':(exclude)'));
    expect(asPathspecs).toEqual(artifactSourcePaths(ws, zeta));
  });
});
