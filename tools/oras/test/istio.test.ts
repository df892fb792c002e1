import { describe, expect, it } from '@jest/globals';
import { checkIstioAcceptance, extractWasm, extractWasmPluginBinary, isValidWasmBinary } from '../src/istio';
import { MediaType } from '../src/media';
import { createTar, deterministicGzip } from '../src/tar';
import { fakeWasm, memImage } from './helpers';

const wasm = fakeWasm('istio');
const tgz = (files: { name: string; data: Buffer }[]) => deterministicGzip(createTar(files));

describe('Istio acceptance rules (port of pkg/wasm/imagefetcher.go)', () => {
  it('accepts the docker compat variant and ignores earlier layers', async () => {
    const img = memImage({
      mediaType: MediaType.dockerManifest,
      layers: [
        { mediaType: MediaType.dockerLayer, data: tgz([]) },
        { mediaType: MediaType.dockerLayer, data: tgz([{ name: 'plugin.wasm', data: wasm }]) },
      ],
    });
    await expect(extractWasm(img)).resolves.toEqual(wasm);
  });

  it('rejects a docker manifest whose last layer is not a docker tar.gz', async () => {
    const img = memImage({ mediaType: MediaType.dockerManifest, layers: [{ mediaType: MediaType.ociLayerTarGzip, data: tgz([]) }] });
    await expect(extractWasm(img)).rejects.toThrow(
      'could not extract Wasm file from the image as Docker container invalid media type application/vnd.oci.image.layer.v1.tar+gzip (expect application/vnd.docker.image.rootfs.diff.tar.gzip)',
    );
  });

  it('accepts OCI compat with ./plugin.wasm and nested dirs/plugin.wasm', async () => {
    for (const name of ['./plugin.wasm', 'any/dir/plugin.wasm']) {
      const img = memImage({ layers: [{ mediaType: MediaType.ociLayerTarGzip, data: tgz([{ name: 'README', data: Buffer.from('x') }, { name, data: wasm }]) }] });
      await expect(extractWasm(img)).resolves.toEqual(wasm);
    }
  });

  it('accepts the 2-layer oci variant whichever order the layers are in', async () => {
    const cfg = Buffer.from('{"type":"envoy_proxy"}');
    const img = memImage({
      layers: [
        { mediaType: MediaType.wasmLayer, data: wasm },
        { mediaType: MediaType.wasmConfig, data: cfg },
      ],
    });
    await expect(extractWasm(img)).resolves.toEqual(wasm);
  });

  it('rejects the course 1-layer `oras push plugin.wasm:…+wasm` shape with Istio’s exact text', async () => {
    const img = memImage({
      config: { mediaType: MediaType.ociEmpty, data: Buffer.from('{}') },
      layers: [{ mediaType: MediaType.wasmLayer, data: wasm, annotations: { 'org.opencontainers.image.title': 'plugin.wasm' } }],
    });
    await expect(extractWasm(img)).rejects.toThrow(
      'the given image is in invalid format as an OCI image: 2 errors occurred:\n' +
        '\t* could not parse as compat variant: invalid media type application/vnd.module.wasm.content.layer.v1+wasm (expect application/vnd.oci.image.layer.v1.tar+gzip)\n' +
        '\t* could not parse as oci variant: number of layers must be 2 but got 1\n\n',
    );
  });

  it('rejects an image without layers, and one with 3 layers', async () => {
    await expect(extractWasm(memImage({ layers: [] }))).rejects.toThrow(
      'the given image is in invalid format as an OCI image: 2 errors occurred:\n' +
        '\t* could not parse as compat variant: number of layers must be greater than zero\n' +
        '\t* could not parse as oci variant: number of layers must be 2 but got 0\n\n',
    );
    const three = memImage({
      layers: [
        { mediaType: MediaType.wasmConfig, data: Buffer.from('{}') },
        { mediaType: 'application/vnd.module.wasm.doc.v1+markdown', data: Buffer.from('# doc') },
        { mediaType: MediaType.wasmLayer, data: wasm },
      ],
    });
    await expect(extractWasm(three)).rejects.toThrow('could not parse as oci variant: number of layers must be 2 but got 3');
  });

  it('names a missing wasm layer in a 2-layer artifact', async () => {
    const img = memImage({
      layers: [
        { mediaType: MediaType.wasmConfig, data: Buffer.from('{}') },
        { mediaType: 'application/wasm', data: wasm },
      ],
    });
    await expect(extractWasm(img)).rejects.toThrow(
      'could not parse as oci variant: could not find the layer of type application/vnd.module.wasm.content.layer.v1+wasm',
    );
  });

  it('reports an invalid tar.gz layer and a missing plugin.wasm', async () => {
    const bad = memImage({ layers: [{ mediaType: MediaType.ociLayerTarGzip, data: Buffer.from('not gzip at all') }] });
    await expect(extractWasm(bad)).rejects.toThrow(
      'could not parse as compat variant: could not extract wasm binary: failed to parse layer as tar.gz: gzip: invalid header',
    );
    const nf = memImage({ layers: [{ mediaType: MediaType.ociLayerTarGzip, data: tgz([{ name: 'main.wasm', data: wasm }]) }] });
    await expect(extractWasm(nf)).rejects.toThrow('could not extract wasm binary: plugin.wasm not found in the archive');
    expect(() => extractWasmPluginBinary(tgz([{ name: 'plugin.wasm', data: wasm }]).subarray(0, 30))).toThrow(/unexpected EOF/);
  });

  it('rejects uncompressed tar layers (only tar+gzip is compat)', async () => {
    const img = memImage({ layers: [{ mediaType: MediaType.ociLayerTar, data: createTar([{ name: 'plugin.wasm', data: wasm }]) }] });
    await expect(extractWasm(img)).rejects.toThrow(
      'invalid media type application/vnd.oci.image.layer.v1.tar (expect application/vnd.oci.image.layer.v1.tar+gzip)',
    );
  });

  it('checks the \\0asm magic, the manifest checksum, and blob digests', async () => {
    expect(isValidWasmBinary(wasm)).toBe(true);
    expect(isValidWasmBinary(Buffer.from('\0asm'))).toBe(false);
    expect(isValidWasmBinary(Buffer.from('hello world!'))).toBe(false);
    const notWasm = memImage({
      layers: [
        { mediaType: MediaType.wasmConfig, data: Buffer.from('{}') },
        { mediaType: MediaType.wasmLayer, data: Buffer.from('this is not wasm') },
      ],
    });
    await expect(checkIstioAcceptance(notWasm, { url: 'oci://r/x:1' })).rejects.toThrow('fetched Wasm binary from oci://r/x:1 is invalid');
    const good = memImage({ layers: [{ mediaType: MediaType.wasmConfig, data: Buffer.from('{}') }, { mediaType: MediaType.wasmLayer, data: wasm }] });
    const ok = await checkIstioAcceptance(good);
    expect(ok.wasm).toEqual(wasm);
    await expect(checkIstioAcceptance(good, { url: 'oci://r/x:1', sha256: 'a'.repeat(64) })).rejects.toThrow(
      `module downloaded from oci://r/x:1 has checksum ${ok.manifestSha256}, which does not match: ${'a'.repeat(64)}`,
    );
    const tampered = { ...good, blob: () => Buffer.concat([wasm, Buffer.from([0])]) };
    await expect(extractWasm(tampered)).rejects.toThrow(/could not extract wasm binary: error verifying sha256 checksum/);
  });
});
