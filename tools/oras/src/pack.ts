/**
 * Deterministic packing of a proxy-wasm module into one of the two OCI shapes Istio accepts:
 *
 * - `oci` (default): the Solo/Istio "wasm image spec" 2-layer variant. Config and layer 0 are the
 *   runtime-config JSON (`application/vnd.module.wasm.config.v1+json`); layer 1 is the raw wasm
 *   (`application/vnd.module.wasm.content.layer.v1+wasm`).
 * - `compat`: a standard OCI image: a real image config and one reproducible tar+gzip layer
 *   holding a single regular file `plugin.wasm`.
 *
 * Every byte depends only on the inputs (wasm, name, version, created, annotations), so
 * packing twice yields the same manifest digest, which is what WasmPlugin.sha256 pins.
 */
import { readFileSync } from 'node:fs';
import { isValidWasmBinary } from './istio';
import { initLayout, resetLayout, tagInLayout, writeBlob } from './layout';
import {
  Annotation,
  MediaType,
  descriptorFor,
  digestOf,
  encodeJson,
  sortedRecord,
  type Descriptor,
  type ImageManifest,
} from './media';
import { isValidTag } from './reference';
import { createTar, deterministicGzip } from './tar';

export type WasmFormat = 'oci' | 'compat';

export const DEFAULT_ABI_VERSION = 'proxy_abi_version_0_2_1';

export interface WasmArtifactInput {
  wasm: Uint8Array;
  /** Filter name → org.opencontainers.image.title. */
  name: string;
  version?: string;
  /** RFC 3339 string, epoch seconds, or Date. Default: $SOURCE_DATE_EPOCH, else the epoch. */
  created?: string | number | Date;
  format?: WasmFormat;
  rootIds?: string[];
  abiVersion?: string;
  source?: string;
  revision?: string;
  description?: string;
  licenses?: string;
  vendor?: string;
  /** Extra manifest annotations (override the generated ones). */
  annotations?: Record<string, string>;
}

export interface PackedArtifact {
  format: WasmFormat;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  /** Manifest descriptor (mediaType, digest, size). */
  descriptor: Descriptor;
  /** Every blob the manifest references (config and layers), keyed by digest. */
  blobs: Map<string, Buffer>;
  /** sha256:… of the raw wasm module. */
  wasmDigest: string;
  created: string;
}

/** Normalises `created` to RFC 3339 UTC with second precision. */
export function resolveCreated(created?: string | number | Date, env: NodeJS.ProcessEnv = process.env): string {
  let ms: number;
  if (created instanceof Date) ms = created.getTime();
  else if (typeof created === 'number') ms = created * 1000;
  else if (typeof created === 'string' && created.trim() !== '') {
    const s = created.trim();
    if (/^\d+$/.test(s)) ms = Number(s) * 1000;
    else {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
        throw new Error(`created ${JSON.stringify(s)} is not an RFC 3339 timestamp or epoch seconds`);
      }
      ms = Date.parse(s);
    }
  } else if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '') {
    if (!/^\d+$/.test(env.SOURCE_DATE_EPOCH)) {
      throw new Error(`SOURCE_DATE_EPOCH ${JSON.stringify(env.SOURCE_DATE_EPOCH)} is not a number of seconds`);
    }
    ms = Number(env.SOURCE_DATE_EPOCH) * 1000;
  } else ms = 0;
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`created ${JSON.stringify(created)} is out of range`);
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The runtime config (snake_case, as in the Solo spec text). */
export function runtimeConfig(rootIds: string[] = [], abiVersion = DEFAULT_ABI_VERSION): Buffer {
  return encodeJson({ type: 'envoy_proxy', abi_version: abiVersion, config: { root_ids: rootIds } });
}

function manifestAnnotations(input: WasmArtifactInput, created: string): Record<string, string> {
  const a: Record<string, string> = { [Annotation.title]: input.name, [Annotation.created]: created };
  if (input.version) a[Annotation.version] = input.version;
  if (input.source) a[Annotation.source] = input.source;
  if (input.revision) a[Annotation.revision] = input.revision;
  if (input.description) a[Annotation.description] = input.description;
  if (input.licenses) a[Annotation.licenses] = input.licenses;
  if (input.vendor) a[Annotation.vendor] = input.vendor;
  for (const [k, v] of Object.entries(input.annotations ?? {})) {
    if (typeof v !== 'string') throw new Error(`annotation ${k} must be a string`);
    a[k] = v;
  }
  return a;
}

