import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ociRegistryPrefix, ociRepositoryName, pinYamlFile, pinYamlText, readPins } from '../src/manifests';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'release-pin-'));
  made.push(d);
  return d;
}

const SHA = 'ea2458b896a03a1512b83c88891d2afa382354a0650e1c5a4f668013c87d3d3e';
const SHA2 = '0b92b54a08e2baaf6c255f271aa69c4d51cd578d22fa2d01494498cbfc66fd7f';
const target = { name: 'header', url: 'oci://127.0.0.1:5000/meshwasm/header:0.2.0', sha256: SHA };

const HEADER = `# Istio WasmPlugin for the header filter.
# The release flow rewrites \`url\`.
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: header   # trailing comment
spec:
  selector:
    matchLabels:
      app: httpbin
  url: oci://ghcr.io/meshwasm/header:0.1.0   # pinned by release:version

  imagePullPolicy: IfNotPresent
  pluginName: header
  pluginConfig:
    request:
      set:
        - { name: x-training, value: "envoy-wasm" }
`;

describe('oci url helpers', () => {
  test('repository name and registry prefix', () => {
    expect(ociRepositoryName('oci://ghcr.io/acme/meshwasm/header:0.1.0')).toBe('header');
    expect(ociRepositoryName('oci://127.0.0.1:5000/meshwasm/http-timing@sha256:' + SHA)).toBe('http-timing');
    expect(ociRepositoryName('oci://127.0.0.1:5000/redact')).toBe('redact');
    expect(ociRepositoryName('https://example.com/header.wasm')).toBeUndefined();
    expect(ociRegistryPrefix('oci://ghcr.io/acme/meshwasm/header:0.1.0')).toBe('ghcr.io/acme/meshwasm');
    expect(ociRegistryPrefix('oci://127.0.0.1:5000/header:1')).toBe('127.0.0.1:5000');
  });
});

