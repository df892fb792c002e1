/**
 * Local Nx inference plugin for linting: every Nx project whose folder has a `tsconfig.json`
 * (a TypeScript project: the tools, bench/, scripts/, each package's tests) gets a `lint` target
 * running ESLint with the workspace's `eslint.config.mjs`. A new TypeScript project needs no
 * per-project lint configuration.
 *
 * Written in erasable TypeScript only, so Nx can load it with its TS register.
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from '@nx/devkit';

export interface LintPluginOptions {
  targetName?: string;
}

/** Packages whose version changes what ESLint reports. */
export const LINT_TOOLS = ['eslint', '@eslint/js', 'typescript-eslint', 'globals', 'typescript'];

export function lintTarget(root: string): TargetConfiguration {
  return {
    // `.`: the project's own folder. --max-warnings=0: a warning fails like an error, so nothing
    // piles up unseen behind a green run.
    command: 'eslint . --max-warnings=0',
    options: { cwd: root },
    cache: true,
    // ^production: the typed rules read the types of the workspace projects this one imports.
    inputs: ['default', '^production', '{workspaceRoot}/eslint.config.mjs', { externalDependencies: LINT_TOOLS }],
    outputs: [],
    metadata: { description: 'ESLint with typescript-eslint (eslint.config.mjs at the workspace root)', technologies: ['eslint'] },
  };
}

/** A folder is an Nx project when it has a project.json or package.json (the workspace globs in nx.json narrow which). */
function isProjectRoot(workspaceRoot: string, root: string): boolean {
  return existsSync(join(workspaceRoot, root, 'project.json')) || existsSync(join(workspaceRoot, root, 'package.json'));
}

export const createNodes: CreateNodes<LintPluginOptions> = [
  '**/tsconfig.json',
  (configFiles, options, context) =>
    createNodesFromFiles(
      (configFile, opts, ctx) => {
        const root = dirname(configFile);
        // The workspace root is no project; a tsconfig.json in a folder that is not a project
        // (a fixture, a sub-folder) must not create one.
        if (root === '.' || !isProjectRoot(ctx.workspaceRoot, root)) return {};
        return { projects: { [root]: { targets: { [opts?.targetName ?? 'lint']: lintTarget(root) } } } };
      },
      configFiles,
      options ?? {},
      context,
    ),
];

export const createNodesV2 = createNodes;