/** Builds the manifest and blobs in memory (no I/O). */
export function packWasm(input: WasmArtifactInput): PackedArtifact {
  const wasm = Buffer.from(input.wasm);
  if (!isValidWasmBinary(wasm)) {
    throw new Error(`${input.name}: not a WebAssembly module (needs at least 8 bytes starting with \\0asm)`);
  }
  if (!input.name || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(input.name)) {
    throw new Error(`invalid artifact name ${JSON.stringify(input.name)}`);
  }
  const format: WasmFormat = input.format ?? 'oci';
  const created = resolveCreated(input.created);
  const annotations = manifestAnnotations(input, created);
  const blobs = new Map<string, Buffer>();
  let manifest: ImageManifest;
  if (format === 'oci') {
    const cfg = runtimeConfig(input.rootIds ?? [], input.abiVersion);
    const cfgDesc = descriptorFor(MediaType.wasmConfig, cfg);
    blobs.set(cfgDesc.digest, cfg);
    blobs.set(digestOf(wasm), wasm);
    manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: cfgDesc,
      layers: [
        descriptorFor(MediaType.wasmConfig, cfg, { [Annotation.title]: 'runtime-config.json' }),
        descriptorFor(MediaType.wasmLayer, wasm, { [Annotation.title]: 'plugin.wasm' }),
      ],
      annotations: sortedRecord(annotations),
    };
  } else if (format === 'compat') {
    const mtime = Math.floor(Date.parse(created) / 1000);
    const tar = createTar([{ name: 'plugin.wasm', data: wasm, mode: 0o644 }], { mtime });
    const layer = deterministicGzip(tar);
    const imageConfig = encodeJson({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
      history: [{ created, created_by: 'meshwasm-oras: plugin.wasm' }],
    });
    const cfgDesc = descriptorFor(MediaType.ociConfig, imageConfig);
    blobs.set(cfgDesc.digest, imageConfig);
    const layerDesc = descriptorFor(MediaType.ociLayerTarGzip, layer);
    blobs.set(layerDesc.digest, layer);
    annotations[Annotation.variant] = 'compat';
    manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: cfgDesc,
      layers: [layerDesc],
      annotations: sortedRecord(annotations),
    };
  } else {
    throw new Error(`unknown format ${JSON.stringify(format)} (expected "oci" or "compat")`);
  }
  const manifestBytes = encodeJson(manifest);
  return {
    format,
    manifest,
    manifestBytes,
    descriptor: { mediaType: MediaType.ociManifest, digest: digestOf(manifestBytes), size: manifestBytes.length },
    blobs,
    wasmDigest: digestOf(wasm),
    created,
  };
}

/** Writes a packed artifact into an OCI layout under the given tags. */
export function writePackedToLayout(dir: string, packed: PackedArtifact, tags: string[], opts: { reset?: boolean } = {}): void {
  if (opts.reset) resetLayout(dir);
  else initLayout(dir);
  for (const [digest, data] of packed.blobs) writeBlob(dir, data, digest);
  writeBlob(dir, packed.manifestBytes, packed.descriptor.digest);
  for (const t of tags) tagInLayout(dir, packed.descriptor, t);
}

export interface PackageWasmOptions extends Omit<WasmArtifactInput, 'wasm'> {
  wasmPath: string;
  /** Output OCI layout directory (replaced if it already is a layout). */
  outDir: string;
  /** Tags in index.json; default [version] or ['latest']. */
  tags?: string[];
}

export interface PackageWasmResult {
  /** Manifest digest sha256:… (WasmPlugin.sha256 is its hex part). */
  digest: string;
  layoutDir: string;
  tags: string[];
  wasmDigest: string;
  format: WasmFormat;
  created: string;
}

/** Packs `wasmPath` into a fresh, deterministic OCI image layout at `outDir`. */
export function packageWasm(opts: PackageWasmOptions): PackageWasmResult {
  let wasm: Buffer;
  try {
    wasm = readFileSync(opts.wasmPath);
  } catch (err) {
    throw new Error(`cannot read ${opts.wasmPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const packed = packWasm({ ...opts, wasm });
  const tags = opts.tags && opts.tags.length > 0 ? opts.tags : [opts.version || 'latest'];
  for (const t of tags) if (!isValidTag(t)) throw new Error(`invalid tag ${JSON.stringify(t)}`);
  writePackedToLayout(opts.outDir, packed, tags, { reset: true });
  return {
    digest: packed.descriptor.digest,
    layoutDir: opts.outDir,
    tags,
    wasmDigest: packed.wasmDigest,
    format: packed.format,
    created: packed.created,
  };
}
