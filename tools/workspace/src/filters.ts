/**
 * The filters of the workspace: every `packages/<dir>` with an `asconfig.json` and a
 * `package.json` is one, released as the OCI artifact `<registry>/<name>:<version>`. The Nx
 * plugin, the release flow, validation, `npm start` and the benchmark all ask this module.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { toPosix } from './root';

export interface FilterInfo {
  /** npm package name = OCI repository name = WasmPlugin pluginName, e.g. `header`. */
  name: string;
  version: string;
  /** Absolute directory. */
  dir: string;
  /** Workspace-relative directory with forward slashes, e.g. `packages/header`. */
  root: string;
  /** Absolute path of the release build, `dist/<dir>.wasm`. */
  wasmPath: string;
  /** Absolute path of the OCI layout written by the `package` target. */
  layoutDir: string;
  /** Workspace package names this filter depends on (statically linked, e.g. `as-proxy-wasm`). */
  dependencies: string[];
}

/** The folder holding the filters, relative to the workspace root. */
export const FILTERS_DIR = 'packages';

/** Whether a directory is a filter package: it has an `asconfig.json` (an AssemblyScript build). */
export function isFilterDir(dir: string): boolean {
  return existsSync(join(dir, 'asconfig.json'));
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  dependencies?: Record<string, string>;
}

function readPackageJson(path: string): PackageJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as PackageJson;
  } catch (err) {
    throw new Error(`${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/** Reads one filter directory (absolute or workspace-relative); a bad package.json is a clear error. */
export function readFilter(workspaceRoot: string, dirArg: string): FilterInfo {
  const dir = resolve(workspaceRoot, dirArg);
  const pkg = readPackageJson(join(dir, 'package.json'));
  if (typeof pkg.name !== 'string' || !pkg.name) throw new Error(`${join(dir, 'package.json')}: "name" is missing`);
  if (typeof pkg.version !== 'string' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(pkg.version)) {
    throw new Error(`${join(dir, 'package.json')}: "version" ${JSON.stringify(pkg.version)} is not a semver version`);
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(pkg.name)) {
    throw new Error(`${pkg.name}: a filter's package name must be a valid OCI repository component (lowercase, no scope)`);
  }
  const base = dir.split(sep).pop()!;
  return {
    name: pkg.name,
    version: pkg.version,
    dir,
    root: toPosix(relative(workspaceRoot, dir)),
    wasmPath: join(dir, 'dist', `${base}.wasm`),
    layoutDir: join(dir, 'dist', 'oci'),
    dependencies: Object.keys(pkg.dependencies ?? {}),
  };
}

/** Every filter of the workspace, sorted by name. */
export function listFilters(workspaceRoot: string): FilterInfo[] {
  const pkgs = join(workspaceRoot, FILTERS_DIR);
  if (!existsSync(pkgs)) return [];
  const out: FilterInfo[] = [];
  for (const d of readdirSync(pkgs, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(pkgs, d.name);
    if (!isFilterDir(dir) || !existsSync(join(dir, 'package.json'))) continue;
    out.push(readFilter(workspaceRoot, dir));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Workspace packages (packages/* and tools/*) by name -> workspace-relative dir. */
export function workspacePackageDirs(workspaceRoot: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const group of ['packages', 'tools']) {
    const base = join(workspaceRoot, group);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base, { withFileTypes: true })) {
      const p = join(base, d.name, 'package.json');
      if (!d.isDirectory() || !existsSync(p)) continue;
      try {
        const name = JSON.parse(readFileSync(p, 'utf8')).name;
        if (typeof name === 'string') map.set(name, `${group}/${d.name}`);
      } catch {
        /* a broken package.json is reported by npm, not here */
      }
    }
  }
  return map;
}

/**
 * The AssemblyScript packages (packages/*) a filter statically links: its dependencies that live
 * in this workspace, as sorted workspace-relative directories.
 */
export function linkedPackageDirs(workspaceRoot: string, filter: Pick<FilterInfo, 'root' | 'dependencies'>): string[] {
  if (filter.dependencies.length === 0) return [];
  const dirs = workspacePackageDirs(workspaceRoot);
  const out = new Set<string>();
  for (const dep of filter.dependencies) {
    const d = dirs.get(dep);
    if (d && d !== filter.root && d.startsWith(`${FILTERS_DIR}/`)) out.add(d);
  }
  return [...out].sort();
}

/** A filter's course lab: its pluginConfig and the exchanges it sends (either file may be missing). */
export function labPaths(filter: Pick<FilterInfo, 'dir'>): { config: string; exchanges: string } {
  return { config: join(filter.dir, 'examples', 'lab.json'), exchanges: join(filter.dir, 'examples', 'lab.exchanges.json') };
}

/** The filters that ship a course lab (`examples/lab.exchanges.json`), sorted by name. */
export function listLabFilters(workspaceRoot: string): FilterInfo[] {
  return listFilters(workspaceRoot).filter((f) => existsSync(labPaths(f).exchanges));
}
