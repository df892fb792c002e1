/**
 * One filter's artifact: `package` (deterministic OCI layout in dist/oci, checked with Istio's
 * rules) and `publish` (push to `$WASM_REGISTRY/<name>:<version>`, skipped when that tag already
 * carries the same digest, refused when it carries another one).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  istioCheckLayout,
  istioCheckRemote,
  makeClient,
  packageWasm,
  parseReference,
  pushLayout,
  resolveInLayout,
  sourceDateEpoch,
  type ConnectOptions,
  type WasmFormat,
} from '@meshwasm/oras';
import { ociRepositoryName, readPins } from './manifests';
import { artifactSourcePaths, git, readFilter, type FilterInfo } from './workspace';

export interface PackageResult {
  name: string;
  version: string;
  /** Manifest digest `sha256:…`: WasmPlugin.sha256 is its hex part. */
  digest: string;
  wasmDigest: string;
  created: string;
  layoutDir: string;
  format: WasmFormat;
  /** E.g. uncommitted wasm sources: `created` then names no commit that reproduces the artifact. */
  warnings: string[];
}

/**
 * `created` of a filter's artifact: the committer time of the last commit that touched its
 * artifact sources (never the release commit, which only edits CHANGELOG.md, package.json and
 * manifests), else $SOURCE_DATE_EPOCH, else the epoch.
 */
export function filterCreated(workspaceRoot: string, f: FilterInfo): number | undefined {
  return sourceDateEpoch({ cwd: workspaceRoot, paths: artifactSourcePaths(workspaceRoot, f) });
}

export interface PackageOptions {
  format?: WasmFormat;
  /** Output layout (default `<filter>/dist/oci`). */
  outDir?: string;
}

/** Packs `dist/<name>.wasm` into a fresh OCI layout tagged `<version>` and runs Istio's checks on it. */
export async function packageFilter(workspaceRoot: string, filterDir: string, opts: PackageOptions = {}): Promise<PackageResult> {
  const f = readFilter(workspaceRoot, filterDir);
  if (!existsSync(f.wasmPath)) {
    throw new Error(`${f.name}: ${f.wasmPath} does not exist; build it first (nx run ${f.name}:build)`);
  }
  const created = filterCreated(workspaceRoot, f);
  const warnings: string[] = [];
  const dirty = git(workspaceRoot, ['status', '--porcelain', '--', ...artifactSourcePaths(workspaceRoot, f)]);
  if (dirty) {
    warnings.push(`${f.name}: uncommitted changes in the wasm sources (${dirty.split('\n').length} file(s)); this artifact is not reproducible from a commit`);
  }
  const res = packageWasm({
    wasmPath: f.wasmPath,
    name: f.name,
    version: f.version,
    created,
    format: opts.format ?? 'oci',
    rootIds: [f.name],
    outDir: opts.outDir ?? f.layoutDir,
    tags: [f.version],
  });
  // Refuse to leave behind an artifact istio-agent would reject.
  await istioCheckLayout(res.layoutDir, f.version, res.digest.slice('sha256:'.length));
  return {
    name: f.name,
    version: f.version,
    digest: res.digest,
    wasmDigest: res.wasmDigest,
    created: res.created,
    layoutDir: res.layoutDir,
    format: res.format,
    warnings,
  };
}

