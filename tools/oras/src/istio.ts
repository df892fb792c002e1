/**
 * A TypeScript port of Istio's Wasm image acceptance rules (istio/istio pkg/wasm: imagefetcher.go
 * `extractDockerImage`, `extractOCIStandardImage`, `extractOCIArtifactImage`,
 * `extractWasmPluginBinary`, and cache.go's `isValidWasmBinary` plus the checksum comparison).
 *
 * Error texts are the same as Istio's so a failure here reads like the istio-agent log line a
 * user would otherwise see only after a deny-all RBAC filter closed their traffic.
 */
import { MediaType, digestOf, type Descriptor } from './media';
import { TarFormatError, gunzipLikeGo, walkTar } from './tar';

export const WASM_PLUGIN_FILE_NAME = 'plugin.wasm';
/** ISTIO_WASM_MAX_BINARY_SIZE_BYTES default (256 MiB). */
export const DEFAULT_MAX_BINARY_SIZE = 256 * 1024 * 1024;

export class IstioRejection extends Error {
  override name = 'IstioRejection';
}

/** Minimal view of an image as ggcr's `v1.Image` exposes it to the fetcher. */
export interface IstioImage {
  /** Exact manifest bytes as served by the registry. */
  manifest: Uint8Array;
  /** Returns a blob's bytes (compressed form, as stored). */
  blob(desc: Descriptor): Uint8Array | Promise<Uint8Array>;
  /** Returns a child manifest of an index by digest (only needed for index references). */
  childManifest?(desc: Descriptor): Uint8Array | Promise<Uint8Array>;
}

interface ParsedManifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

/** `isValidWasmBinary`: at least 8 bytes starting with `\0asm`. */
export function isValidWasmBinary(data: Uint8Array): boolean {
  return data.length >= 8 && data[0] === 0x00 && data[1] === 0x61 && data[2] === 0x73 && data[3] === 0x6d;
}

