/** The push commands: `push-wasm` (a filter as an Istio-ready artifact) and `push` (any files as one artifact). */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pushContent, type ConnectOptions } from './api';
import { annotationsOf, need, splitFileType, wasmFormat, type CliIO, type Print, type Values } from './cli-args';
import { checkIstioAcceptance } from './istio';
import { initLayout, parseLayoutTarget, tagInLayout, writeBlob } from './layout';
import { Annotation, MediaType, descriptorFor, digestOf, encodeJson, sortedRecord, type Descriptor, type ImageManifest } from './media';
import { packWasm, resolveCreated, writePackedToLayout } from './pack';
import { formatReference, parseReference } from './reference';

export async function cmdPushWasm(args: string[], v: Values, conn: ConnectOptions, print: Print, io: CliIO): Promise<number> {
  need(args, 2, 'push-wasm FILE.wasm REF');
  const [file, target] = args;
  const format = wasmFormat(v);
  const wasm = readFileSync(file);
  const layout = v['oci-layout'] ? parseLayoutTarget(target) : undefined;
  const ref = layout ? undefined : parseReference(target);
  const tags = layout ? [layout.tag ?? v.version ?? 'latest'] : ref!.tags;
  const name = v.name ?? (ref ? ref.repository.split('/').pop()! : basename(file).replace(/\.wasm$/, ''));
  const packed = packWasm({
    wasm,
    name,
    version: v.version ?? (tags[0] && tags[0] !== 'latest' ? tags[0] : undefined),
    created: v.created ?? (io.env.SOURCE_DATE_EPOCH ? Number(io.env.SOURCE_DATE_EPOCH) : undefined),
    format,
    rootIds: v['root-id'],
    abiVersion: v['abi-version'],
    source: v.source,
    revision: v.revision,
    description: v.description,
    annotations: annotationsOf(v),
  });
  const istio = await checkIstioAcceptance({ manifest: packed.manifestBytes, blob: (d) => packed.blobs.get(d.digest)! });
  let pushed = true;
  let where: string;
  if (layout) {
    writePackedToLayout(layout.dir, packed, tags);
    where = `${layout.dir}:${tags.join(',')}`;
  } else {
    const all = new Map(packed.blobs);
    all.set(packed.descriptor.digest, packed.manifestBytes);
    const res = await pushContent(ref!, packed.descriptor, (d) => need2(all.get(d.digest), d), {
      ...conn,
      chunkSize: conn.clientOptions?.chunkSize,
    });
    pushed = res.pushed;
    where = formatReference(ref!);
  }
  const hex = packed.descriptor.digest.slice(7);
  print(
    `${pushed ? 'Pushed' : 'Up to date'} ${where} (${format})\nDigest: ${packed.descriptor.digest}\n` +
      `WasmPlugin sha256 (oci://): ${hex}\nWasm sha256 (http(s)://): ${packed.wasmDigest.slice(7)}\n`,
    {
      reference: where,
      format,
      pushed,
      digest: packed.descriptor.digest,
      mediaType: packed.descriptor.mediaType,
      size: packed.descriptor.size,
      wasmDigest: packed.wasmDigest,
      wasmPluginSha256: istio.manifestSha256,
      created: packed.created,
      tags,
    },
  );
  return 0;
}

function need2(b: Buffer | undefined, d: Descriptor): Buffer {
  if (!b) throw new Error(`content ${d.digest} missing`);
  return b;
}

export async function cmdPush(args: string[], v: Values, conn: ConnectOptions, print: Print, io: CliIO): Promise<number> {
  need(args, 2, 'push REF FILE[:MEDIATYPE]...');
  const [target, ...files] = args;
  const blobs = new Map<string, Buffer>();
  const layers: Descriptor[] = [];
  for (const f of files) {
    const { file, type } = splitFileType(f);
    const data = readFileSync(file);
    const d = descriptorFor(type ?? MediaType.ociLayerTar, data, { [Annotation.title]: basename(file) });
    blobs.set(d.digest, data);
    layers.push(d);
  }
  let config: Descriptor;
  let artifactType: string | undefined = v['artifact-type'];
  if (v.config) {
    const { file, type } = splitFileType(v.config);
    const data = readFileSync(file);
    config = descriptorFor(type ?? MediaType.ociConfig, data);
    blobs.set(config.digest, data);
  } else {
    const empty = Buffer.from('{}');
    config = { mediaType: MediaType.ociEmpty, digest: digestOf(empty), size: 2 };
    blobs.set(config.digest, empty);
    artifactType = artifactType ?? 'application/vnd.unknown.artifact.v1';
  }
  const created = v.created || io.env.SOURCE_DATE_EPOCH ? resolveCreated(v.created, io.env) : resolveCreated(new Date());
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(artifactType ? { artifactType } : {}),
    config,
    layers,
    annotations: sortedRecord({ [Annotation.created]: created, ...annotationsOf(v) }),
  };
  const bytes = encodeJson(manifest);
  const desc: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(bytes), size: bytes.length };
  if (layers.some((l) => l.mediaType.includes('wasm'))) {
    try {
      await checkIstioAcceptance({ manifest: bytes, blob: (d) => blobs.get(d.digest)! });
    } catch (err) {
      io.stderr(
        `warning: Istio's WasmPlugin fetcher would reject this artifact:\n  ${(err as Error).message.trim().replace(/\n/g, '\n  ')}\n` +
          `  Use "meshwasm-oras push-wasm FILE.wasm REF" for an Istio-ready artifact.\n`,
      );
    }
  }
  if (v['export-manifest']) writeFileSync(v['export-manifest'], bytes);
  let where: string;
  if (v['oci-layout']) {
    const t = parseLayoutTarget(target);
    initLayout(t.dir);
    for (const [d, data] of blobs) writeBlob(t.dir, data, d);
    writeBlob(t.dir, bytes, desc.digest);
    tagInLayout(t.dir, desc, t.tag ?? 'latest');
    where = `${t.dir}:${t.tag ?? 'latest'}`;
  } else {
    const ref = parseReference(target);
    blobs.set(desc.digest, bytes);
    await pushContent(ref, desc, (d) => need2(blobs.get(d.digest), d), { ...conn, chunkSize: conn.clientOptions?.chunkSize, skipIfTagged: false });
    where = formatReference(ref);
  }
  print(`Pushed ${where}\nDigest: ${desc.digest}\n`, { reference: where, digest: desc.digest, mediaType: desc.mediaType, size: desc.size });
  return 0;
}
