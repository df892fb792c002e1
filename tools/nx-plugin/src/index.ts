/**
 * Local Nx inference plugin for proxy-wasm filters.
 *
 * Every `packages/<name>/asconfig.json` is a filter. For each one this plugin infers:
 *   build      asc release build -> packages/<name>/dist/<name>.wasm (cached)
 *   build-lab  the student-sized version, assembly/lab.ts -> dist/<name>.lab.wasm (cached; only
 *              when the filter has one). lab.ts is never part of the release build's inputs.
 *   test       jest through tools/proxy-wasm-host (depends on build)
 *   typecheck  tsc over the package's TypeScript tests
 *   validate   envoy.yaml / wasmplugin.yaml / schema / lab checks, dist/*.wasm without SIMD (tools/validate)
 *   fuzz       seeded random exchanges and configs with invariants (tools/fuzz; `--long`, `--seed N`)
 *   package    deterministic OCI layout in dist/oci, Istio-checked (tools/release, cached)
 *   publish    push to $WASM_REGISTRY/<name>:<version>, skipped when already there (not cached)
 *   changeset-check  sources changed since the last `<name>@<version>` tag need a changeset
 * so a new filter needs no per-package target boilerplate. They run with the `run` executor
 * (src/run.ts): a failing target's output ends with the tool's own error line.
 *
 * Written in erasable TypeScript only, so Nx can load it with its TS register.
 */
