/**
 * Local Nx inference plugin for proxy-wasm filters.
 *
 * Every `packages/<name>/asconfig.json` is a filter. For each one this plugin infers:
 *   build      asc release build -> packages/<name>/dist/<name>.wasm (cached)
 *   test       jest through tools/proxy-wasm-host (depends on build)
 *   typecheck  tsc over the package's TypeScript tests
 *   validate   envoy.yaml / wasmplugin.yaml / schema / lab checks (tools/validate)
 * so a new filter needs no per-package target boilerplate.
 *
 * Written in erasable TypeScript only, so Nx can load it with its TS register.
 */
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from '@nx/devkit';

export interface FilterPluginOptions {
  buildTargetName?: string;
  testTargetName?: string;
  typecheckTargetName?: string;
  validateTargetName?: string;
}

function filterTargets(root: string, workspaceRoot: string, opts: FilterPluginOptions): Record<string, TargetConfiguration> {
  const name = basename(root);
  const build = opts.buildTargetName ?? 'build';
  const targets: Record<string, TargetConfiguration> = {
    [build]: {
      command: `asc assembly/index.ts --config asconfig.json --target release --outFile dist/${name}.wasm`,
      options: { cwd: root },
      cache: true,
      dependsOn: ['^build'],
      inputs: ['production', '^production', { externalDependencies: ['assemblyscript'] }],
      outputs: ['{projectRoot}/dist'],
      metadata: { description: `Release build of ${name} (AssemblyScript -> dist/${name}.wasm)`, technologies: ['assemblyscript'] },
    },
    'build-debug': {
      command: `asc assembly/index.ts --config asconfig.json --target debug --outFile build/${name}.debug.wasm --textFile build/${name}.debug.wat`,
      options: { cwd: root },
      cache: true,
      inputs: ['production', '^production', { externalDependencies: ['assemblyscript'] }],
      outputs: ['{projectRoot}/build'],
      metadata: { description: 'Debug build with names and a .wat listing' },
    },
    [opts.testTargetName ?? 'test']: {
      command: `jest --config ../../jest.preset.cjs --rootDir .`,
      options: { cwd: root },
      cache: true,
      dependsOn: [build],
      inputs: ['default', '^production', { externalDependencies: ['jest', '@swc/jest'] }],
      outputs: [],
      metadata: { description: 'Behaviour tests of the built .wasm through tools/proxy-wasm-host' },
    },
    [opts.validateTargetName ?? 'validate']: {
      command: `tsx ../../tools/validate/src/cli.ts .`,
      options: { cwd: root },
      cache: true,
      inputs: [
        'default',
        '{workspaceRoot}/tools/validate/src/**/*',
        { externalDependencies: ['@grpc/grpc-js-xds', '@kubernetes-models/istio', 'protobufjs', 'ajv', 'yaml'] },
      ],
      outputs: [],
      metadata: { description: 'Checks envoy.yaml against Envoy protos, wasmplugin.yaml against the Istio schema, and the pluginConfig against the filter schema' },
    },
  };
  if (existsSync(join(workspaceRoot, root, 'tsconfig.json'))) {
    targets[opts.typecheckTargetName ?? 'typecheck'] = {
      command: 'tsc -p tsconfig.json',
      options: { cwd: root },
      cache: true,
      inputs: ['default', '^production', { externalDependencies: ['typescript'] }],
      outputs: [],
      metadata: { description: 'Type-checks the filter tests' },
    };
  }
  return targets;
}

export const createNodes: CreateNodes<FilterPluginOptions> = [
  'packages/*/asconfig.json',
  (configFiles, options, context) =>
    createNodesFromFiles(
      (configFile, opts, ctx) => {
        const root = dirname(configFile);
        const pkgPath = join(ctx.workspaceRoot, root, 'package.json');
        if (!existsSync(pkgPath)) return {};
        const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { name: string };
        return {
          projects: {
            [root]: {
              name: pkg.name,
              tags: ['type:filter'],
              targets: filterTargets(root, ctx.workspaceRoot, opts ?? {}),
            },
          },
        };
      },
      configFiles,
      options ?? {},
      context,
    ),
];

export const createNodesV2 = createNodes;