function goErr(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** hashicorp/go-multierror's default list format. */
function multierror(errs: string[]): string {
  if (errs.length === 1) return `1 error occurred:\n\t* ${errs[0]}\n\n`;
  return `${errs.length} errors occurred:\n\t${errs.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

/** ggcr reports the config's media type for a layer that shares the config's digest. */
function layerMediaType(m: ParsedManifest, layer: Descriptor): string {
  if (m.config && layer.digest === m.config.digest) return m.config.mediaType;
  return layer.mediaType;
}

async function readLayer(img: IstioImage, layer: Descriptor): Promise<Buffer> {
  const data = Buffer.from(await img.blob(layer));
  const got = digestOf(data);
  if (got !== layer.digest) {
    // ggcr's verify.ReadCloser message
    throw new Error(`error verifying sha256 checksum after reading ${data.length} bytes; got "${got}", want "${layer.digest}"`);
  }
  return data;
}

/** `extractWasmPluginBinary`: first tar entry whose basename is plugin.wasm, read h.Size bytes. */
export function extractWasmPluginBinary(compressed: Uint8Array, maxSize = DEFAULT_MAX_BINARY_SIZE): Buffer {
  const gz = gunzipLikeGo(compressed);
  if (gz.headerError) throw new Error(`failed to parse layer as tar.gz: ${gz.headerError}`);
  const tar = gz.out.length > maxSize ? gz.out.subarray(0, maxSize) : gz.out;
  let found: Buffer | undefined;
  let readErr: string | undefined;
  try {
    walkTar(tar, (e) => {
      const base = e.name.replace(/\/+$/, '').split('/').pop() ?? '';
      if (base === WASM_PLUGIN_FILE_NAME) {
        if (e.data.length < e.size) readErr = `failed to read ${WASM_PLUGIN_FILE_NAME}: unexpected EOF`;
        else found = e.data.subarray(0, e.size);
        return true;
      }
      return false;
    });
  } catch (err) {
    if (err instanceof TarFormatError) throw new Error(gz.streamError ?? err.message);
    throw err;
  }
  if (readErr) throw new Error(readErr);
  if (found) return found;
  if (gz.streamError) throw new Error(gz.streamError);
  throw new Error(`${WASM_PLUGIN_FILE_NAME} not found in the archive`);
}

async function extractCompat(img: IstioImage, m: ParsedManifest, expect: string): Promise<Buffer> {
  const layers = m.layers ?? [];
  if (layers.length === 0) throw new Error('number of layers must be greater than zero');
  const layer = layers[layers.length - 1];
  const mt = layerMediaType(m, layer);
  if (mt !== expect) throw new Error(`invalid media type ${mt} (expect ${expect})`);
  let data: Buffer;
  try {
    data = await readLayer(img, layer);
  } catch (err) {
    throw new Error(`could not get layer content: ${goErr(err)}`);
  }
  try {
    return extractWasmPluginBinary(data);
  } catch (err) {
    throw new Error(`could not extract wasm binary: ${goErr(err)}`);
  }
}

/** `extractDockerImage` */
export function extractDockerImage(img: IstioImage, m: ParsedManifest): Promise<Buffer> {
  return extractCompat(img, m, MediaType.dockerLayer);
}

/** `extractOCIStandardImage` */
export function extractOCIStandardImage(img: IstioImage, m: ParsedManifest): Promise<Buffer> {
  return extractCompat(img, m, MediaType.ociLayerTarGzip);
}

/** `extractOCIArtifactImage` */
export async function extractOCIArtifactImage(
  img: IstioImage,
  m: ParsedManifest,
  maxSize = DEFAULT_MAX_BINARY_SIZE,
): Promise<Buffer> {
  const layers = m.layers ?? [];
  if (layers.length !== 2) throw new Error(`number of layers must be 2 but got ${layers.length}`);
  const layer = layers.find((l) => layerMediaType(m, l) === MediaType.wasmLayer);
  if (!layer) throw new Error(`could not find the layer of type ${MediaType.wasmLayer}`);
  let data: Buffer;
  try {
    data = await readLayer(img, layer);
  } catch (err) {
    throw new Error(`could not extract wasm binary: ${goErr(err)}`);
  }
  return data.length > maxSize ? data.subarray(0, maxSize) : data;
}

function parseManifest(bytes: Uint8Array): ParsedManifest {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new IstioRejection(`could not fetch manifest: ${goErr(err)}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new IstioRejection('could not fetch manifest: manifest is not a JSON object');
  return v as ParsedManifest;
}

/**
 * The fetcher's `binaryFetcher` closure: picks the variant from the manifest and returns the
 * wasm bytes, or throws IstioRejection with Istio's message.
 */
export async function extractWasm(img: IstioImage, manifestBytes: Uint8Array = img.manifest): Promise<Buffer> {
  const m = parseManifest(manifestBytes);
  if (m.mediaType === MediaType.dockerManifest) {
    try {
      return await extractDockerImage(img, m);
    } catch (err) {
      throw new IstioRejection(`could not extract Wasm file from the image as Docker container ${goErr(err)}`);
    }
  }
  let errCompat: string;
  try {
    return await extractOCIStandardImage(img, m);
  } catch (err) {
    errCompat = goErr(err);
  }
  let errOCI: string;
  try {
    return await extractOCIArtifactImage(img, m);
  } catch (err) {
    errOCI = goErr(err);
  }
  throw new IstioRejection(
    `the given image is in invalid format as an OCI image: ${multierror([
      `could not parse as compat variant: ${errCompat}`,
      `could not parse as oci variant: ${errOCI}`,
    ])}`,
  );
}

export interface IstioCheckOptions {
  /** The WasmPlugin url, used in messages (e.g. `oci://host/repo:tag`). */
  url?: string;
  /** WasmPlugin `sha256` (hex, manifest digest for oci://). */
  sha256?: string;
}

export interface IstioCheckResult {
  /** Manifest digest hex: what WasmPlugin.sha256 must be for oci:// URLs. */
  manifestSha256: string;
  /** The image manifest that was used (the linux/amd64 child for an index). */
  manifestDigest: string;
  wasm: Buffer;
  /** sha256 hex of the wasm bytes (what sha256 would be for an http(s):// URL). */
  wasmSha256: string;
}

/**
 * Full acceptance check as istio-agent performs it for an `oci://` WasmPlugin: index → linux/amd64
 * child, manifest digest vs `sha256`, variant extraction, then the `\0asm` check.
 */
export async function checkIstioAcceptance(img: IstioImage, opts: IstioCheckOptions = {}): Promise<IstioCheckResult> {
  const url = opts.url ?? 'oci://image';
  let manifest = Buffer.from(img.manifest);
  const top = parseManifest(manifest);
  if (top.mediaType === MediaType.ociIndex || top.mediaType === MediaType.dockerManifestList || Array.isArray(top.manifests)) {
    const child = (top.manifests ?? []).find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64');
    if (!child || !img.childManifest) {
      throw new IstioRejection(`could not fetch image: no child with platform linux/amd64 in index ${url.replace(/^oci:\/\//, '')}`);
    }
    manifest = Buffer.from(await img.childManifest(child));
  }
  const digest = digestOf(manifest);
  const hex = digest.slice('sha256:'.length);
  if (opts.sha256 && opts.sha256 !== hex) {
    throw new IstioRejection(`module downloaded from ${url} has checksum ${hex}, which does not match: ${opts.sha256}`);
  }
  const wasm = await extractWasm(img, manifest);
  if (!isValidWasmBinary(wasm)) throw new IstioRejection(`fetched Wasm binary from ${url} is invalid`);
  return { manifestSha256: hex, manifestDigest: digest, wasm, wasmSha256: digestOf(wasm).slice(7) };
}