describe('pinYamlText', () => {
  test('rewrites url, inserts sha256 after it, and keeps every other byte', () => {
    const { text, changes } = pinYamlText(HEADER, 'wasmplugin.yaml', target, { mode: 'own' });
    expect(changes).toHaveLength(1);
    expect(changes[0].before).toEqual({ url: 'oci://ghcr.io/meshwasm/header:0.1.0', sha256: undefined });
    const expected = HEADER.replace(
      '  url: oci://ghcr.io/meshwasm/header:0.1.0   # pinned by release:version\n',
      `  url: oci://127.0.0.1:5000/meshwasm/header:0.2.0   # pinned by release:version\n  sha256: ${SHA}\n`,
    );
    expect(text).toBe(expected);
    const doc = parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & unknown[];
    expect((doc as any)[0].getIn(['spec', 'sha256'])).toBe(SHA);
  });

  test('re-pinning replaces an existing sha256 in place; pinning twice changes nothing', () => {
    const first = pinYamlText(HEADER, 'f', target, { mode: 'own' }).text;
    const second = pinYamlText(first, 'f', { ...target, url: 'oci://ghcr.io/acme/meshwasm/header:0.3.0', sha256: SHA2 }, { mode: 'own' });
    expect(second.changes[0].before).toEqual({ url: target.url, sha256: SHA });
    expect(second.text).toBe(first.replace(target.url, 'oci://ghcr.io/acme/meshwasm/header:0.3.0').replace(SHA, SHA2));
    const again = pinYamlText(second.text, 'f', { ...target, url: 'oci://ghcr.io/acme/meshwasm/header:0.3.0', sha256: SHA2 }, { mode: 'own' });
    expect(again.changes).toEqual([]);
    expect(again.text).toBe(second.text);
  });

  test('keeps the quoting style of existing values', () => {
    const src = `kind: WasmPlugin\nspec:\n  url: "oci://ghcr.io/meshwasm/header:0.1.0"\n  sha256: '${SHA2}'\n`;
    const { text } = pinYamlText(src, 'f', target, { mode: 'own' });
    expect(text).toBe(`kind: WasmPlugin\nspec:\n  url: "${target.url}"\n  sha256: '${SHA}'\n`);
  });

  test('reference mode only touches documents whose oci url names the filter', () => {
    const src = [
      '# deploy manifests',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: x}',
      'data: {url: "oci://ghcr.io/meshwasm/header:0.1.0"}',
      '---',
      'kind: WasmPlugin',
      'spec:',
      '  url: oci://ghcr.io/meshwasm/http-timing:0.1.0',
      '---',
      'kind: WasmPlugin',
      'spec:',
      '  url: oci://ghcr.io/meshwasm/header:0.1.0',
      '  phase: AUTHN',
      '---',
      'kind: WasmPlugin',
      'spec:',
      '  url: file:///opt/header.wasm',
      '',
    ].join('\n');
    const { text, changes } = pinYamlText(src, 'deploy.yaml', target, { mode: 'reference' });
    expect(changes.map((c) => c.doc)).toEqual([2]);
    expect(text).toBe(src.replace('  url: oci://ghcr.io/meshwasm/header:0.1.0\n', `  url: ${target.url}\n  sha256: ${SHA}\n`));
  });

  test('TrafficExtension pins spec.wasm', () => {
    const src = 'kind: TrafficExtension\nspec:\n  wasm:\n    url: oci://ghcr.io/meshwasm/header:0.1.0\n    pluginName: header\n';
    const { text } = pinYamlText(src, 'f', target, { mode: 'reference' });
    expect(text).toBe(`kind: TrafficExtension\nspec:\n  wasm:\n    url: ${target.url}\n    sha256: ${SHA}\n    pluginName: header\n`);
  });

  test('a spec without url gets url and sha256 as its first keys; a last line without newline works', () => {
    const src = 'kind: WasmPlugin\nspec:\n  pluginName: header\n  phase: STATS';
    const { text } = pinYamlText(src, 'f', target, { mode: 'own' });
    expect(text).toBe(`kind: WasmPlugin\nspec:\n  url: ${target.url}\n  sha256: ${SHA}\n  pluginName: header\n  phase: STATS`);
    const eof = pinYamlText('kind: WasmPlugin\nspec:\n  url: x', 'f', target, { mode: 'own' }).text;
    expect(eof).toBe(`kind: WasmPlugin\nspec:\n  url: ${target.url}\n  sha256: ${SHA}\n`);
  });

  test('a digest YAML would read as a number is quoted', () => {
    const numeric = '1'.repeat(60) + 'e123';
    const { text } = pinYamlText('kind: WasmPlugin\nspec:\n  url: x\n', 'f', { ...target, sha256: numeric }, { mode: 'own' });
    expect(text).toContain(`sha256: "${numeric}"`);
    expect((parseAllDocuments(text) as any)[0].getIn(['spec', 'sha256'])).toBe(numeric);
  });

  test('bad input: clear errors, nothing written', () => {
    expect(() => pinYamlText('kind: WasmPlugin\nspec: [unclosed\n', 'bad.yaml', target, { mode: 'own' })).toThrow(/bad\.yaml: YAML error in document 1/);
    expect(() => pinYamlText('kind: WasmPlugin\nspec: {url: x}\n', 'flow.yaml', target, { mode: 'own' })).toThrow(/flow style/);
    expect(() => pinYamlText(HEADER, 'f', { ...target, sha256: 'sha256:' + SHA }, { mode: 'own' })).toThrow(/64 lowercase hex/);
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kind: WasmPlugin\nspec: [unclosed\n');
    expect(() => pinYamlFile(file, target, { mode: 'own' })).toThrow(/YAML error/);
    expect(readFileSync(file, 'utf8')).toBe('kind: WasmPlugin\nspec: [unclosed\n');
  });

  test('pinYamlFile writes the file and readPins reads the pin back', () => {
    const dir = tempDir();
    const file = join(dir, 'wasmplugin.yaml');
    writeFileSync(file, HEADER);
    expect(pinYamlFile(file, target, { mode: 'own' })).toHaveLength(1);
    expect(readPins(file)).toEqual([{ kind: 'WasmPlugin', url: target.url, sha256: SHA }]);
    expect(pinYamlFile(file, target, { mode: 'own' })).toEqual([]);
  });
});
