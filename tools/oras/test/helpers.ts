import { Buffer } from 'node:buffer';
import { MediaType, descriptorFor, encodeJson, type Descriptor } from '../src/media';
import type { IstioImage } from '../src/istio';

/** A small valid wasm module: magic, version 1, empty custom section named after `tag`. */
export function fakeWasm(tag = 'x'): Buffer {
  const name = Buffer.from(tag);
  const payload = Buffer.concat([Buffer.from([name.length]), name]);
  return Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, payload.length]), payload]);
}

/** Builds an in-memory image from layer contents for the Istio port. */
export function memImage(opts: {
  mediaType?: string;
  config?: { mediaType: string; data: Buffer };
  layers: { mediaType: string; data: Buffer; annotations?: Record<string, string> }[];
}): IstioImage & { descriptors: Descriptor[] } {
  const blobs = new Map<string, Buffer>();
  const cfg = opts.config ?? { mediaType: MediaType.ociConfig, data: Buffer.from('{}') };
  const cfgDesc = descriptorFor(cfg.mediaType, cfg.data);
  blobs.set(cfgDesc.digest, cfg.data);
  const layers = opts.layers.map((l) => {
    const d = descriptorFor(l.mediaType, l.data, l.annotations);
    blobs.set(d.digest, l.data);
    return d;
  });
  const manifest: Record<string, unknown> = { schemaVersion: 2 };
  if (opts.mediaType) manifest.mediaType = opts.mediaType;
  manifest.config = cfgDesc;
  manifest.layers = layers;
  return {
    manifest: encodeJson(manifest),
    blob: (d) => {
      const b = blobs.get(d.digest);
      if (!b) throw new Error(`no blob ${d.digest}`);
      return b;
    },
    descriptors: layers,
  };
}

function leb128(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/** A valid wasm module of roughly `size` bytes (one custom section of pseudo-random payload). */
export function bigWasm(size: number, seed = 1): Buffer {
  const name = Buffer.from('pad');
  const payload = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    payload[i] = x & 0xff;
  }
  const body = Buffer.concat([leb128(name.length), name, payload]);
  return Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00]), leb128(body.length), body]);
}
