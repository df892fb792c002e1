/**
 * What the benchmark runs: the no-op floor and header filter on our SDK, the same two filters
 * on @gcoredev/proxy-wasm-sdk-as (the peer), and every filter in packages/ with its scenarios.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { labPaths, listFilters } from '@meshwasm/workspace';
import { filterScenarios, headersScenario, type Scenario } from './scenarios';

export interface BenchTarget {
  id: string;
  label: string;
  sdk: 'as-proxy-wasm' | '@gcoredev/proxy-wasm-sdk-as';
  wasmPath: string;
  config: unknown;
  /** also measured in the minimal V8 host (header-only filters) */
  minimalHost: boolean;
  scenarios: Scenario[];
  clusters?: string[];
  /** body sizes to also measure in a minimal V8 host (redact) */
  minimalBodySizes?: number[];
}

/** Builds what the targets measure: every filter (Nx release build, cached), the no-op floor and the peers. */
export function buildAll(root: string, log: (s: string) => void): void {
  // Filters: the normal Nx release build (cached).
  const build = spawnSync(join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_TUI: 'false' },
  });
  if (build.status !== 0) log('warning: some filter builds failed; benchmarking the filters that built\n' + build.stdout.slice(-2000));

  // The no-op floor and the @gcoredev peers: the SDK's own fixture builder (one asc process).
  const sdk = join(root, 'packages', 'as-proxy-wasm');
  const fx = spawnSync(process.execPath, [join(sdk, 'scripts', 'build-fixtures.mjs'), '--peer', '--only', 'noop,header,peer-noop,peer-header'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (fx.status !== 0) {
    log(fx.stdout + fx.stderr);
    throw new Error('building the SDK fixtures and the peers failed');
  }
}

/** The targets, from what is already built (no building). */
export function listTargets(root: string, log: (s: string) => void): BenchTarget[] {
  const sdk = join(root, 'packages', 'as-proxy-wasm');
  const built = (n: string) => join(sdk, 'build', `${n}.wasm`);
  const headerConfig = JSON.parse(readFileSync(join(root, 'packages', 'header', 'examples', 'lab.json'), 'utf8'));
  const targets: BenchTarget[] = [
    { id: 'noop', label: 'no-op floor (as-proxy-wasm)', sdk: 'as-proxy-wasm', wasmPath: built('noop'), config: '', minimalHost: true, scenarios: [headersScenario()] },
    // The course's Lab 1 code (set x-training both ways) on our SDK: the same code as the peer and as
    // the Rust reference figures, so the SDK-vs-SDK speed goals compare like with like.
    { id: 'header-lab1', label: 'Lab 1 header code (as-proxy-wasm), the same code as the peer', sdk: 'as-proxy-wasm', wasmPath: built('header'), config: '', minimalHost: true, scenarios: [headersScenario()] },
    { id: 'peer-noop', label: 'no-op on @gcoredev/proxy-wasm-sdk-as (peer)', sdk: '@gcoredev/proxy-wasm-sdk-as', wasmPath: built('peer-noop'), config: '', minimalHost: true, scenarios: [headersScenario()] },
    { id: 'peer-header', label: 'Lab 1 header filter on @gcoredev/proxy-wasm-sdk-as (peer)', sdk: '@gcoredev/proxy-wasm-sdk-as', wasmPath: built('peer-header'), config: '', minimalHost: true, scenarios: [headersScenario()] },
  ];
  for (const filter of listFilters(root)) {
    const { name, wasmPath } = filter;
    if (!existsSync(wasmPath)) {
      log(`warning: ${name} has no ${relative(filter.dir, wasmPath)}; skipped`);
      continue;
    }
    const lab = labPaths(filter);
    const config = existsSync(lab.config) ? JSON.parse(readFileSync(lab.config, 'utf8')) : {};
    const clusters = existsSync(lab.exchanges) ? (JSON.parse(readFileSync(lab.exchanges, 'utf8')).host?.clusters as string[] | undefined) : undefined;
    targets.push({
      id: name,
      label: name === 'header' ? 'header filter, production (config-driven set/add/remove), lab config' : `${name} filter (as-proxy-wasm)`,
      sdk: 'as-proxy-wasm',
      wasmPath,
      config: name === 'header' ? headerConfig : config,
      minimalHost: name === 'header',
      scenarios: filterScenarios(name, config),
      clusters,
      minimalBodySizes: name === 'redact' ? [64 * 1024, 1024 * 1024] : undefined,
    });
  }
  return targets;
}
