/** High-level operations used by the CLI and the Nx targets (package/publish). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, normalize, resolve as resolvePath, sep } from 'node:path';
import { DockerConfig, StaticCredentials, type Credential, type CredentialStore } from './auth';
import { checkIstioAcceptance, type IstioCheckResult } from './istio';
import { hasBlob, initLayout, readBlob, readIndex, resolveInLayout, tagInLayout, writeBlob } from './layout';
import { Annotation, MediaType, type Descriptor } from './media';
import { formatReference, parseReference, referenceTarget, type Reference } from './reference';
import { RegistryClient, type BlobPushResult, type RegistryClientOptions, type Repository } from './registry';

export interface ConnectOptions {
  plainHttp?: boolean;
  /** Explicit credentials (CLI -u/-p); otherwise $DOCKER_CONFIG/config.json. */
  credential?: Credential;
  /** Directory holding config.json (default $DOCKER_CONFIG or ~/.docker). */
  dockerConfigDir?: string;
  client?: RegistryClient;
  clientOptions?: RegistryClientOptions;
}

export function makeClient(opts: ConnectOptions = {}): RegistryClient {
  if (opts.client) return opts.client;
  const store: CredentialStore = new StaticCredentials(opts.credential, new DockerConfig(opts.dockerConfigDir));
  return new RegistryClient({ ...(opts.clientOptions ?? {}), plainHttp: opts.plainHttp ?? opts.clientOptions?.plainHttp, credentials: store });
}

/** The repository a reference names, on a client made from the options. */
function repositoryOf(ref: Reference, opts: ConnectOptions): Repository {
  return makeClient(opts).repository({ registry: ref.registry, repository: ref.repository });
}

/** The manifest digest a reference points at (HEAD, falls back to GET). */
export async function resolveDigest(ref: string, opts: ConnectOptions = {}): Promise<string> {
  const r = parseReference(ref);
  const d = await repositoryOf(r, opts).manifests.head(referenceTarget(r));
  if (!d) throw new Error(`${formatReference(r)}: not found (MANIFEST_UNKNOWN)`);
  return d.digest;
}

export interface PushContentOptions extends ConnectOptions {
  /** Source repositories in the same registry to mount blobs from. */
  mountFrom?: string[];
  chunkSize?: number;
  onBlob?: (desc: Descriptor, result: BlobPushResult) => void;
}

export interface PushResult {
  digest: string;
  /** False when every tag already carried this digest (nothing was uploaded). */
  pushed: boolean;
  tags: string[];
  blobs: Record<string, BlobPushResult>;
}

/** Pushes one manifest (image or index, recursively) and its blobs from a content getter. */
async function pushGraph(
  repo: Repository,
  desc: Descriptor,
  getBytes: (d: Descriptor) => Buffer,
  opts: PushContentOptions,
  blobs: Record<string, BlobPushResult>,
): Promise<Buffer> {
  const bytes = getBytes(desc);
  const json = JSON.parse(bytes.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; mediaType?: string };
  if (Array.isArray(json.manifests)) {
    for (const child of json.manifests) {
      if (await repo.manifests.head(child.digest)) continue;
      const cb = await pushGraph(repo, child, getBytes, opts, blobs);
      await repo.manifests.put(child.digest, cb, child.mediaType);
    }
    return bytes;
  }
  const refs = [...(json.config ? [json.config] : []), ...(json.layers ?? [])];
  const seen = new Set<string>();
  for (const d of refs) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const result = await repo.blobs.push(getBytes(d), { digest: d.digest, mountFrom: opts.mountFrom, chunkSize: opts.chunkSize });
    blobs[d.digest] = result;
    opts.onBlob?.(d, result);
  }
  return bytes;
}

/** Pushes content addressed by digest: blobs first, then the manifest under every tag. */
export async function pushContent(
  ref: string | Reference,
  manifest: Descriptor,
  getBytes: (d: Descriptor) => Buffer,
  opts: PushContentOptions & { skipIfTagged?: boolean } = {},
): Promise<PushResult> {
  const r = typeof ref === 'string' ? parseReference(ref) : ref;
  const repo = repositoryOf(r, opts);
  const tags = r.tags.length ? r.tags : [];
  if (r.digest && r.digest !== manifest.digest) throw new Error(`reference digest ${r.digest} does not match the content ${manifest.digest}`);
  const blobs: Record<string, BlobPushResult> = {};
  if (opts.skipIfTagged !== false && tags.length > 0) {
    let all = true;
    for (const t of tags) {
      const d = await repo.manifests.head(t);
      if (!d || d.digest !== manifest.digest) {
        all = false;
        break;
      }
    }
    if (all) return { digest: manifest.digest, pushed: false, tags, blobs };
  }
  const bytes = await pushGraph(repo, manifest, getBytes, opts, blobs);
  const mediaType = manifest.mediaType || (JSON.parse(bytes.toString('utf8')).mediaType as string) || MediaType.ociManifest;
  if (tags.length === 0) await repo.manifests.put(manifest.digest, bytes, mediaType);
  for (const t of tags) await repo.manifests.put(t, bytes, mediaType);
  return { digest: manifest.digest, pushed: true, tags, blobs };
}

export interface PushLayoutOptions extends PushContentOptions {
  layoutDir: string;
  /** `registry/repo:tag[,tag…]` */
  ref: string;
  /** Tag (or digest) inside the layout; default: the layout's only manifest, else the ref's first tag. */
  layoutTag?: string;
}

