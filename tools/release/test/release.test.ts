/**
 * The whole release flow in a throwaway git copy of this workspace, against Debian's
 * docker-registry on 127.0.0.1 (started here, stopped after): release:version pins every
 * wasmplugin.yaml, release:publish pushes every filter through nx and tags it, Istio's rules
 * accept every artifact, skopeo reads them, a rerun pushes nothing, and a source change without
 * a changeset is reported.
 *
 * Every filter must build in the copy; one that does not fails the suite with its build output.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { istioCheckRemote, resolveDigest, resolveInLayout } from '@meshwasm/oras';
import { describeMissingComponents, missingComponents, skopeo, startRegistry, type RegistryHandle } from '../../oras/test/harness';
import { packageFilter } from '../src/artifact';
import { readPins } from '../src/manifests';
import { listFilters } from '../src/workspace';
import { cleanEnv, copyWorkspace } from './workspace-copy';

const root = join(__dirname, '..', '..', '..');
const missing = missingComponents();

let copy = '';
let registry: RegistryHandle | undefined;
let REG = '';
const filters: string[] = [];
const dropped: string[] = [];
const versions = new Map<string, string>();
const pinned = new Map<string, string>();

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? copy, env: opts.env ?? cleanEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function npmRun(script: string, extra: Record<string, string> = {}): string {
  const r = run('npm', ['run', '--silent', script], { env: cleanEnv(extra) });
  if (r.status !== 0) throw new Error(`npm run ${script} failed (${r.status}):\n${r.out.slice(-6000)}`);
  return r.out;
}

function tagLinkMtimes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of filters) {
    const p = join(registry!.dir, 'data', 'docker', 'registry', 'v2', 'repositories', 'meshwasm', f, '_manifests', 'tags', versions.get(f)!, 'current', 'link');
    out[f] = statSync(p).mtimeMs;
  }
  return out;
}

if (missing.length > 0) {
  describeMissingComponents('tools/release integration tests (release flow against a real registry)', missing);
} else {
  beforeAll(async () => {
    registry = await startRegistry();
    REG = `${registry.host}/meshwasm`;
    // Known pending changesets: config + README from the workspace, plus one releasing every filter.
    copy = copyWorkspace('release-flow-');
    // Every filter must build: the release flow runs on all of them.
    const all = listFilters(copy).map((f) => f.name);
    const build = run(join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '-p', all.join(','), '--outputStyle=stream']);
    for (const f of listFilters(copy)) (existsSync(f.wasmPath) ? filters : dropped).push(f.name);
    if (dropped.length) throw new Error(`these filters do not build, so the release flow cannot run: ${dropped.join(', ')}\n${build.out.slice(-3000)}`);
    writeFileSync(
      join(copy, '.changeset', 'release-test.md'),
      `---\n${filters.map((f) => `"${f}": ${f === 'header' ? 'minor' : 'patch'}`).join('\n')}\n---\n\nRelease test: every filter.\n`,
    );
    git('add', '-A');
    git('commit', '-qm', 'filters that build, and a changeset');
    for (const f of listFilters(copy)) versions.set(f.name, f.version);
  }, 240_000);

  afterAll(async () => {
    await registry?.stop();
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  describe('release flow against a real registry', () => {
    test('the header filter builds (the flow below runs on every filter that does)', () => {
      expect(filters).toContain('header');
    });

    test('release:version bumps every filter and pins its wasmplugin.yaml (and deploy/) to that version and the reproducible manifest digest', async () => {
      const out = npmRun('release:version', { WASM_REGISTRY: REG });
      expect(readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md'))).toEqual(['README.md']);
      for (const f of listFilters(copy)) {
        const before = versions.get(f.name)!;
        expect(f.version).not.toBe(before);
        versions.set(f.name, f.version);
        const layoutDigest = resolveInLayout(f.layoutDir, f.version).digest;
        const pins = readPins(join(f.dir, 'wasmplugin.yaml'));
        expect(pins.length).toBeGreaterThan(0);
        for (const p of pins) expect(p).toMatchObject({ url: `oci://${REG}/${f.name}:${f.version}`, sha256: layoutDigest.slice(7) });
        expect(out).toContain(`pinned ${f.name}@${f.version}`);
        expect(readFileSync(join(f.dir, 'CHANGELOG.md'), 'utf8')).toContain(`## ${f.version}`);
        pinned.set(f.name, layoutDigest);
      }
      // deploy/ manifests that reference a released filter are pinned too.
      const deployPins = readdirSync(join(copy, 'deploy', 'istio'))
        .filter((n) => n.endsWith('.yaml'))
        .flatMap((n) => readPins(join(copy, 'deploy', 'istio', n)));
      for (const p of deployPins) {
        const name = /\/([a-z0-9-]+):[^/]+$/.exec(p.url ?? '')?.[1];
        if (name && pinned.has(name)) expect(p).toMatchObject({ url: `oci://${REG}/${name}:${versions.get(name)}`, sha256: pinned.get(name)!.slice(7) });
      }
      git('add', '-A');
      git('commit', '-qm', 'chore(release): version packages');
    }, 180_000);

    test('packaging twice, after the release commit, yields the pinned digest (created does not depend on the release commit)', async () => {
      const header = listFilters(copy).find((f) => f.name === 'header')!;
      const a = await packageFilter(copy, header.dir, { outDir: join(copy, 'tmp-a') });
      const b = await packageFilter(copy, header.dir, { outDir: join(copy, 'tmp-b') });
      expect(a.digest).toBe(b.digest);
      expect(a.digest).toBe(pinned.get('header'));
      expect(a.warnings).toEqual([]);
      const lastSourceCommit = Number(git('log', '-1', '--format=%ct', '--', 'packages/header/assembly'));
      expect(a.created).toBe(new Date(lastSourceCommit * 1000).toISOString().replace('.000Z', 'Z'));
      expect(Number(git('log', '-1', '--format=%ct'))).toBeGreaterThanOrEqual(lastSourceCommit);
      rmSync(join(copy, 'tmp-a'), { recursive: true });
      rmSync(join(copy, 'tmp-b'), { recursive: true });
    }, 60_000);

    test('release:publish publishes every filter; Istio accepts each, the wasm is byte-identical, skopeo reads it, tags are created', async () => {
      const out = npmRun('release:publish', { WASM_REGISTRY: REG });
      for (const name of filters) {
        const version = versions.get(name)!;
        const ref = `${REG}/${name}:${version}`;
        expect(out).toContain(`published: ${ref} ${pinned.get(name)}`);
        expect(await resolveDigest(ref)).toBe(pinned.get(name));
        const check = await istioCheckRemote(ref, { sha256: pinned.get(name)!.slice(7) });
        expect(check.manifestSha256).toBe(pinned.get(name)!.slice(7));
        expect(Buffer.compare(check.wasm, readFileSync(join(copy, 'packages', name, 'dist', `${name}.wasm`)))).toBe(0);
        const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
        expect(raw.status).toBe(0);
        expect(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`).toBe(pinned.get(name));
        expect(git('tag', '-l', `${name}@${version}`)).toBe(`${name}@${version}`);
      }
      const dir = join(copy, 'skopeo-oci');
      const cp = await skopeo(['copy', '--src-tls-verify=false', `docker://${REG}/header:${versions.get('header')}`, `oci:${dir}:x`]);
      expect(cp.status).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests[0].digest).toBe(pinned.get('header'));
    }, 180_000);

    test('a second release:publish pushes nothing and creates no tag', () => {
      const tagsBefore = git('tag', '-l');
      const mtimes = tagLinkMtimes();
      const out = npmRun('release:publish', { WASM_REGISTRY: REG });
      expect(out).toContain('nothing to push');
      expect(out).not.toMatch(/^published:/m);
      expect(out).not.toContain('New tag:');
      expect(tagLinkMtimes()).toEqual(mtimes);
      expect(git('tag', '-l')).toBe(tagsBefore);
    }, 120_000);

    test('the publish target skips a tag that already carries the digest', () => {
      const r = run('npx', ['tsx', join(copy, 'tools', 'release', 'src', 'cli.ts'), 'publish', '.'], {
        cwd: join(copy, 'packages', 'header'),
        env: cleanEnv({ WASM_REGISTRY: REG }),
      });
      expect(r.status).toBe(0);
      expect(r.out).toContain(`already published: ${REG}/header:${versions.get('header')} ${pinned.get('header')}`);
    }, 60_000);

    test('a source change without a changeset is reported against the release tag; a changeset added since clears it', async () => {
      appendFileSync(join(copy, 'packages', 'header', 'assembly', 'index.ts'), '\n// an unreleased change\n');
      const dirty = await packageFilter(copy, join(copy, 'packages', 'header'), { outDir: join(copy, 'tmp-dirty') });
      expect(dirty.warnings).toEqual([expect.stringMatching(/^header: uncommitted changes in the wasm sources \(1 file\(s\)\)/)]);
      git('commit', '-qam', 'header: change without changeset');
      const cli = join(copy, 'tools', 'release', 'src', 'cli.ts');
      const bad = run('npx', ['tsx', cli, 'changeset-check', '.'], { cwd: join(copy, 'packages', 'header') });
      expect(bad.status).toBe(1);
      expect(bad.out).toContain(`header@${versions.get('header')}: error: the artifact sources changed since header@${versions.get('header')} but no changeset added since then releases header`);
      expect(bad.out).toContain('packages/header/assembly/index.ts');
      for (const other of filters.filter((f) => f !== 'header').slice(0, 1)) {
        const ok = run('npx', ['tsx', cli, 'changeset-check', '.'], { cwd: join(copy, 'packages', other) });
        expect(ok.out).toContain(`${other}@${versions.get(other)}: sources unchanged since ${other}@${versions.get(other)}`);
        expect(ok.status).toBe(0);
      }
      writeFileSync(join(copy, '.changeset', 'header-fix.md'), '---\n"header": patch\n---\n\nA fix.\n');
      git('add', '.changeset/header-fix.md');
      const good = run('npx', ['tsx', cli, 'changeset-check', '.'], { cwd: join(copy, 'packages', 'header') });
      expect(good.out).toContain('released (patch) by .changeset/header-fix.md');
      expect(good.status).toBe(0);
    }, 60_000);
  });
}
