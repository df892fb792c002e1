/**
 * The changeset check on a throwaway git copy of this workspace (no build needed): a filter
 * source change with no changeset naming that filter fails, even when an older pending changeset
 * names it; a changeset naming another filter does not help; adding one that names it passes. The
 * same after a release commit on main, found without tags.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { changesetCheck } from '../src/check';
import { readFilter } from '../src/workspace';
import { changesetFiles, cleanEnv, copyWorkspace, gitIn, removeDir, runIn, workspaceRoot } from './workspace-copy';

let copy = '';
const git = (...args: string[]) => gitIn(copy, ...args);
const cli = join(workspaceRoot, 'tools', 'release', 'src', 'cli.ts');
const tsx = join(workspaceRoot, 'node_modules', '.bin', 'tsx');
const check = (filter: string) => runIn(join(copy, 'packages', filter), tsx, [cli, 'changeset-check', '.']);
const changeset = (id: string, front: string) => writeFileSync(join(copy, '.changeset', `${id}.md`), `---\n${front}\n---\n\nA change.\n`);

beforeAll(() => {
  copy = copyWorkspace('release-check-');
  // An older pending changeset that names redact, already on main.
  changeset('redact-older', '"redact": patch');
  git('add', '-A');
  git('commit', '-qm', 'an older redact changeset');
}, 120_000);

afterAll(() => removeDir(copy));

describe('changeset check in a copy of the workspace', () => {
  test('on a branch: a redact source change without a changeset naming redact fails, whatever older changesets say', () => {
    git('checkout', '-qb', 'feature');
    appendFileSync(join(copy, 'packages', 'redact', 'assembly', 'index.ts'), '\n// a change\n');
    git('commit', '-qam', 'redact: a change');
    const bad = check('redact');
    expect(bad.status).toBe(1);
    expect(bad.out).toContain('error: the artifact sources changed since merge-base(HEAD, main) but no changeset added since then releases redact:');
    expect(bad.out).toContain('  packages/redact/assembly/index.ts');
    expect(bad.out).toContain('Pending .changeset/redact-older.md name redact but were added before merge-base(HEAD, main)');
    const header = check('header');
    expect(header.out).toMatch(/header@[0-9.]+: sources unchanged since merge-base\(HEAD, main\) \(pass\)/);
    expect(header.status).toBe(0);
  }, 60_000);

  test('a changeset naming another filter does not cover redact; one naming redact does', () => {
    changeset('header-only', '"header": patch');
    git('add', '-A');
    git('commit', '-qm', 'a header changeset');
    expect(check('redact').status).toBe(1);
    changeset('redact-fix', '"redact": patch');
    git('add', '-A');
    git('commit', '-qm', 'the redact changeset');
    const good = check('redact');
    expect(good.out).toContain('1 source file(s) changed since merge-base(HEAD, main), released (patch) by .changeset/redact-fix.md (pass)');
    expect(good.status).toBe(0);
  }, 60_000);

  test('on main after a release commit (no tags): compares with the release commit', async () => {
    git('checkout', '-q', 'main');
    const before = readFilter(copy, 'packages/redact').version;
    const v = runIn(copy, join(workspaceRoot, 'node_modules', '.bin', 'changeset'), ['version'], cleanEnv());
    expect(v.status).toBe(0);
    expect(changesetFiles(copy)).toEqual([]);
    git('add', '-A');
    git('commit', '-qm', 'chore(release): version packages');
    const release = git('rev-parse', 'HEAD');
    const version = readFilter(copy, 'packages/redact').version;
    expect(version).not.toBe(before);
    expect(git('tag', '-l')).toBe('');
    expect(await changesetCheck(copy, 'packages/redact')).toMatchObject({
      ok: true, changed: [], base: { kind: 'release-commit', commit: release },
    });
    appendFileSync(join(copy, 'packages', 'redact', 'assembly', 'index.ts'), '\n// after the release\n');
    git('commit', '-qam', 'redact: after the release');
    const bad = await changesetCheck(copy, 'packages/redact');
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain(`since the release commit of redact@${version} (${release.slice(0, 12)}) but no changeset added since then releases redact`);
    changeset('redact-next', '"redact": minor');
    git('add', '-A');
    git('commit', '-qm', 'the changeset');
    expect(await changesetCheck(copy, 'packages/redact')).toMatchObject({ ok: true, covering: ['redact-next'], bump: 'minor' });
  }, 60_000);
});
