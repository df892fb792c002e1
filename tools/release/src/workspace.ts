/**
 * The workspace as the release flow sees it: every `packages/<dir>/asconfig.json` with a
 * package.json is a filter, released as the OCI artifact `<registry>/<name>:<version>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

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

/** Files the release commit edits; they never count as sources (see artifactSourcePaths). */
export const RELEASE_EDITED_FILES = ['CHANGELOG.md', 'package.json', 'wasmplugin.yaml'];

/** Finds the workspace root (the directory whose package.json has `workspaces`) above `from`. */
export function findWorkspaceRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        if (JSON.parse(readFileSync(p, 'utf8')).workspaces) return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = resolve(dir, '..');
    if (up === dir) throw new Error(`no npm workspace root (package.json with "workspaces") above ${from}`);
    dir = up;
  }
}

export function toPosix(p: string): string {
  return p.split(sep).join('/');
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

/** Reads one filter directory (absolute or workspace-relative). */
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
  const pkgs = join(workspaceRoot, 'packages');
  if (!existsSync(pkgs)) return [];
  const out: FilterInfo[] = [];
  for (const d of readdirSync(pkgs, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const dir = join(pkgs, d.name);
    if (!existsSync(join(dir, 'asconfig.json')) || !existsSync(join(dir, 'package.json'))) continue;
    out.push(readFilter(workspaceRoot, dir));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Workspace packages by name -> workspace-relative dir (for the statically linked SDK). */
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
        /* not ours to judge here */
      }
    }
  }
  return map;
}

/**
 * The files a filter's wasm is built from, as git pathspecs relative to the workspace root:
 * its `assembly/` and `asconfig.json`, the workspace `asconfig.base.json`, and the AssemblyScript
 * sources (`assembly/`, `index.ts`) of every workspace package it statically links. Not
 * `assembly/lab.ts`, the course's student-sized version, which is never released. Files the
 * release commit edits (CHANGELOG.md, package.json, wasmplugin.yaml) are never in this set, so
 * neither `created` nor the changeset check depends on the release commit.
 */
export function artifactSourcePaths(workspaceRoot: string, filter: FilterInfo): string[] {
  // assembly/lab.ts is the course's student-sized version (Nx target build-lab): never released.
  const paths = [`${filter.root}/assembly`, `:(exclude)${filter.root}/assembly/lab.ts`, `${filter.root}/asconfig.json`, 'asconfig.base.json'];
  const dirs = workspacePackageDirs(workspaceRoot);
  for (const dep of filter.dependencies) {
    const d = dirs.get(dep);
    if (!d || d === filter.root || !d.startsWith('packages/')) continue;
    paths.push(`${d}/assembly`, `${d}/index.ts`);
  }
  return paths;
}

/** Runs git in `cwd`; returns trimmed stdout, or undefined when git fails. */
export function git(cwd: string, args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/**
 * The commit that released the filter's current version, found without tags (they may not travel
 * with a clone): the commit whose package.json changed the version to the current one (the last
 * version change), provided its CHANGELOG.md has a `## <version>` entry there (creating a package
 * with a version nobody released is not a release). Undefined when there is none (or no git).
 */
export function releaseCommit(workspaceRoot: string, filter: FilterInfo): string | undefined {
  const pkg = `${filter.root}/package.json`;
  const versionAt = (commit: string): string | undefined => {
    const text = git(workspaceRoot, ['show', `${commit}:${pkg}`]);
    try {
      return text ? (JSON.parse(text) as { version?: string }).version : undefined;
    } catch {
      return undefined;
    }
  };
  // Newest first: the commits that touched package.json while it names the current version; the
  // oldest of that run is where the version became current.
  const commits = (git(workspaceRoot, ['log', '--format=%H', '--', pkg]) ?? '').split('\n').filter(Boolean);
  let since: string | undefined;
  for (const c of commits) {
    if (versionAt(c) !== filter.version) break;
    since = c;
  }
  if (!since) return undefined;
  const changelog = git(workspaceRoot, ['show', `${since}:${filter.root}/CHANGELOG.md`]) ?? '';
  const heading = new RegExp(`^## ${filter.version.replace(/[.+]/g, '\\$&')}\\s*$`, 'm');
  return heading.test(changelog) ? since : undefined;
}
