// `meshwasm list` through the real bin: in a throwaway git workspace (pinned and unpinned filters,
// source changes after the release), and with --rebuild in this repository.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFilters } from '@meshwasm/release';
import { cliEnv, fixtureWorkspace, git, meshwasm, pinAndCommit, REPO, removeScratch, scratchDir } from './helpers';

let ws: string;
let release: string;
let sha: string;

afterAll(removeScratch);

beforeAll(() => {
  ws = fixtureWorkspace(['redact', 'header']);
  sha = 'e'.repeat(64);
  release = pinAndCommit(ws, 'redact', sha);
  // a commit after the release that does not touch the wasm sources
  appendFileSync(join(ws, 'packages/redact/README.md'), '\nmore docs\n');
  git(ws, ['commit', '-q', '-am', 'docs']);
});

function row(out: string, name: string): string {
  return out.split('\n').find((l) => l.startsWith(`${name} `)) ?? `(no row for ${name} in:\n${out})`;
}

describe('meshwasm list', () => {
  test('every filter with its version, pinned digest and the state of the working tree', () => {
    const r = meshwasm(['list'], { cwd: ws });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [head] = r.out.split('\n');
    expect(head.split(/\s{2,}/)).toEqual(['FILTER', 'VERSION', 'PINNED SHA256', 'WORKING TREE']);
    expect(row(r.out, 'redact').split(/\s{2,}/)).toEqual(['redact', '0.1.0', sha, `unchanged since ${release.slice(0, 10)}`]);
    expect(row(r.out, 'header').split(/\s{2,}/)).toEqual(['header', '0.1.0', '-', 'not released yet (wasmplugin.yaml pins no sha256)']);
    expect(r.out.trim().split('\n')).toHaveLength(3);
  });

  test('a source change (tracked, untracked or in the SDK) shows as changed; reverting it shows unchanged again', () => {
    const src = join(ws, 'packages/redact/assembly/index.ts');
    const before = readFileSync(src, 'utf8');
    try {
      writeFileSync(src, before + '\n// edited\n');
      writeFileSync(join(ws, 'packages/redact/assembly/extra.ts'), 'export const x = 1;\n');
      const r = meshwasm(['list', '--json'], { cwd: ws });
      expect(r.code).toBe(0);
      const redact = JSON.parse(r.out).find((x: { name: string }) => x.name === 'redact');
      expect(redact).toMatchObject({ version: '0.1.0', sha256: sha, url: 'oci://ghcr.io/meshwasm/redact:0.1.0', releaseCommit: release, state: 'changed' });
      expect(redact.changed).toEqual(['packages/redact/assembly/extra.ts', 'packages/redact/assembly/index.ts']);
      expect(row(meshwasm(['list'], { cwd: ws }).out, 'redact')).toContain(`changed since ${release.slice(0, 10)}: 2 files (packages/redact/assembly/extra.ts, packages/redact/assembly/index.ts)`);
    } finally {
      writeFileSync(src, before);
      rmSync(join(ws, 'packages/redact/assembly/extra.ts'));
    }
    // the SDK is compiled into every filter
    const sdk = join(ws, 'packages/as-proxy-wasm/assembly/index.ts');
    const sdkBefore = readFileSync(sdk, 'utf8');
    try {
      writeFileSync(sdk, sdkBefore + '\n// sdk edit\n');
      git(ws, ['commit', '-q', '-am', 'sdk change']);
      const redact = JSON.parse(meshwasm(['list', '--json'], { cwd: ws }).out).find((x: { name: string }) => x.name === 'redact');
      expect(redact.state).toBe('changed');
      expect(redact.changed).toEqual(['packages/as-proxy-wasm/assembly/index.ts']);
    } finally {
      writeFileSync(sdk, sdkBefore);
      git(ws, ['commit', '-q', '-am', 'sdk change reverted']);
    }
    expect(JSON.parse(meshwasm(['list', '--json'], { cwd: ws }).out).find((x: { name: string }) => x.name === 'redact').state).toBe('unchanged');
  });

  test('a pin that is not committed yet says so', () => {
    const other = fixtureWorkspace(['redact']);
    pinAndCommit(other, 'redact', 'd'.repeat(64));
    git(other, ['reset', '-q', '--soft', 'HEAD~1']);
    const r = meshwasm(['list'], { cwd: other });
    expect(row(r.out, 'redact').split(/\s{2,}/)).toEqual(['redact', '0.1.0', 'd'.repeat(64), 'the pin is not committed yet']);
  });

  test('--rebuild builds and packages every filter and shows the digest of the artifact it built', () => {
    const r = meshwasm(['list', '--rebuild', '--json'], { cwd: REPO, env: cliEnv() });
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as { name: string; built: string; sha256: string | null }[];
    expect(list.map((x) => x.name)).toEqual(listFilters(REPO).map((f) => f.name));
    // the same digest as tools/release's own `package` of the same wasm, done separately
    const header = listFilters(REPO).find((f) => f.name === 'header')!;
    const out = scratchDir('meshwasm-pkg-');
    const p = spawnSync(join(REPO, 'node_modules/.bin/tsx'), [join(REPO, 'tools/release/src/cli.ts'), 'package', header.dir, '--out', out, '--json'], { cwd: REPO, encoding: 'utf8' });
    expect(p.status).toBe(0);
    const packaged = JSON.parse(p.stdout.trim().split('\n').pop()!).digest as string;
    expect(list.find((x) => x.name === 'header')!.built).toBe(packaged.slice('sha256:'.length));
    for (const x of list) expect(x.built).toMatch(/^[0-9a-f]{64}$/);
  }, 600_000);
});
