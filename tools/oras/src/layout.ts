/** OCI image layout directories (image-spec image-layout.md): oci-layout, index.json, blobs/. */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotation, MediaType, assertDigest, digestOf, encodeJson, type Descriptor, type ImageIndex } from './media';

export const LAYOUT_VERSION = '1.0.0';

export function blobPath(dir: string, digest: string): string {
  assertDigest(digest);
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

function atomicWrite(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function isLayout(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}

/** Creates the skeleton if needed; refuses a non-empty directory that is not a layout. */
export function initLayout(dir: string): void {
  if (existsSync(dir) && !isLayout(dir) && readdirSync(dir).length > 0) {
    throw new Error(`${dir} exists and is not an OCI image layout (no oci-layout/index.json); refusing to write into it`);
  }
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(join(dir, 'oci-layout'))) {
    atomicWrite(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
  }
  if (!existsSync(join(dir, 'index.json'))) {
    atomicWrite(join(dir, 'index.json'), encodeJson(emptyIndex()));
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
}

/** Removes a previous layout (only if it is one) so the output depends on the inputs alone. */
export function resetLayout(dir: string): void {
  if (existsSync(dir)) {
    if (!isLayout(dir) && readdirSync(dir).length > 0) {
      throw new Error(`${dir} exists and is not an OCI image layout; refusing to replace it`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  initLayout(dir);
}

export function writeBlob(dir: string, data: Uint8Array, expected?: string): string {
  const digest = digestOf(data);
  if (expected && expected !== digest) throw new Error(`blob digest mismatch: got ${digest}, expected ${expected}`);
  const p = blobPath(dir, digest);
  if (!existsSync(p)) atomicWrite(p, data);
  return digest;
}

export function hasBlob(dir: string, digest: string): boolean {
  return existsSync(blobPath(dir, digest));
}

/** Reads a blob and verifies its digest. */
export function readBlob(dir: string, digest: string): Buffer {
  const p = blobPath(dir, digest);
  if (!existsSync(p)) throw new Error(`blob ${digest} not found in OCI layout ${dir}`);
  const data = readFileSync(p);
  const got = digestOf(data);
  if (got !== digest) throw new Error(`OCI layout ${dir} is corrupt: blob ${digest} hashes to ${got}`);
  return data;
}

export function readIndex(dir: string): ImageIndex {
  const p = join(dir, 'index.json');
  if (!existsSync(p)) throw new Error(`${dir} is not an OCI image layout: index.json missing`);
  let idx: ImageIndex;
  try {
    idx = JSON.parse(readFileSync(p, 'utf8')) as ImageIndex;
  } catch (err) {
    throw new Error(`${p}: invalid JSON: ${(err as Error).message}`);
  }
  if (!idx || idx.schemaVersion !== 2 || !Array.isArray(idx.manifests)) throw new Error(`${p}: not an OCI image index`);
  return idx;
}

/** Points `tag` at `desc` in index.json (replacing any previous holder of that tag). */
export function tagInLayout(dir: string, desc: Descriptor, tag: string): void {
  const idx = readIndex(dir);
  const manifests = idx.manifests.filter((m) => m.annotations?.[Annotation.refName] !== tag);
  const entry: Descriptor = {
    mediaType: desc.mediaType,
    digest: desc.digest,
    size: desc.size,
    annotations: { [Annotation.refName]: tag },
  };
  if (desc.artifactType) entry.artifactType = desc.artifactType;
  manifests.push(entry);
  manifests.sort((a, b) =>
    (a.annotations?.[Annotation.refName] ?? '').localeCompare(b.annotations?.[Annotation.refName] ?? ''),
  );
  atomicWrite(join(dir, 'index.json'), encodeJson({ ...emptyIndex(), manifests }));
}

/** Finds the manifest descriptor for `tag` (or the only one when tag is omitted). */
export function resolveInLayout(dir: string, tagOrDigest?: string): Descriptor {
  const idx = readIndex(dir);
  if (!tagOrDigest) {
    if (idx.manifests.length !== 1) {
      const tags = idx.manifests.map((m) => m.annotations?.[Annotation.refName] ?? m.digest);
      throw new Error(`OCI layout ${dir} holds ${idx.manifests.length} manifests (${tags.join(', ') || 'none'}); name a tag`);
    }
    return idx.manifests[0];
  }
  const found = tagOrDigest.startsWith('sha256:')
    ? idx.manifests.find((m) => m.digest === tagOrDigest)
    : idx.manifests.find((m) => m.annotations?.[Annotation.refName] === tagOrDigest);
  if (!found) throw new Error(`${tagOrDigest}: not found in OCI layout ${dir}`);
  return found;
}

/** Parses `DIR[:TAG]` (ORAS --oci-layout target syntax). */
export function parseLayoutTarget(s: string): { dir: string; tag?: string } {
  const at = s.lastIndexOf('@sha256:');
  if (at > 0) return { dir: s.slice(0, at), tag: s.slice(at + 1) };
  const m = /^(.*?):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(s);
  if (m && m[1] && !m[1].endsWith(':')) return { dir: m[1], tag: m[2] };
  return { dir: s };
}