/** Pushes a manifest from an OCI layout; skipped when every tag already carries the same digest. */
export async function pushLayout(opts: PushLayoutOptions): Promise<PushResult> {
  const r = parseReference(opts.ref);
  let desc: Descriptor;
  const idx = readIndex(opts.layoutDir);
  if (opts.layoutTag) desc = resolveInLayout(opts.layoutDir, opts.layoutTag);
  else if (idx.manifests.length === 1) desc = idx.manifests[0];
  else desc = resolveInLayout(opts.layoutDir, r.tags[0]);
  return pushContent(r, desc, (d) => readBlob(opts.layoutDir, d.digest), opts);
}

export interface FetchedArtifact {
  ref: Reference;
  manifest: Buffer;
  descriptor: Descriptor;
  json: Record<string, unknown>;
}

export async function fetchManifest(ref: string, opts: ConnectOptions = {}): Promise<FetchedArtifact> {
  const r = parseReference(ref);
  const m = await repositoryOf(r, opts).manifests.get(referenceTarget(r));
  return { ref: r, manifest: m.bytes, descriptor: m.descriptor, json: m.json };
}

/** Points more tags at an existing manifest (re-PUT of the same bytes). */
export async function tagRemote(ref: string, newTags: string[], opts: ConnectOptions = {}): Promise<string> {
  const r = parseReference(ref);
  return repositoryOf(r, opts).manifests.tag(referenceTarget(r), newTags);
}

function safeJoin(outDir: string, title: string): string {
  if (isAbsolute(title) || normalize(title).split(sep).includes('..')) {
    throw new Error(`refusing to write ${JSON.stringify(title)}: path traversal (title must be a relative path inside the output directory)`);
  }
  const p = resolvePath(outDir, title);
  if (!p.startsWith(resolvePath(outDir) + sep)) throw new Error(`refusing to write ${JSON.stringify(title)} outside ${outDir}`);
  return p;
}

export interface PullResult {
  digest: string;
  files: { path: string; digest: string; size: number }[];
}

/** Downloads every blob (verifying digests) and writes layers with a title annotation into outDir. */
export async function pull(ref: string, outDir: string, opts: ConnectOptions = {}): Promise<PullResult> {
  const r = parseReference(ref);
  const repo = repositoryOf(r, opts);
  const m = await repo.manifests.get(referenceTarget(r));
  const json = m.json as { config?: Descriptor; layers?: Descriptor[] };
  if (!Array.isArray(json.layers)) throw new Error(`${formatReference(r)}: not an image manifest (media type ${m.descriptor.mediaType})`);
  const files: PullResult['files'] = [];
  const blobs: { d: Descriptor; data: Buffer }[] = [];
  for (const d of [...(json.config ? [json.config] : []), ...json.layers]) {
    blobs.push({ d, data: await repo.blobs.fetch(d) });
  }
  mkdirSync(outDir, { recursive: true });
  for (const { d, data } of blobs.slice(json.config ? 1 : 0)) {
    const title = d.annotations?.[Annotation.title];
    if (!title) continue;
    const p = safeJoin(outDir, title);
    mkdirSync(resolvePath(p, '..'), { recursive: true });
    writeFileSync(p, data);
    files.push({ path: p, digest: d.digest, size: d.size });
  }
  return { digest: m.descriptor.digest, files };
}

/** Copies a remote artifact (manifest + blobs, verified) into an OCI layout under `tag`. */
export async function pullToLayout(ref: string, layoutDir: string, tag?: string, opts: ConnectOptions = {}): Promise<string> {
  const r = parseReference(ref);
  const repo = repositoryOf(r, opts);
  const m = await repo.manifests.get(referenceTarget(r));
  initLayout(layoutDir);
  const copy = async (bytes: Buffer, json: { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] }) => {
    for (const child of json.manifests ?? []) {
      const cm = await repo.manifests.get(child.digest);
      await copy(cm.bytes, cm.json as typeof json);
    }
    for (const d of [...(json.config ? [json.config] : []), ...(json.layers ?? [])]) {
      if (!hasBlob(layoutDir, d.digest)) writeBlob(layoutDir, await repo.blobs.fetch(d), d.digest);
    }
    writeBlob(layoutDir, bytes);
  };
  await copy(m.bytes, m.json as { config?: Descriptor });
  tagInLayout(layoutDir, m.descriptor, tag ?? r.tags[0] ?? m.descriptor.digest.replace(':', '-'));
  return m.descriptor.digest;
}

/** Runs Istio's acceptance rules against a remote artifact. */
export async function istioCheckRemote(ref: string, opts: ConnectOptions & { sha256?: string } = {}): Promise<IstioCheckResult> {
  const r = parseReference(ref);
  const repo = repositoryOf(r, opts);
  const m = await repo.manifests.get(referenceTarget(r));
  return checkIstioAcceptance(
    {
      manifest: m.bytes,
      blob: (d) => repo.blobs.fetch(d),
      childManifest: async (d) => (await repo.manifests.get(d.digest)).bytes,
    },
    { url: `oci://${formatReference(r)}`, sha256: opts.sha256 },
  );
}

/** Runs Istio's acceptance rules against an artifact in an OCI layout. */
export async function istioCheckLayout(layoutDir: string, tag?: string, sha256?: string): Promise<IstioCheckResult> {
  const desc = resolveInLayout(layoutDir, tag);
  return checkIstioAcceptance(
    {
      manifest: readBlob(layoutDir, desc.digest),
      blob: (d) => readBlob(layoutDir, d.digest),
      childManifest: (d) => readBlob(layoutDir, d.digest),
    },
    { url: `oci://${layoutDir}:${tag ?? ''}`, sha256 },
  );
}

