/**
 * The GitHub workflows cannot run here; this checks the facts they depend on.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readPins } from '../src/manifests';
import { DEFAULT_REGISTRY, npmPublishEnabled } from '../src/release';
import { listFilters } from '../src/workspace';

const root = join(__dirname, '..', '..', '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  steps: Step[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function load(name: string): Workflow {
  return parse(readFileSync(join(root, '.github', 'workflows', name), 'utf8')) as Workflow;
}

function allSteps(w: Workflow): Step[] {
  return Object.values(w.jobs).flatMap((j) => j.steps);
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('ci.yml', () => {
  const w = load('ci.yml');
  const steps = allSteps(w);

  test('runs on pushes to main and on pull requests, off Nx Cloud', () => {
    expect(Object.keys(w.on).sort()).toEqual(['pull_request', 'push']);
    expect((w.on.push as { branches: string[] }).branches).toEqual(['main']);
    expect(String(w.env?.NX_NO_CLOUD)).toBe('true');
    expect(w.permissions).toMatchObject({ actions: 'read', contents: 'read' });
  });

  test('checks out the full history', () => {
    const co = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(co?.with?.['fetch-depth']).toBe(0);
  });

  test('installs the real test components with apt', () => {
    const apt = steps.find((s) => s.run?.includes('apt-get install'))?.run ?? '';
    for (const pkg of ['docker-registry', 'skopeo', 'prometheus']) expect(apt).toContain(pkg);
  });

  test('derives base/head with nx-set-shas on push and the merge-base on pull requests', () => {
    const shas = steps.find((s) => s.uses?.startsWith('nrwl/nx-set-shas@'));
    expect(shas?.if).toBe("github.event_name == 'push'");
    const pr = steps.find((s) => s.run?.includes('git merge-base'));
    expect(pr?.if).toBe("github.event_name == 'pull_request'");
    expect(pr?.run).toMatch(/NX_BASE=\$\(git merge-base "origin\/\$BASE_REF" HEAD\)/);
    expect(pr?.run).toContain('NX_HEAD=');
    expect(pr?.env?.BASE_REF).toBe('${{ github.base_ref }}');
  });

  test('runs nx affected for lint, typecheck, test, build, validate and fuzz, then the changeset check', () => {
    const affected = steps.find((s) => s.run?.includes('nx affected -t lint'))?.run ?? '';
    expect(affected).toMatch(/nx affected -t lint typecheck test build validate fuzz --base="\$NX_BASE" --head="\$NX_HEAD"/);
    const check = steps.find((s) => s.run?.includes('changeset-check'));
    expect(check?.run).toContain('--base="$NX_BASE"');
    // The shas are set before they are used.
    const idx = (p: (s: Step) => boolean) => steps.findIndex(p);
    expect(idx((s) => !!s.uses?.startsWith('nrwl/nx-set-shas@'))).toBeLessThan(idx((s) => !!s.run?.includes('nx affected -t lint')));
    expect(idx((s) => s.run === 'npm ci')).toBeGreaterThanOrEqual(0);
    expect(idx((s) => s.run === 'npm ci')).toBeLessThan(idx((s) => !!s.run?.includes('nx affected -t lint')));
    expect(steps.filter((s) => /\bnpm (install|i)\b/.test(s.run ?? ''))).toEqual([]);
  });
});

describe('release.yml', () => {
  const w = load('release.yml');
  const job = Object.values(w.jobs)[0];
  const steps = job.steps;

  test('runs on main with write permissions for contents, PRs and packages', () => {
    expect((w.on.push as { branches: string[] }).branches).toEqual(['main']);
    expect(job.permissions).toMatchObject({ contents: 'write', 'pull-requests': 'write', packages: 'write' });
    expect(steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.['fetch-depth']).toBe(0);
  });

  test('installs the lockfile exactly (npm ci)', () => {
    expect(steps.filter((s) => s.run === 'npm ci')).toHaveLength(1);
    expect(steps.filter((s) => /\bnpm (install|i)\b/.test(s.run ?? ''))).toEqual([]);
  });

  test('publishes to ghcr.io/meshwasm, the registry path the manifests name, unless the WASM_REGISTRY variable overrides it', () => {
    expect(job.env?.WASM_REGISTRY).toBe("${{ vars.WASM_REGISTRY || 'ghcr.io/meshwasm' }}");
    expect(DEFAULT_REGISTRY).toBe('ghcr.io/meshwasm');
    for (const f of listFilters(root)) {
      for (const pin of readPins(join(f.dir, 'wasmplugin.yaml'))) expect(pin.url).toMatch(new RegExp(`^oci://ghcr\\.io/meshwasm/${f.name}:`));
    }
    const login = steps.find((s) => s.run?.includes(' login ghcr.io'));
    expect(login?.run).toContain('--password-stdin');
    expect(login?.env?.GITHUB_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
  });

  test('changesets/action v1 runs our version and publish scripts, which exist', () => {
    const action = steps.find((s) => s.uses?.startsWith('changesets/action@'));
    expect(action?.uses).toBe('changesets/action@v1');
    expect(action?.with?.version).toBe('npm run release:version');
    expect(action?.with?.publish).toBe('npm run release:publish');
    expect(action?.env?.GITHUB_TOKEN).toBe('${{ secrets.GITHUB_TOKEN }}');
    expect(rootPkg.scripts['release:version']).toBe('tsx tools/release/src/cli.ts version');
    expect(rootPkg.scripts['release:publish']).toBe('tsx tools/release/src/cli.ts publish-all');
  });

  test('publishes the SDK to npm through changesets with the NPM_TOKEN secret', () => {
    const action = steps.find((s) => s.uses?.startsWith('changesets/action@'));
    expect(action?.env?.NPM_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
    expect(action?.env?.NODE_AUTH_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['registry-url']).toBe('https://registry.npmjs.org');
    const sdk = JSON.parse(readFileSync(join(root, 'packages', 'as-proxy-wasm', 'package.json'), 'utf8'));
    expect(sdk.name).toBe('as-proxy-wasm');
    expect(sdk.private).not.toBe(true);
  });
});

describe('npm publishing of the SDK', () => {
  test('happens only with credentials; without them release:publish only tags', () => {
    expect(npmPublishEnabled({})).toBe(false);
    expect(npmPublishEnabled({ NPM_TOKEN: 'x' })).toBe(true);
    expect(npmPublishEnabled({ NODE_AUTH_TOKEN: 'x' })).toBe(true);
  });
});
