import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateIstioDocs } from '../src/istio';
import { FIXTURES, errorTexts } from './helpers';

type Json = Record<string, any>;
const docs = (): Json[] => parseAllDocuments(readFileSync(join(FIXTURES, 'demo/wasmplugin.yaml'), 'utf8')).map((d) => d.toJS() as Json);
const plugin = (): Json => docs()[0];
const check = (...values: unknown[]) => validateIstioDocs(values.map((value, index) => ({ index, value })), 'wasmplugin.yaml');

describe('validateIstioDocs', () => {
  it('accepts a full WasmPlugin and a TrafficExtension', () => {
    const r = check(...docs());
    expect(errorTexts(r.issues)).toEqual([]);
    expect(r.plugins.map((p) => [p.kind, p.name, p.pluginName, p.wasmPath.join('.')])).toEqual([
      ['WasmPlugin', 'demo', 'demo', 'spec'],
      ['TrafficExtension', 'demo-gateway', 'demo', 'spec.wasm'],
    ]);
  });

  it('uses the @kubernetes-models/istio schema: a wrong type is reported by it', () => {
    const p = plugin();
    p.spec.url = 5;
    const texts = errorTexts(check(p).issues);
    expect(texts).toContain('spec.url: (@kubernetes-models/istio schema) must be string');
  });

  it('fails selector and targetRefs together', () => {
    const p = plugin();
    p.spec.targetRefs = [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }];
    expect(errorTexts(check(p).issues)).toEqual(['spec: only one of targetRefs or selector can be set (found selector and targetRefs)']);
  });

  it('fails a url scheme outside ["", http, https, oci, file] and accepts each allowed one', () => {
    const p = plugin();
    p.spec.url = 'ftp://example.com/demo.wasm';
    expect(errorTexts(check(p).issues)).toEqual(['spec.url: url must have schema one of [http, https, file, oci] (got "ftp://example.com/demo.wasm")']);
    for (const url of ['ghcr.io/meshwasm/demo:1.2.0', 'https://example.com/demo.wasm', 'http://127.0.0.1/demo.wasm', 'file:///var/local/demo.wasm', 'oci://ghcr.io/meshwasm/demo:1.2.0']) {
      p.spec.url = url;
      expect(errorTexts(check(p).issues)).toEqual([]);
    }
  });

  it('fails a bad sha256 and a digest that contradicts the url', () => {
    const p = plugin();
    p.spec.sha256 = 'ABCDEF';
    expect(errorTexts(check(p).issues)).toEqual(['spec.sha256: sha256 must be empty or 64 lower-case hex digits (pattern ^$|^[a-f0-9]{64}$), got "ABCDEF"']);
    const d = 'f'.repeat(64);
    p.spec.url = `oci://ghcr.io/meshwasm/demo@sha256:${d}`;
    p.spec.sha256 = 'a'.repeat(64);
    expect(errorTexts(check(p).issues)).toEqual([`spec.sha256: sha256 ${'a'.repeat(64)} does not match the digest in the url (${d})`]);
  });

  it('fails env value with valueFrom HOST, duplicate env names, wildcard and empty label keys', () => {
    const p = plugin();
    p.spec.vmConfig.env[0].value = 'x';
    p.spec.vmConfig.env.push({ name: 'MODE', value: 'again' });
    p.spec.selector.matchLabels = { 'app*': 'a', '': 'b', tier: 'web*' };
    expect(errorTexts(check(p).issues).sort()).toEqual([
      'spec.selector.matchLabels.: key must not be empty',
      'spec.selector.matchLabels.app*: wildcard not allowed in label key match',
      'spec.selector.matchLabels.tier: wildcard not allowed in label value match',
      'spec.vmConfig.env.0.value: value may only be set when valueFrom is INLINE',
      'spec.vmConfig.env.2.name: duplicate env name "MODE" (also at [1])',
    ]);
  });

  it('fails more than 16 targetRefs, unsupported kinds and cross-namespace refs', () => {
    const p = plugin();
    delete p.spec.selector;
    p.spec.targetRefs = Array.from({ length: 17 }, (_, i) => ({ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: `gw${i}` }));
    p.spec.targetRefs[3] = { kind: 'Deployment', group: 'apps', name: 'x', namespace: 'other' };
    const texts = errorTexts(check(p).issues).join('\n');
    expect(texts).toContain('spec.targetRefs: must NOT have more than 16 items');
    expect(texts).toContain('spec.targetRefs.3: support kinds are core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway and gateway.networking.k8s.io/GatewayClass (got apps/Deployment)');
    expect(texts).toContain('spec.targetRefs.3.namespace: cross namespace referencing is not currently supported');
  });

  it('fails unknown keys, bad enums, a missing url and a bad metadata name', () => {
    const p = plugin();
    p.spec.pluginConfg = {};
    p.spec.failStrategy = 'FAIL_SOMETIMES';
    delete p.spec.url;
    p.metadata.name = 'Demo_Plugin';
    const texts = errorTexts(check(p).issues);
    expect(texts).toEqual(
      expect.arrayContaining([
        'spec.pluginConfg: unknown field "pluginConfg"',
        'spec.failStrategy: must be one of "FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"',
        'spec: missing required field "url"',
        'metadata.name: "Demo_Plugin" is not a valid name (lower-case RFC 1123 subdomain)',
      ]),
    );
  });

  it("names the field the course's `failOpen: true` meant (a WasmPlugin and a TrafficExtension's wasm)", () => {
    const p = plugin();
    p.spec.failOpen = true;
    const te = docs()[1];
    te.spec.wasm.fail_open = true;
    expect(errorTexts(check(p, te).issues)).toEqual([
      'spec.failOpen: unknown field "failOpen": a WasmPlugin has no failOpen; write failStrategy: FAIL_OPEN (the default is FAIL_CLOSE)',
      'spec.wasm.fail_open: unknown field "fail_open": a WasmPlugin has no fail_open; write failStrategy: FAIL_OPEN (the default is FAIL_CLOSE)',
    ]);
  });

  it('requires exactly one of wasm or lua in a TrafficExtension', () => {
    const te = docs()[1];
    te.spec.lua = { inlineCode: 'function envoy_on_request(h) end' };
    expect(errorTexts(check(te).issues)).toEqual(['spec: exactly one of wasm or lua must be set']);
    delete te.spec.lua;
    te.spec.wasm.url = 'gopher://x';
    te.spec.selector = { matchLabels: { app: 'x' } };
    expect(errorTexts(check(te).issues).sort()).toEqual(['spec.wasm.url: url must have schema one of [http, https, file, oci] (got "gopher://x")', 'spec: only one of targetRefs or selector can be set (found selector and targetRefs)']);
  });

  it('warns about other kinds in a filter manifest, and fails documents without apiVersion/kind', () => {
    const r = check({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, { kind: 'WasmPlugin' }, 'text');
    expect(r.issues.filter((i) => i.severity === 'warning').map((i) => i.message)).toEqual(['v1 ConfigMap "x" is not checked (only WasmPlugin and TrafficExtension are)']);
    expect(errorTexts(r.issues)).toEqual([': every document needs apiVersion and kind (got apiVersion=undefined, kind="WasmPlugin")', ': a Kubernetes object (mapping) is expected']);
  });

  it('fails the wrong apiVersion for WasmPlugin', () => {
    const p = plugin();
    p.apiVersion = 'extensions.istio.io/v1beta1';
    expect(errorTexts(check(p).issues)).toEqual(['apiVersion: WasmPlugin must use apiVersion extensions.istio.io/v1alpha1, not extensions.istio.io/v1beta1']);
  });
});
