import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { istioCheckLayout } from '../src/api';
import { readIndex, resolveInLayout } from '../src/layout';
import { MediaType, digestOf } from '../src/media';
import { packWasm, packageWasm, resolveCreated } from '../src/pack';
import { parseReference } from '../src/reference';
import { createTar, deterministicGzip, walkTar } from '../src/tar';
import { fakeWasm } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'oras-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const wasmPath = join(tmp, 'header.wasm');
writeFileSync(wasmPath, fakeWasm('header'));

describe('packageWasm (deterministic OCI layouts)', () => {
  it('packs the 2-layer oci variant with the runtime config as config and layer 0', () => {
    const p = packWasm({ wasm: fakeWasm('a'), name: 'header', version: '1.2.3', created: 1700000000, rootIds: ['header'] });
    const m = p.manifest;
    expect(m.mediaType).toBe(MediaType.ociManifest);
    expect(m.config.mediaType).toBe(MediaType.wasmConfig);
    expect(m.layers.map((l) => l.mediaType)).toEqual([MediaType.wasmConfig, MediaType.wasmLayer]);
    expect(m.layers[0].digest).toBe(m.config.digest);
    expect(JSON.parse(p.blobs.get(m.config.digest)!.toString())).toEqual({
      type: 'envoy_proxy',
      abi_version: 'proxy_abi_version_0_2_1',
      config: { root_ids: ['header'] },
    });
    expect(m.annotations).toEqual({
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.title': 'header',
      'org.opencontainers.image.version': '1.2.3',
    });
    expect(p.descriptor.digest).toBe(digestOf(p.manifestBytes));
  });

  it('yields the same digest twice, and a different one when created changes', () => {
    const a = packageWasm({ wasmPath, name: 'header', version: '0.1.0', created: '2024-05-01T10:00:00Z', outDir: join(tmp, 'a') });
    const b = packageWasm({ wasmPath, name: 'header', version: '0.1.0', created: '2024-05-01T10:00:00Z', outDir: join(tmp, 'b') });
    expect(a.digest).toBe(b.digest);
    const files = (d: string) => readdirSync(join(d, 'blobs', 'sha256')).sort();
    expect(files(a.layoutDir)).toEqual(files(b.layoutDir));
    expect(readFileSync(join(a.layoutDir, 'index.json'))).toEqual(readFileSync(join(b.layoutDir, 'index.json')));
    const c = packageWasm({ wasmPath, name: 'header', version: '0.1.0', created: '2024-05-01T10:00:01Z', outDir: join(tmp, 'c') });
    expect(c.digest).not.toBe(a.digest);
    // repackaging into the same directory replaces the layout instead of accumulating
    const again = packageWasm({ wasmPath, name: 'header', version: '0.1.0', created: '2024-05-01T10:00:01Z', outDir: join(tmp, 'a') });
    expect(again.digest).toBe(c.digest);
    expect(readIndex(join(tmp, 'a')).manifests).toHaveLength(1);
    expect(resolveInLayout(join(tmp, 'a'), '0.1.0').digest).toBe(c.digest);
  });

  it('takes created from SOURCE_DATE_EPOCH and rejects bad values', () => {
    expect(resolveCreated(undefined, { SOURCE_DATE_EPOCH: '1715000000' })).toBe('2024-05-06T12:53:20Z');
    expect(resolveCreated(undefined, {})).toBe('1970-01-01T00:00:00Z');
    expect(resolveCreated('2024-01-01T01:02:03.999+01:00')).toBe('2024-01-01T00:02:03Z');
    expect(() => resolveCreated(undefined, { SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
    expect(() => resolveCreated('May 5th')).toThrow(/RFC 3339/);
  });

  it('packs compat as a reproducible tar+gzip with exactly one regular plugin.wasm', () => {
    const wasm = fakeWasm('compat');
    const p1 = packWasm({ wasm, name: 'redact', version: '2.0.0', created: 1700000000, format: 'compat' });
    const p2 = packWasm({ wasm, name: 'redact', version: '2.0.0', created: 1700000000, format: 'compat' });
    expect(p1.manifestBytes).toEqual(p2.manifestBytes);
    const layer = p1.blobs.get(p1.manifest.layers[0].digest)!;
    expect(p1.manifest.layers).toHaveLength(1);
    expect(p1.manifest.layers[0].mediaType).toBe(MediaType.ociLayerTarGzip);
    expect(p1.manifest.annotations?.['module.wasm.image/variant']).toBe('compat');
    expect(layer.readUInt32LE(4)).toBe(0); // gzip MTIME
    expect(layer[3] & 0x08).toBe(0); // no FNAME
    const tar = gunzipSync(layer);
    expect(tar.length % 10240).toBe(0);
    const entries: { name: string; type: string; data: Buffer }[] = [];
    walkTar(tar, (e) => void entries.push(e));
    expect(entries.map((e) => [e.name, e.type])).toEqual([['plugin.wasm', '0']]);
    expect(entries[0].data).toEqual(wasm);
    expect(tar.subarray(100, 108).toString()).toBe('0000644\0');
    expect(tar.subarray(108, 124).toString()).toBe('0000000\x000000000\0');
    expect(parseInt(tar.subarray(136, 147).toString(), 8)).toBe(1700000000);
    const cfg = JSON.parse(p1.blobs.get(p1.manifest.config.digest)!.toString());
    expect(cfg.rootfs.diff_ids).toEqual([digestOf(tar)]);
    expect(cfg.os).toBe('linux');
  });

  it('produces layouts that Istio rules accept, in both formats', async () => {
    for (const format of ['oci', 'compat'] as const) {
      const r = packageWasm({ wasmPath, name: 'header', version: '0.1.0', format, outDir: join(tmp, `istio-${format}`) });
      const check = await istioCheckLayout(r.layoutDir, '0.1.0', r.digest.slice(7));
      expect(check.wasm).toEqual(readFileSync(wasmPath));
    }
  });

  it('refuses non-wasm input and non-layout output directories', () => {
    const bad = join(tmp, 'bad.wasm');
    writeFileSync(bad, 'not wasm');
    expect(() => packageWasm({ wasmPath: bad, name: 'x', outDir: join(tmp, 'x') })).toThrow(/not a WebAssembly module/);
    expect(() => packageWasm({ wasmPath: join(tmp, 'missing.wasm'), name: 'x', outDir: join(tmp, 'x') })).toThrow(/ENOENT/);
    writeFileSync(join(tmp, 'keep.txt'), 'x');
    expect(() => packageWasm({ wasmPath, name: 'x', outDir: tmp })).toThrow(/not an OCI image layout/);
    expect(readFileSync(join(tmp, 'keep.txt'), 'utf8')).toBe('x');
  });

  it('creates byte-identical tar and gzip for identical input', () => {
    const files = [{ name: 'plugin.wasm', data: fakeWasm('t') }];
    expect(deterministicGzip(createTar(files, { mtime: 5 }))).toEqual(deterministicGzip(createTar(files, { mtime: 5 })));
  });
});

describe('parseReference', () => {
  it('parses hosts, ports, several tags and digests', () => {
    expect(parseReference('127.0.0.1:5000/meshwasm/header:1.0.0,latest')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'meshwasm/header',
      tags: ['1.0.0', 'latest'],
      digest: undefined,
    });
    expect(parseReference('oci://ghcr.io/o/r')).toMatchObject({ registry: 'ghcr.io', repository: 'o/r', tags: ['latest'] });
    expect(parseReference('alpine')).toMatchObject({ registry: 'docker.io', repository: 'library/alpine' });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`localhost:5000/x@${d}`)).toMatchObject({ registry: 'localhost:5000', tags: [], digest: d });
    expect(() => parseReference('h.io/Bad/Repo:1')).toThrow(/bad repository name/);
    expect(() => parseReference('h.io/r:-bad')).toThrow(/bad tag/);
    expect(() => parseReference('h.io/r@sha256:xyz')).toThrow(/bad digest/);
  });
});