import { basename, dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from '@nx/devkit';
import { LAB_SOURCE, artifactSourceGlobs, artifactSourcePaths, linkedPackageDirs, readFilter, type FilterInfo } from '@meshwasm/workspace';

/** The student-sized version of a filter (the course edition), and the target that builds it. */
export { LAB_SOURCE };
export const LAB_TARGET = 'build-lab';

export interface FilterPluginOptions {
  buildTargetName?: string;
  testTargetName?: string;
  typecheckTargetName?: string;
  validateTargetName?: string;
  fuzzTargetName?: string;
}

function filterTargets(filter: FilterInfo, workspaceRoot: string, opts: FilterPluginOptions): Record<string, TargetConfiguration> {
  const root = filter.root;
  const name = basename(root);
  const build = opts.buildTargetName ?? 'build';
  // What the wasm is compiled from (@meshwasm/workspace's artifactSources, the very list the
  // release flow dates the artifact by). Deliberately NOT package.json, CHANGELOG.md or
  // wasmplugin.yaml: the release commit edits those, and the release build must be a cache hit
  // producing the very bytes whose digest that commit pins.
  const wasmSources = artifactSourceGlobs(workspaceRoot, filter);
  const gitPaths = artifactSourcePaths(workspaceRoot, filter).map((p) => (p.startsWith(':') ? `'${p}'` : p));
  const sdkSources = linkedPackageDirs(workspaceRoot, filter).flatMap((d) => [`{workspaceRoot}/${d}/assembly/**/*`, `{workspaceRoot}/${d}/index.ts`]);
  const hasLab = existsSync(join(workspaceRoot, root, 'assembly', LAB_SOURCE));
  const targets: Record<string, TargetConfiguration> = {
    [build]: {
      command: `asc assembly/index.ts --config asconfig.json --target release --outFile dist/${name}.wasm`,
      options: { cwd: root },
      cache: true,
      dependsOn: ['^build'],
      inputs: [...wasmSources, { externalDependencies: ['assemblyscript'] }],
      // the file, not dist/: restoring it from the cache must not remove dist/<name>.lab.wasm
      outputs: [`{projectRoot}/dist/${name}.wasm`],
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
      dependsOn: hasLab ? [build, LAB_TARGET] : [build],
      inputs: ['default', '^production', { externalDependencies: ['jest', '@swc/jest'] }],
      outputs: [],
      metadata: { description: 'Behaviour tests of the built .wasm through tools/proxy-wasm-host' },
    },
    [opts.validateTargetName ?? 'validate']: {
      command: `tsx ../../tools/validate/src/cli.ts .`,
      options: { cwd: root },
      cache: true,
      // A filter whose wasm sources changed with no pending changeset is a process error; the
      // built dist/*.wasm must validate without SIMD (wabt's wasm-validate --disable-simd).
      // the student-sized build too: validate checks every dist/*.wasm, so its result never depends on task order
      dependsOn: hasLab ? ['changeset-check', build, LAB_TARGET] : ['changeset-check', build],
      inputs: [
        'default',
        '{workspaceRoot}/tools/validate/src/**/*',
        '{workspaceRoot}/tools/workspace/src/**/*',
        { dependentTasksOutputFiles: '**/*.wasm' },
        // a missing wasm-validate is a warning on a laptop and an error under CI=true
        { env: 'CI' },
        { runtime: 'wasm-validate --version 2>/dev/null || echo absent' },
        { externalDependencies: ['@grpc/grpc-js-xds', '@kubernetes-models/istio', 'protobufjs', 'ajv', 'yaml'] },
      ],
      outputs: [],
      metadata: {
        description:
          'Checks envoy.yaml against Envoy protos, wasmplugin.yaml against the Istio schema, the pluginConfig against the filter schema, and every dist/*.wasm with wasm-validate --disable-simd',
      },
    },
  };
  if (hasLab) {
    // The default runtime and options (asconfig.base.json), as a student's project has them: not
    // the filter's own asconfig.json, whose size tricks (e.g. header's owned memory mode) are no
    // part of the lab.
    targets[LAB_TARGET] = {
      command: `asc assembly/${LAB_SOURCE} --config ../../asconfig.base.json --target release --outFile dist/${name}.lab.wasm`,
      options: { cwd: root },
      cache: true,
      dependsOn: ['^build'],
      inputs: [`{projectRoot}/assembly/${LAB_SOURCE}`, '{workspaceRoot}/asconfig.base.json', ...sdkSources, { externalDependencies: ['assemblyscript'] }],
      outputs: [`{projectRoot}/dist/${name}.lab.wasm`],
      metadata: { description: `The course's student-sized version (assembly/${LAB_SOURCE} -> dist/${name}.lab.wasm); never released`, technologies: ['assemblyscript'] },
    };
  }
  // Seeded, so the short pass is deterministic; `--long` and `--seed` arrive as extra arguments.
  targets[opts.fuzzTargetName ?? 'fuzz'] = {
    command: 'tsx ../../tools/fuzz/src/cli.ts .',
    options: { cwd: root },
    cache: false,
    dependsOn: [build],
    metadata: { description: 'Seeded random exchanges and configs through tools/proxy-wasm-host: no trap, flat memory, bad configs refused with one error line, and the filter\'s own invariant (tools/fuzz)' },
  };
  targets.package = {
    command: 'tsx ../../tools/release/src/cli.ts package .',
    options: { cwd: root },
    cache: true,
    dependsOn: [build],
    inputs: [
      { dependentTasksOutputFiles: '**/*.wasm' },
      '{projectRoot}/package.json',
      ...wasmSources,
      '{workspaceRoot}/tools/release/src/**/*',
      '{workspaceRoot}/tools/oras/src/**/*',
      '{workspaceRoot}/tools/workspace/src/**/*',
      // `created` = committer time of the last commit touching the wasm sources.
      { runtime: `git log -1 --format=%ct -- ${gitPaths.join(' ')} 2>/dev/null || echo untracked` },
    ],
    outputs: ['{projectRoot}/dist/oci'],
    metadata: { description: `Deterministic OCI layout (2-layer "oci" format) of dist/${name}.wasm in dist/oci, checked with Istio's rules`, technologies: ['oci'] },
  };
  targets.publish = {
    command: 'tsx ../../tools/release/src/cli.ts publish .',
    options: { cwd: root },
    cache: false,
    dependsOn: ['package'],
    metadata: { description: 'Pushes dist/oci to $WASM_REGISTRY/<name>:<version>; skipped when that tag already has the same digest' },
  };
  targets['changeset-check'] = {
    command: 'tsx ../../tools/release/src/cli.ts changeset-check .',
    options: { cwd: root },
    cache: false,
    metadata: { description: 'Fails when the wasm sources changed since the last <name>@<version> tag without a pending changeset' },
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
  return withOwnLastLine(targets);
}

/**
 * Every command target runs with our `run` executor instead of `nx:run-commands`, which appends
 * `Warning: command "…" exited with non-zero status code` to a failed command's output: the
 * tool's own last line (why it failed, what to do) stays the last line of the task's output.
 */
function withOwnLastLine(targets: Record<string, TargetConfiguration>): Record<string, TargetConfiguration> {
  for (const t of Object.values(targets)) {
    if (!t.command) continue;
    t.executor = '@meshwasm/nx-plugin:run';
    t.options = { command: t.command, ...t.options };
    delete t.command;
  }
  return targets;
}

export const createNodes: CreateNodes<FilterPluginOptions> = [
  'packages/*/asconfig.json',
  (configFiles, options, context) =>
    createNodesFromFiles(
      (configFile, opts, ctx) => {
        const root = dirname(configFile);
        if (!existsSync(join(ctx.workspaceRoot, root, 'package.json'))) return {};
        // A filter's package.json with no valid name or version is an error naming the file.
        const filter = readFilter(ctx.workspaceRoot, root);
        return {
          projects: {
            [root]: {
              name: filter.name,
              tags: ['type:filter'],
              targets: filterTargets(filter, ctx.workspaceRoot, opts ?? {}),
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