/** `oci://127.0.0.1:5000/meshwasm/` -> `127.0.0.1:5000/meshwasm`, validated. */
export function normaliseRegistry(value: string | undefined, what = 'WASM_REGISTRY'): string {
  if (value === undefined || value.trim() === '') {
    throw new Error(`${what} is not set: export ${what}=host[:port]/path (e.g. ${what}=127.0.0.1:5000/meshwasm), or run meshwasm push <filter> --registry host[:port]/path`);
  }
  let r = value.trim();
  if (r.startsWith('oci://')) r = r.slice('oci://'.length);
  r = r.replace(/\/+$/, '');
  if (/^[a-z]+:\/\//i.test(r)) throw new Error(`${what}=${value}: give host[:port]/namespace without a scheme (plain http is used for 127.0.0.1/localhost only)`);
  try {
    parseReference(`${r}/probe:0`);
  } catch (err) {
    throw new Error(`${what}=${value}: not a valid registry/namespace: ${(err as Error).message}`);
  }
  return r;
}

export function artifactRef(registry: string, name: string, version: string): string {
  return `${registry}/${name}:${version}`;
}

export interface PublishOptions extends ConnectOptions {
  registry: string;
  /** Overwrite a tag that carries a different digest (released versions are immutable otherwise). */
  force?: boolean;
  log?: (line: string) => void;
}

export interface PublishResult {
  name: string;
  version: string;
  ref: string;
  digest: string;
  /** False when the tag already carried this digest. */
  pushed: boolean;
  warnings: string[];
}

/**
 * Checks the filter's own wasmplugin.yaml against the packaged digest: when it names this version,
 * a pinned sha256 must be this digest (the manifests in git must match the released artifact).
 */
export function checkOwnPin(f: FilterInfo, digest: string): string[] {
  const file = join(f.dir, 'wasmplugin.yaml');
  if (!existsSync(file)) return [`${f.name}: no wasmplugin.yaml`];
  const hex = digest.slice('sha256:'.length);
  const warnings: string[] = [];
  for (const pin of readPins(file)) {
    const url = pin.url ?? '';
    const names = ociRepositoryName(url) === f.name && url.endsWith(`:${f.version}`);
    if (!names) {
      warnings.push(`${f.name}: wasmplugin.yaml names ${url || '(no url)'}, not version ${f.version}; run \`npm run release:version\` to pin releases`);
      continue;
    }
    if (pin.sha256 === undefined) {
      warnings.push(`${f.name}: wasmplugin.yaml does not pin sha256 for ${f.version}`);
    } else if (pin.sha256 !== hex) {
      throw new Error(
        `${f.name}@${f.version}: wasmplugin.yaml pins sha256 ${pin.sha256}, but the artifact packaged from this checkout is ${hex}. ` +
          `The manifests in git must match the released artifact: the wasm or its sources changed after \`release:version\`. ` +
          `Add a changeset and run \`npm run release:version\` again.`,
      );
    }
  }
  return warnings;
}

/** Pushes the packaged layout of one filter. Run `packageFilter` (nx target `package`) first. */
export async function publishFilter(workspaceRoot: string, filterDir: string, opts: PublishOptions): Promise<PublishResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const f = readFilter(workspaceRoot, filterDir);
  const registry = normaliseRegistry(opts.registry);
  const ref = artifactRef(registry, f.name, f.version);
  if (!existsSync(join(f.layoutDir, 'index.json'))) {
    throw new Error(`${f.name}: no OCI layout in ${f.layoutDir}; run nx run ${f.name}:package first`);
  }
  let local;
  try {
    local = resolveInLayout(f.layoutDir, f.version);
  } catch {
    throw new Error(`${f.name}: the layout in ${f.layoutDir} has no tag ${f.version} (stale?); run nx run ${f.name}:package`);
  }
  const warnings = checkOwnPin(f, local.digest);
  for (const w of warnings) log(`warning: ${w}`);
  const r = parseReference(ref);
  const client = makeClient(opts);
  const remote = await client.headManifest({ registry: r.registry, repository: r.repository }, f.version);
  if (remote && remote.digest === local.digest) {
    log(`already published: ${ref} ${local.digest}`);
    return { name: f.name, version: f.version, ref, digest: local.digest, pushed: false, warnings };
  }
  if (remote && !opts.force) {
    throw new Error(
      `${ref} already exists with digest ${remote.digest}, but this checkout packages ${local.digest}. ` +
        `Released versions are immutable: bump the version with a changeset (or pass --force to overwrite a non-release registry).`,
    );
  }
  const res = await pushLayout({ ...opts, layoutDir: f.layoutDir, ref, layoutTag: f.version });
  // Read it back the way istio-agent will, pinned to the digest.
  await istioCheckRemote(ref, { ...opts, sha256: local.digest.slice('sha256:'.length) });
  log(`${res.pushed ? 'published' : 'already published'}: ${ref} ${res.digest}`);
  return { name: f.name, version: f.version, ref, digest: res.digest, pushed: res.pushed, warnings };
}
