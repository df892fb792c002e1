import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changesetsReleasing, parseChangeset, readChangesetConfig, readPendingChangesets } from '../src/changesets';
import { normaliseRegistry } from '../src/artifact';
import { changesetCheck } from '../src/check';
import { releaseVersion } from '../src/release';
import { artifactSourcePaths, listFilters } from '../src/workspace';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'release-ws-'));
  made.push(dir);
  const write = (p: string, text: string) => {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  };
  write('package.json', JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*'] }));
  write('asconfig.base.json', '{}');
  write('packages/sdk/package.json', JSON.stringify({ name: 'as-proxy-wasm', version: '0.1.0' }));
  write('packages/sdk/assembly/index.ts', 'export const a = 1;\n');
  write('packages/header/package.json', JSON.stringify({ name: 'header', version: '0.1.0', dependencies: { 'as-proxy-wasm': '^0.1.0' } }));
  write('packages/header/asconfig.json', '{}');
  write('packages/header/assembly/index.ts', 'export const h = 1;\n');
  write('packages/header/README.md', '# header\n');
  write('.changeset/config.json', JSON.stringify({ baseBranch: 'main', ___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH: { updateInternalDependents: 'always' } }));
  write('.changeset/README.md', '# not a changeset\n');
  return dir;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('changesets', () => {
  test('parses front matter; README.md is not a changeset', () => {
    const ws = workspace();
    writeFileSync(join(ws, '.changeset', 'a.md'), '---\n"header": minor\nas-proxy-wasm: patch\n---\n\nText.\n');
    expect(readPendingChangesets(ws)).toEqual([
      { id: 'a', releases: [{ name: 'header', type: 'minor' }, { name: 'as-proxy-wasm', type: 'patch' }], summary: 'Text.' },
    ]);
    expect(() => parseChangeset('bad', 'no front matter')).toThrow(/\.changeset\/bad\.md: no front matter/);
    expect(() => parseChangeset('bad', '---\nheader: huge\n---\n')).toThrow(/bump "huge" is not major\|minor\|patch\|none/);
  });

  test('a changeset on a statically linked package releases the filter only with updateInternalDependents "always"', () => {
    const sdk = [{ id: 's', releases: [{ name: 'as-proxy-wasm', type: 'minor' as const }], summary: '' }];
    expect(changesetsReleasing('header', ['as-proxy-wasm'], sdk, { updateInternalDependents: 'always' }).map((c) => c.id)).toEqual(['s']);
    expect(changesetsReleasing('header', ['as-proxy-wasm'], sdk, {})).toEqual([]);
    expect(changesetsReleasing('header', [], [{ id: 'n', releases: [{ name: 'header', type: 'none' }], summary: '' }], {})).toEqual([]);
    expect(readChangesetConfig(workspace()).updateInternalDependents).toBe('always');
  });

  test('artifact sources: the filter wasm sources and the linked SDK, never the files the release commit edits', () => {
    const ws = workspace();
    const [header] = listFilters(ws);
    expect(artifactSourcePaths(ws, header)).toEqual([
      'packages/header/assembly', 'packages/header/asconfig.json', 'asconfig.base.json', 'packages/sdk/assembly', 'packages/sdk/index.ts',
    ]);
  });
});

describe('release entry points: bad input', () => {
  test('release:version with no pending changeset does nothing, successfully', () => {
    const ws = workspace();
    const lines: string[] = [];
    expect(releaseVersion({ workspaceRoot: ws, log: (l) => lines.push(l) })).toEqual({ ranChangesets: false, bumped: [], pinned: [] });
    expect(lines).toEqual(['release:version: no pending changesets (.changeset/*.md): nothing to version.']);
  });

  test('the registry must be host[:port]/namespace', () => {
    expect(normaliseRegistry('oci://127.0.0.1:5000/meshwasm/')).toBe('127.0.0.1:5000/meshwasm');
    expect(normaliseRegistry('ghcr.io/acme/meshwasm')).toBe('ghcr.io/acme/meshwasm');
    expect(() => normaliseRegistry(undefined)).toThrow(/WASM_REGISTRY is not set/);
    expect(() => normaliseRegistry('https://ghcr.io/acme')).toThrow(/without a scheme/);
    expect(() => normaliseRegistry('ghcr.io/Acme Corp')).toThrow(/not a valid registry\/namespace/);
  });
});

describe('changeset check (git)', () => {
  test('no tag and no main branch: passes with a note', () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'work');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    const r = changesetCheck(ws, 'packages/header');
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/no release tag and no main branch to compare with; nothing to check \(pass\)/);
  });

  test('untagged: compares with the merge-base of main; an SDK change needs a changeset; README changes do not', () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    git(ws, 'checkout', '-qb', 'feature');
    writeFileSync(join(ws, 'packages/header/README.md'), '# header, documented\n');
    git(ws, 'commit', '-qam', 'docs');
    expect(changesetCheck(ws, 'packages/header')).toMatchObject({ ok: true, changed: [], base: { kind: 'merge-base' } });
    writeFileSync(join(ws, 'packages/sdk/assembly/index.ts'), 'export const a = 2;\n');
    const bad = changesetCheck(ws, 'packages/header');
    expect(bad.ok).toBe(false);
    expect(bad.changed).toEqual(['packages/sdk/assembly/index.ts']);
    expect(bad.message).toContain('no pending changeset releases header');
    // A changeset for the SDK releases every dependent (updateInternalDependents: always).
    writeFileSync(join(ws, '.changeset', 'sdk.md'), '---\n"as-proxy-wasm": patch\n---\n\nFix.\n');
    expect(changesetCheck(ws, 'packages/header')).toMatchObject({ ok: true, covering: ['sdk'] });
  });

  test('an explicit base that is not a commit is a clear error', () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    expect(() => changesetCheck(ws, 'packages/header', { base: 'no-such-ref' })).toThrow(/base "no-such-ref" is not a commit/);
  });
});
