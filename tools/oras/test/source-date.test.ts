import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packWasm } from '../src/pack';
import { sourceDateEpoch } from '../src/source-date';
import { fakeWasm } from './helpers';

const repo = mkdtempSync(join(tmpdir(), 'oras-git-'));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function commit(file: string, when: number) {
  mkdirSync(join(repo, file, '..'), { recursive: true });
  writeFileSync(join(repo, file), String(Math.random()));
  const env = { ...process.env, GIT_AUTHOR_DATE: `${when} +0000`, GIT_COMMITTER_DATE: `${when} +0000` };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', file], { cwd: repo, env });
}

describe('sourceDateEpoch', () => {
  it("uses the filter's own last source change, not later commits elsewhere", () => {
    execFileSync('git', ['init', '-q'], { cwd: repo });
    commit('packages/header/assembly/index.ts', 1_700_000_000);
    commit('packages/redact/assembly/index.ts', 1_700_000_500);
    commit('packages/header/CHANGELOG.md', 1_700_000_900); // the release commit
    const header = sourceDateEpoch({ cwd: repo, paths: ['packages/header', ':(exclude)packages/header/CHANGELOG.md'] });
    expect(header).toBe(1_700_000_000);
    expect(sourceDateEpoch({ cwd: repo, paths: ['packages/redact'] })).toBe(1_700_000_500);
    expect(sourceDateEpoch({ cwd: repo, paths: ['packages/none'] })).toBeUndefined();
    expect(sourceDateEpoch({ cwd: tmpdir(), paths: ['x'] })).toBeUndefined();
    // the digest therefore does not move with the release commit
    const a = packWasm({ wasm: fakeWasm(), name: 'header', version: '1.0.0', created: header });
    commit('packages/header/CHANGELOG.md', 1_700_009_999);
    const b = packWasm({
      wasm: fakeWasm(),
      name: 'header',
      version: '1.0.0',
      created: sourceDateEpoch({ cwd: repo, paths: ['packages/header', ':(exclude)packages/header/CHANGELOG.md'] }),
    });
    expect(b.descriptor.digest).toBe(a.descriptor.digest);
  });
});
