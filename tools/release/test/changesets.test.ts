import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readChangesetConfig, readPendingChangesets, releasePlan } from '../src/changesets';
import { normaliseRegistry } from '../src/artifact';
import { changesetCheck } from '../src/check';
import { releaseVersion } from '../src/release';
import { artifactSourcePaths, listFilters, releaseCommit } from '../src/workspace';

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

describe('changesets (read by the changesets libraries)', () => {
  test('pending changesets: front matter and summary; README.md is not a changeset; a bad file is named', async () => {
    const ws = workspace();
    writeFileSync(join(ws, '.changeset', 'a.md'), '---\n"header": minor\nas-proxy-wasm: patch\n---\n\nText.\n');
    expect(await readPendingChangesets(ws)).toEqual([
      { id: 'a', releases: [{ name: 'header', type: 'minor' }, { name: 'as-proxy-wasm', type: 'patch' }], summary: 'Text.' },
    ]);
    writeFileSync(join(ws, '.changeset', 'bad.md'), '---\nheader: huge\n---\n\nText.\n');
    await expect(readPendingChangesets(ws)).rejects.toThrow(/^\.changeset\/bad\.md: could not parse changeset - invalid version type "huge" for package "header"/);
    writeFileSync(join(ws, '.changeset', 'bad.md'), 'no front matter\n');
    await expect(releasePlan(ws)).rejects.toThrow(/^\.changeset\/bad\.md: could not parse changeset - missing or invalid frontmatter/);
  });

  test('the release plan: an SDK patch releases every dependent only with updateInternalDependents "always"', async () => {
    const ws = workspace();
    writeFileSync(join(ws, '.changeset', 's.md'), '---\n"as-proxy-wasm": patch\n---\n\nFix.\n');
    expect((await readChangesetConfig(ws)).___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH.updateInternalDependents).toBe('always');
    const plan = await releasePlan(ws);
    expect(plan.releases.map((r) => [r.name, r.type, r.newVersion, r.changesets])).toEqual([
      ['as-proxy-wasm', 'patch', '0.1.1', ['s']],
      ['header', 'patch', '0.1.1', []],
    ]);
    writeFileSync(join(ws, '.changeset', 'config.json'), JSON.stringify({ baseBranch: 'main' }));
    expect((await releasePlan(ws)).releases.map((r) => r.name)).toEqual(['as-proxy-wasm']);
  });

  test('artifact sources: the filter wasm sources and the linked SDK, never the files the release commit edits', () => {
    const ws = workspace();
    const [header] = listFilters(ws);
    expect(artifactSourcePaths(ws, header)).toEqual([
      'packages/header/assembly', ':(exclude)packages/header/assembly/lab.ts', 'packages/header/asconfig.json', 'asconfig.base.json',
      'packages/sdk/assembly', 'packages/sdk/index.ts',
    ]);
  });
});

describe('release entry points: bad input', () => {
  test('release:version with no pending changeset does nothing, successfully', async () => {
    const ws = workspace();
    const lines: string[] = [];
    expect(await releaseVersion({ workspaceRoot: ws, log: (l) => lines.push(l) })).toEqual({ ranChangesets: false, bumped: [], pinned: [] });
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
  test('no main branch, no tag, no release commit: passes with a note', async () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'work');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    const r = await changesetCheck(ws, 'packages/header');
    expect(r.ok).toBe(true);
    expect(r.message).toBe('header@0.1.0: no main branch, release tag or release commit to compare with; nothing to check (pass)');
  });

  test('a branch: compares with its merge-base; an SDK change needs a changeset added on the branch; README changes do not', async () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    git(ws, 'checkout', '-qb', 'feature');
    writeFileSync(join(ws, 'packages/header/README.md'), '# header, documented\n');
    git(ws, 'commit', '-qam', 'docs');
    expect(await changesetCheck(ws, 'packages/header')).toMatchObject({ ok: true, changed: [], base: { kind: 'merge-base' } });
    writeFileSync(join(ws, 'packages/sdk/assembly/index.ts'), 'export const a = 2;\n');
    const bad = await changesetCheck(ws, 'packages/header');
    expect(bad.ok).toBe(false);
    expect(bad.changed).toEqual(['packages/sdk/assembly/index.ts']);
    expect(bad.message).toContain('no changeset added since then releases header');
    // Written but untracked: git diff, hence the release plan, cannot see it; the message says so.
    writeFileSync(join(ws, '.changeset', 'sdk.md'), '---\n"as-proxy-wasm": patch\n---\n\nFix.\n');
    const untracked = await changesetCheck(ws, 'packages/header');
    expect(untracked.ok).toBe(false);
    expect(untracked.message).toContain('Not counted until git tracks them (git add): .changeset/sdk.md.');
    // Staged: an SDK changeset releases every dependent (updateInternalDependents: always).
    git(ws, 'add', '.changeset/sdk.md');
    const good = await changesetCheck(ws, 'packages/header');
    expect(good).toMatchObject({ ok: true, covering: ['sdk'], bump: 'patch' });
    expect(good.message).toContain('released (patch) as a dependent of as-proxy-wasm (.changeset/sdk.md)');
  });

  test('the release commit is found without tags: the last version change with its CHANGELOG entry, wherever HEAD is', () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    const header = () => listFilters(ws).find((f) => f.name === 'header')!;
    // Created at 0.1.0 with no CHANGELOG entry: never released.
    expect(releaseCommit(ws, header())).toBeUndefined();
    writeFileSync(join(ws, 'packages/header/package.json'), JSON.stringify({ name: 'header', version: '0.2.0', dependencies: { 'as-proxy-wasm': '^0.1.0' } }));
    writeFileSync(join(ws, 'packages/header/CHANGELOG.md'), '# header\n\n## 0.2.0\n\n- First release.\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'chore(release): version packages');
    const release = git(ws, 'rev-parse', 'HEAD').trim();
    expect(releaseCommit(ws, header())).toBe(release);
    // Later commits, sources included, do not move it.
    writeFileSync(join(ws, 'packages/header/assembly/index.ts'), 'export const h = 2;\n');
    writeFileSync(join(ws, 'packages/header/package.json'), JSON.stringify({ name: 'header', version: '0.2.0', description: 'x', dependencies: { 'as-proxy-wasm': '^0.1.0' } }));
    git(ws, 'commit', '-qam', 'later');
    expect(releaseCommit(ws, header())).toBe(release);
    // A version in the working tree that no commit released yet has no release commit.
    writeFileSync(join(ws, 'packages/header/package.json'), JSON.stringify({ name: 'header', version: '0.3.0' }));
    expect(releaseCommit(ws, header())).toBeUndefined();
  });

  test('an explicit base that is not a commit is a clear error', async () => {
    const ws = workspace();
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-qm', 'base');
    await expect(changesetCheck(ws, 'packages/header', { base: 'no-such-ref' })).rejects.toThrow(/base "no-such-ref" is not a commit/);
  });
});
