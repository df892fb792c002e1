/**
 * The workspace release flow:
 *
 * - `releaseVersion` (`npm run release:version`): `changeset version` (skipped cleanly when no
 *   changeset is pending) and the lockfile brought to the new versions, then for every filter
 *   whose version changed: `nx run-many -t package`
 *   and pin its wasmplugin.yaml and the deploy/ manifests that reference it to
 *   `oci://<registry>/<name>:<version>` + the manifest digest.
 * - `releasePublish` (`npm run release:publish`): every filter whose `<name>:<version>` is not in
 *   `$WASM_REGISTRY` yet goes through `nx run-many -t publish`, then `changeset tag`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { makeClient, parseReference, resolveInLayout, type ConnectOptions } from '@meshwasm/oras';
import { artifactRef, normaliseRegistry } from './artifact';
import { readPendingChangesets } from './changesets';
import { RELEASES_DOC, writeReleasesTable } from './docs';
import { ociRegistryPrefix, pinYamlFile, readPins, yamlFilesUnder, type PinChange } from './manifests';
import { listFilters, toPosix, type FilterInfo } from './workspace';

export const DEFAULT_REGISTRY = 'ghcr.io/meshwasm';

export interface RunOptions {
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

function toolEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...env };
}

/** Runs a workspace binary (node_modules/.bin) with inherited output; throws on failure. */
export function runBin(workspaceRoot: string, bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const path = join(workspaceRoot, 'node_modules', '.bin', bin);
  if (!existsSync(path)) throw new Error(`${bin} is not installed (${path}); run npm ci`);
  const r = spawnSync(path, args, { cwd: workspaceRoot, stdio: 'inherit', env: toolEnv(env) });
  if (r.error) throw new Error(`${bin} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (exit ${r.status ?? r.signal})${bin === 'nx' ? ': above Nx\'s list of failed tasks, each one\'s output ends with its error' : ''}`);
}

function nxRunMany(workspaceRoot: string, target: string, projects: string[], env: NodeJS.ProcessEnv): void {
  runBin(workspaceRoot, 'nx', ['run-many', '-t', target, '-p', projects.join(','), '--outputStyle=stream'], env);
}

export interface PinnedFilter {
  name: string;
  version: string;
  url: string;
  digest: string;
  changes: PinChange[];
}

/** The registry prefix for manifest urls: $WASM_REGISTRY, else the one the manifest already names. */
function registryFor(f: FilterInfo, env: NodeJS.ProcessEnv): string {
  if (env.WASM_REGISTRY) return normaliseRegistry(env.WASM_REGISTRY);
  const own = join(f.dir, 'wasmplugin.yaml');
  if (existsSync(own)) {
    for (const p of readPins(own)) {
      const prefix = p.url ? ociRegistryPrefix(p.url) : undefined;
      if (prefix) return prefix;
    }
  }
  return DEFAULT_REGISTRY;
}

/**
 * Packages the given filters through nx (build + package, cached) and pins their manifests to the
 * packaged digests. Used by `releaseVersion`, and on its own by `release pin`.
 */
export function pinFilters(opts: RunOptions & { filters: FilterInfo[] }): PinnedFilter[] {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => console.log(l));
  if (opts.filters.length === 0) return [];
  nxRunMany(opts.workspaceRoot, 'package', opts.filters.map((f) => f.name), env);
  const deployFiles = yamlFilesUnder(join(opts.workspaceRoot, 'deploy'));
  const out: PinnedFilter[] = [];
  for (const f of opts.filters) {
    const desc = resolveInLayout(f.layoutDir, f.version);
    const sha256 = desc.digest.slice('sha256:'.length);
    const url = `oci://${artifactRef(registryFor(f, env), f.name, f.version)}`;
    const changes: PinChange[] = [];
    const own = join(f.dir, 'wasmplugin.yaml');
    if (existsSync(own)) changes.push(...pinYamlFile(own, { name: f.name, url, sha256 }, { mode: 'own' }));
    else log(`warning: ${f.name}: no wasmplugin.yaml to pin`);
    for (const file of deployFiles) changes.push(...pinYamlFile(file, { name: f.name, url, sha256 }, { mode: 'reference' }));
    for (const c of changes) c.file = toPosix(relative(opts.workspaceRoot, c.file));
    const files = [...new Set(changes.map((c) => c.file))];
    log(`pinned ${f.name}@${f.version}: ${url} sha256 ${sha256}${files.length ? ` (${files.join(', ')})` : ' (already pinned)'}`);
    out.push({ name: f.name, version: f.version, url, digest: desc.digest, changes });
  }
  if (writeReleasesTable(opts.workspaceRoot)) log(`${RELEASES_DOC}: the table of releases is updated`);
  return out;
}

