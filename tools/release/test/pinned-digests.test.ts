/**
 * The first release, checked without a registry: each filter's release commit (found without
 * tags) is checked out cleanly, built and packaged, and the sha256 pinned in its wasmplugin.yaml
 * (and in deploy/) must be the manifest digest of that artifact, which is what `release:publish`
 * pushes. The release commit is built, not HEAD, so later source changes do not break this; a
 * wrong pin does.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinYamlFile } from '../src/manifests';
import { pinProblems, verifyPinnedDigests, type VerifyResult } from '../src/verify';
import { git, listFilters, releaseCommit } from '../src/workspace';
import { workspaceRoot as root } from './workspace-copy';

let result: VerifyResult;
const lines: string[] = [];

beforeAll(() => {
  result = verifyPinnedDigests(root, { keep: true, log: (l) => lines.push(l) });
}, 600_000);

afterAll(() => {
  for (const dir of result?.checkouts.values() ?? []) rmSync(dir, { recursive: true, force: true });
});

describe('pinned digests of the released filters', () => {
  test('every filter is released, and its release commit is found without tags', () => {
    const filters = listFilters(root);
    expect(filters.map((f) => f.name)).toContain('header');
    expect(result.unreleased).toEqual([]);
    expect(result.filters.map((f) => f.name)).toEqual(filters.map((f) => f.name));
    for (const f of result.filters) {
      const info = filters.find((x) => x.name === f.name)!;
      expect(f.commit).toBe(releaseCommit(root, info));
      // The release commit set this version in package.json and wrote its CHANGELOG entry.
      expect(JSON.parse(git(root, ['show', `${f.commit}:${info.root}/package.json`])!).version).toBe(f.version);
      expect(git(root, ['show', `${f.commit}:${info.root}/CHANGELOG.md`])).toContain(`## ${f.version}`);
    }
  });

  test('a clean checkout of the release commit builds exactly the digest each manifest pins', () => {
    for (const f of result.filters) {
      expect({ name: f.name, problems: f.problems }).toEqual({ name: f.name, problems: [] });
      const checkout = result.checkouts.get(f.commit)!;
      // Built at the release commit, not at HEAD.
      expect(git(checkout, ['rev-parse', 'HEAD'])).toBe(f.commit);
      const own = readFileSync(join(root, 'packages', f.name, 'wasmplugin.yaml'), 'utf8');
      expect(own).toContain(`url: oci://ghcr.io/meshwasm/${f.name}:${f.version}\n`);
      expect(own).toContain(`sha256: ${f.digest.slice('sha256:'.length)}\n`);
      expect(lines).toContain(`${f.name}@${f.version}: ${f.digest} — pinned everywhere`);
    }
  });

  test('a wrong pinned sha256 is reported, naming the file, the pin and the digest built', () => {
    const header = result.filters.find((f) => f.name === 'header')!;
    const checkout = result.checkouts.get(header.commit)!;
    const info = { name: 'header', version: header.version, root: 'packages/header' };
    expect(pinProblems(checkout, info, header.digest)).toEqual([]);
    const wrong = 'f'.repeat(64);
    pinYamlFile(join(checkout, 'packages/header/wasmplugin.yaml'), { name: 'header', url: `oci://ghcr.io/meshwasm/header:${header.version}`, sha256: wrong }, { mode: 'own' });
    expect(pinProblems(checkout, info, header.digest)).toEqual([
      `packages/header/wasmplugin.yaml: header@${header.version} pins sha256 ${wrong}, but its release commit builds ${header.digest.slice(7)}`,
    ]);
    // A deploy/ manifest that pins the filter is checked too.
    const timing = result.filters.find((f) => f.name === 'http-timing')!;
    const deployFile = join(result.checkouts.get(timing.commit)!, 'deploy/istio/http-timing.yaml');
    writeFileSync(deployFile, readFileSync(deployFile, 'utf8').replace(timing.digest.slice(7), wrong));
    expect(pinProblems(result.checkouts.get(timing.commit)!, { name: 'http-timing', version: timing.version, root: 'packages/http-timing' }, timing.digest)).toEqual([
      `deploy/istio/http-timing.yaml: http-timing@${timing.version} pins sha256 ${wrong}, but its release commit builds ${timing.digest.slice(7)}`,
    ]);
  });
});
