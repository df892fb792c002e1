/**
 * The release flow dates a filter's artifact by the last commit touching its sources; the Nx
 * plugin hashes the build's inputs and asks git the same question for the package target. Both
 * must name the same files, or the cached artifact's `created` (and so its digest) drifts.
 */
import { describe, expect, test } from '@jest/globals';
import type { CreateNodesContext, TargetConfiguration } from '@nx/devkit';
import { artifactSourcePaths, listFilters } from '@meshwasm/release';
import { workspaceRoot } from '@meshwasm/workspace/test-support';
import { createNodes } from '../src';

async function inferredTargets(root: string): Promise<Record<string, TargetConfiguration>> {
  const context = { workspaceRoot, nxJsonConfiguration: {} } as unknown as CreateNodesContext;
  const results = await createNodes[1]([`${root}/asconfig.json`], {}, context);
  const project = results[0][1].projects?.[root];
  if (!project?.targets) throw new Error(`no project inferred for ${root}`);
  return project.targets;
}

describe('a filter artifact\'s sources', () => {
  const filters = listFilters(workspaceRoot);

  test('this workspace has filters linking the SDK', () => {
    expect(filters.length).toBeGreaterThanOrEqual(5);
    expect(filters.every((f) => f.dependencies.includes('as-proxy-wasm'))).toBe(true);
  });

  test.each(filters.map((f) => [f.name, f.root]))('are the same for the release flow and the Nx targets of %s', async (_name, root) => {
    const f = filters.find((x) => x.root === root)!;
    const paths = artifactSourcePaths(workspaceRoot, f);
    expect(paths).toContain('packages/as-proxy-wasm/assembly');
    const targets = await inferredTargets(root);
    // the git question of the package target: the very same pathspecs
    const runtime = (targets.package.inputs ?? []).find((i): i is { runtime: string } => typeof i === 'object' && 'runtime' in i);
    // (a pathspec with magic, ':(exclude)…', is quoted for the shell)
    const quoted = paths.map((p) => (p.startsWith(':') ? `'${p}'` : p));
    expect(runtime?.runtime).toBe(`git log -1 --format=%ct -- ${quoted.join(' ')} 2>/dev/null || echo untracked`);
    // the build's inputs: the same files as globs
    const globs = (targets.build.inputs ?? []).filter((i): i is string => typeof i === 'string');
    // the build's inputs: the same files as globs ('!' = the pathspec's ':(exclude)')
    const asPathspecs = globs.map((g) => g.replace('{workspaceRoot}/', '').replace('/**/*', '').replace(/^!/, ':(exclude)'));
    expect(asPathspecs).toEqual(paths);
  });
});