/**
 * `changeset version` edits the workspace packages' versions and ranges; package-lock.json records
 * both. Without this, the release commit's lockfile is stale and the next `npm install` rewrites it.
 */
export function refreshLockfile(workspaceRoot: string, env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  if (!existsSync(join(workspaceRoot, 'package-lock.json'))) return;
  const args = ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'];
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: workspaceRoot, stdio: 'inherit', env: toolEnv(env) });
  if (r.error || r.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): package-lock.json still has the old versions; run it yourself before committing`);
  }
  log('release:version: package-lock.json updated to the new versions');
}

export interface VersionResult {
  ranChangesets: boolean;
  bumped: { name: string; from: string; to: string }[];
  pinned: PinnedFilter[];
}

export async function releaseVersion(opts: RunOptions): Promise<VersionResult> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => console.log(l));
  const pending = await readPendingChangesets(opts.workspaceRoot);
  if (pending.length === 0) {
    log('release:version: no pending changesets (.changeset/*.md): nothing to version.');
    return { ranChangesets: false, bumped: [], pinned: [] };
  }
  const before = new Map(listFilters(opts.workspaceRoot).map((f) => [f.name, f.version]));
  runBin(opts.workspaceRoot, 'changeset', ['version'], env);
  refreshLockfile(opts.workspaceRoot, env, log);
  const after = listFilters(opts.workspaceRoot);
  const changed = after.filter((f) => before.get(f.name) !== f.version);
  const bumped = changed.map((f) => ({ name: f.name, from: before.get(f.name) ?? '(new)', to: f.version }));
  if (changed.length === 0) {
    log('release:version: the changesets bump no filter; no manifest to pin.');
    return { ranChangesets: true, bumped, pinned: [] };
  }
  log(`release:version: ${bumped.map((b) => `${b.name} ${b.from} -> ${b.to}`).join(', ')}`);
  const pinned = pinFilters({ ...opts, env, log, filters: changed });
  return { ranChangesets: true, bumped, pinned };
}

/** npm publishing of the public packages (the SDK) happens only with credentials (CI's NPM_TOKEN). */
export function npmPublishEnabled(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.NPM_TOKEN || env.NODE_AUTH_TOKEN);
}

export interface PublishAllResult {
  registry: string;
  published: { name: string; version: string; ref: string }[];
  present: { name: string; version: string; ref: string; digest: string }[];
}

export async function releasePublish(opts: RunOptions & { connect?: ConnectOptions; tag?: boolean }): Promise<PublishAllResult> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => console.log(l));
  const registry = normaliseRegistry(env.WASM_REGISTRY);
  const filters = listFilters(opts.workspaceRoot);
  const client = makeClient(opts.connect ?? {});
  const missing: FilterInfo[] = [];
  const present: PublishAllResult['present'] = [];
  for (const f of filters) {
    const ref = artifactRef(registry, f.name, f.version);
    const r = parseReference(ref);
    const d = await client.headManifest({ registry: r.registry, repository: r.repository }, f.version);
    if (!d) {
      missing.push(f);
      continue;
    }
    present.push({ name: f.name, version: f.version, ref, digest: d.digest });
    log(`already in the registry: ${ref} ${d.digest}`);
    const own = join(f.dir, 'wasmplugin.yaml');
    if (existsSync(own)) {
      for (const p of readPins(own)) {
        if (p.url?.endsWith(`/${f.name}:${f.version}`) && p.sha256 && `sha256:${p.sha256}` !== d.digest) {
          log(`warning: ${f.name}: wasmplugin.yaml pins sha256 ${p.sha256} but ${ref} is ${d.digest}`);
        }
      }
    }
  }
  if (missing.length > 0) {
    log(`release:publish: publishing ${missing.map((f) => `${f.name}@${f.version}`).join(', ')} to ${registry}`);
    nxRunMany(opts.workspaceRoot, 'publish', missing.map((f) => f.name), { ...env, WASM_REGISTRY: registry });
  } else {
    log(`release:publish: every filter version is already in ${registry}; nothing to push.`);
  }
  if (opts.tag !== false) {
    if (npmPublishEnabled(env)) {
      // The SDK `as-proxy-wasm` is the one public package: `changeset publish` publishes every
      // public package whose version is not on npm yet, then tags every package (filters too).
      log('release:publish: publishing the public npm packages (as-proxy-wasm) with changeset publish');
      runBin(opts.workspaceRoot, 'changeset', ['publish'], env);
    } else {
      log('release:publish: NPM_TOKEN is not set: the SDK as-proxy-wasm is not published to npm; tagging only.');
      runBin(opts.workspaceRoot, 'changeset', ['tag'], env);
    }
  }
  return {
    registry,
    published: missing.map((f) => ({ name: f.name, version: f.version, ref: artifactRef(registry, f.name, f.version) })),
    present,
  };
}
