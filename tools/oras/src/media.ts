import { createHash } from 'node:crypto';

/** Media types used by the OCI image/distribution specs, Docker and the Solo/Istio wasm spec. */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayoutHeader: 'application/vnd.oci.layout.header.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  wasmConfig: 'application/vnd.module.wasm.config.v1+json',
  wasmLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
} as const;

/** Accept header for manifest GET/HEAD (distribution 2.8 hides OCI manifests without it). */
export const MANIFEST_ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
];

export const Annotation = {
  created: 'org.opencontainers.image.created',
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  description: 'org.opencontainers.image.description',
  licenses: 'org.opencontainers.image.licenses',
  vendor: 'org.opencontainers.image.vendor',
  url: 'org.opencontainers.image.url',
  refName: 'org.opencontainers.image.ref.name',
  variant: 'module.wasm.image/variant',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { architecture: string; os: string; variant?: string };
  urls?: string[];
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: Uint8Array | string): string {
  return `sha256:${sha256(data)}`;
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function assertDigest(s: string, what = 'digest'): void {
  if (!isDigest(s)) throw new Error(`invalid ${what} ${JSON.stringify(s)} (expected sha256:<64 lowercase hex>)`);
}

/** Throws when `data` does not hash to `expected` (and, when given, has not `size` bytes). */
export function verifyContent(data: Uint8Array, expected: string, size?: number, what = 'blob'): void {
  if (size !== undefined && data.length !== size) {
    throw new Error(`${what} ${expected}: size mismatch: got ${data.length} bytes, descriptor says ${size}`);
  }
  const got = digestOf(data);
  if (got !== expected) throw new Error(`${what} digest mismatch: got ${got}, expected ${expected}`);
}

export function descriptorFor(
  mediaType: string,
  data: Uint8Array,
  annotations?: Record<string, string>,
): Descriptor {
  const d: Descriptor = { mediaType, digest: digestOf(data), size: data.length };
  if (annotations && Object.keys(annotations).length > 0) d.annotations = sortedRecord(annotations);
  return d;
}

/** Copy of a string map with keys in code-point order, so serialisation is deterministic. */
export function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

/** Canonical manifest bytes: compact JSON, insertion order as built by this package. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
