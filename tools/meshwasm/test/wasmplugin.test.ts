// `meshwasm wasmplugin` through the real bin, in a throwaway workspace whose redact release is pinned
// the way release:version pins it (and whose header is not released).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadFilterSchema, validateIstioDocs } from '@meshwasm/validate';
import { fixtureWorkspace, lines, meshwasm, pinAndCommit, REPO, removeScratch } from './helpers';

let ws: string;
let sha: string;
let manifest: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
const MY = { rules: [{ marker: 'TOKEN=' }, { detector: 'email' }], mask: '***' };

afterAll(removeScratch);

beforeAll(() => {
  ws = fixtureWorkspace(['redact', 'header']);
  // The pinned digest: any 64-hex value the release could have written; here one derived from the sources.
  sha = createHash('sha256').update(readFileSync(join(ws, 'packages/redact/assembly/index.ts'))).digest('hex');
  pinAndCommit(ws, 'redact', sha);
  manifest = parse(readFileSync(join(ws, 'packages/redact/wasmplugin.yaml'), 'utf8'));
  writeFileSync(join(ws, 'my.json'), JSON.stringify(MY, null, 2));
});

/** tools/validate's verdict on one printed manifest: Istio schema + CEL rules + the filter's schema. */
function validate(yamlText: string, filter: string): string[] {
  const doc = parse(yamlText);
  const istio = validateIstioDocs([{ index: 0, value: doc }], 'out');
  const wasm = doc.kind === 'TrafficExtension' ? doc.spec.wasm : doc.spec;
  const schema = loadFilterSchema(join(REPO, 'packages', filter, 'schema.json')).schema!;
  return [...istio.issues, ...schema.validate(wasm.pluginConfig ?? {}, 'out', [], 'pluginConfig')].map((i) => `${i.severity} ${i.message}`);
}

describe('meshwasm wasmplugin (released filter)', () => {
  test('--config my.json --selector app=orders prints the release manifest with that config and workload, byte for byte', () => {
    const r = meshwasm(['wasmplugin', 'redact', '--config', 'my.json', '--selector', 'app=orders'], { cwd: ws });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = manifest.spec;
    const labels = Object.entries(manifest.metadata.labels).map(([k, v]) => `    ${k}: ${v}\n`).join('');
    const expected =
      'apiVersion: extensions.istio.io/v1alpha1\n' +
      'kind: WasmPlugin\n' +
      'metadata:\n' +
      '  name: redact\n' +
      '  labels:\n' +
      labels +
      'spec:\n' +
      '  selector:\n' +
      '    matchLabels:\n' +
      '      app: orders\n' +
      `  url: ${s.url}\n` +
      `  sha256: ${sha}\n` +
      `  imagePullPolicy: ${s.imagePullPolicy}\n` +
      `  pluginName: ${s.pluginName}\n` +
      `  phase: ${s.phase}\n` +
      `  failStrategy: ${s.failStrategy}\n` +
      '  pluginConfig:\n' +
      '    rules:\n' +
      '      - marker: TOKEN=\n' +
      '      - detector: email\n' +
      '    mask: "***"\n';
    expect(r.out).toBe(expected);
    expect(s.url).toBe('oci://ghcr.io/meshwasm/redact:0.1.0');
    expect(validate(r.out, 'redact')).toEqual([]);
  });

  test('no flags: exactly the spec of the release manifest (pluginConfig included)', () => {
    const r = meshwasm(['wasmplugin', 'redact'], { cwd: ws });
    expect(r.code).toBe(0);
    const out = parse(r.out);
    expect(out.spec).toEqual(manifest.spec);
    expect(out.metadata).toEqual(manifest.metadata);
    expect(validate(r.out, 'redact')).toEqual([]);
  });

  test('--kind TrafficExtension --target-ref --registry --phase --priority --fail-strategy --namespace --name', () => {
    const r = meshwasm(
      ['wasmplugin', 'redact', '--kind', 'TrafficExtension', '--target-ref', 'Gateway/ingress', '--registry', '127.0.0.1:5000/team/', '--phase', 'authz', '--priority=-7', '--fail-strategy', 'FAIL_OPEN', '--namespace', 'shop', '--name', 'redact-orders'],
      { cwd: ws },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = parse(r.out);
    expect(out.kind).toBe('TrafficExtension');
    expect(out.metadata).toEqual({ name: 'redact-orders', namespace: 'shop', labels: manifest.metadata.labels });
    expect(out.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' }]);
    expect(out.spec.selector).toBeUndefined();
    expect(out.spec.phase).toBe('AUTHZ');
    expect(out.spec.priority).toBe(-7);
    // the registry prefix changes, the digest and the tag stay
    expect(out.spec.wasm.url).toBe('oci://127.0.0.1:5000/team/redact:0.1.0');
    expect(out.spec.wasm.sha256).toBe(sha);
    expect(out.spec.wasm.failStrategy).toBe('FAIL_OPEN');
    expect(out.spec.wasm.pluginConfig).toEqual(manifest.spec.pluginConfig);
    expect(validate(r.out, 'redact')).toEqual([]);
    // TrafficExtension spells the default phase UNSPECIFIED, WasmPlugin UNSPECIFIED_PHASE
    expect(parse(meshwasm(['wasmplugin', 'redact', '--kind', 'TrafficExtension'], { cwd: ws }).out).spec.phase).toBe('UNSPECIFIED');
    expect(parse(meshwasm(['wasmplugin', 'redact', '--phase', 'UNSPECIFIED'], { cwd: ws }).out).spec.phase).toBe('UNSPECIFIED_PHASE');
  });

  test('a YAML config; from inside the filter folder the filter name may be left out', () => {
    writeFileSync(join(ws, 'packages/redact/mine.yaml'), 'rules:\n  - jsonField: password\n');
    const r = meshwasm(['wasmplugin', '--config', 'mine.yaml', '--target-ref', 'Service/orders'], { cwd: join(ws, 'packages/redact') });
    expect(r.err).toBe('');
    const out = parse(r.out);
    expect(out.spec.pluginConfig).toEqual({ rules: [{ jsonField: 'password' }] });
    expect(out.spec.targetRefs).toEqual([{ kind: 'Service', name: 'orders' }]);
    expect(validate(r.out, 'redact')).toEqual([]);
  });
});

describe('meshwasm wasmplugin: bad input is one line on stderr, exit 2, nothing on stdout', () => {
  const cases: [string, string[], (dir: string) => void, RegExp][] = [
    ['a config the schema refuses (typo in a rule)', ['--config', 'bad.json'], (d) => writeFileSync(join(d, 'bad.json'), '{"rules":[{"markr":"TOKEN="}]}'), /^bad\.json: pluginConfig violates redact's schema\.json at \/rules\/0\/markr: unknown field "markr"$/],
    ['a wrong value', ['--config', 'bad.json'], (d) => writeFileSync(join(d, 'bad.json'), '{"rules":[{"detector":"emale"}]}'), /at \/rules\/0\/detector: must be one of "email"/],
    ['two errors', ['--config', 'bad.json'], (d) => writeFileSync(join(d, 'bad.json'), '{"rules":[{"marker":"x"}],"mask":5,"extra":1}'), /\(and 1 more error\)$/],
    ['an empty config reads as {} (what Istio sends without a pluginConfig), which redact refuses', ['--config', 'empty.json'], (d) => writeFileSync(join(d, 'empty.json'), ' \n'), /^empty\.json: pluginConfig violates redact's schema\.json at \/: missing required field "rules"$/],
    ['not JSON', ['--config', 'bad.json'], (d) => writeFileSync(join(d, 'bad.json'), '{rules: 1'), /^bad\.json: not valid JSON: /],
    ['not an object', ['--config', 'bad.json'], (d) => writeFileSync(join(d, 'bad.json'), '[]'), /is a JSON object .* not an array$/],
    ['a missing file', ['--config', 'nope.json'], () => {}, /^--config nope\.json: cannot read nope\.json \(no such file\)$/],
    ['an unknown flag', ['--selctor', 'app=x'], () => {}, /^unknown option --selctor \(meshwasm wasmplugin --help lists the options\)$/],
    ['a flag without its value', ['--selector'], () => {}, /^--selector needs a value$/],
    ['a selector without =', ['--selector', 'app'], () => {}, /^--selector "app": expected key=value/],
    ['a wildcard label (Istio CEL rule)', ['--selector', 'app=*'], () => {}, /^invalid WasmPlugin spec\.selector\.matchLabels\.app: wildcard not allowed in label value match$/],
    ['selector and target-ref together', ['--selector', 'a=b', '--target-ref', 'Service/x'], () => {}, /exclude each other/],
    ['an unsupported target kind', ['--target-ref', 'Pod/x'], () => {}, /kind Pod is not one Istio supports/],
    ['a bad fail strategy', ['--fail-strategy', 'open'], () => {}, /^--fail-strategy must be one of FAIL_OPEN, FAIL_CLOSE, FAIL_RELOAD \(got "open"\)$/],
    ['a bad phase', ['--phase', 'LATE'], () => {}, /^--phase must be one of/],
    ['a bad priority', ['--priority', '1e3'], () => {}, /^--priority must be an integer/],
    ['a negative value without =', ['--priority', '-1'], () => {}, /^--priority: a value that starts with "-" is written --priority=VALUE \(e\.g\. --priority=-1\)$/],
    ['a bad kind', ['--kind', 'EnvoyFilter'], () => {}, /^--kind must be WasmPlugin or TrafficExtension/],
    ['a bad name (Istio schema)', ['--name', 'Orders_Redact'], () => {}, /^invalid WasmPlugin metadata\.name: "Orders_Redact" is not a valid name/],
    ['a bad namespace', ['--namespace', 'a.b'], () => {}, /metadata\.namespace: "a\.b" is not a valid namespace/],
    ['a registry with a scheme', ['--registry', 'https://ghcr.io/x'], () => {}, /^--registry=https:\/\/ghcr\.io\/x: give host\[:port\]\/namespace without a scheme/],
  ];
  test.each(cases)('%s', (_what, args, setup, message) => {
    setup(ws);
    const r = meshwasm(['wasmplugin', 'redact', ...args], { cwd: ws });
    expect(r.out).toBe('');
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err.endsWith('\n')).toBe(true);
    expect(r.err.startsWith('meshwasm wasmplugin: ')).toBe(true);
    expect(r.err.trim().slice('meshwasm wasmplugin: '.length)).toMatch(message);
    expect(r.code).toBe(2);
  });

  test('an unknown filter names the filters there are', () => {
    const r = meshwasm(['wasmplugin', 'redcat'], { cwd: ws });
    expect([r.code, r.out, r.err]).toEqual([2, '', 'meshwasm wasmplugin: unknown filter "redcat" (filters: header, redact)\n']);
  });
});

describe('meshwasm wasmplugin (filter not released)', () => {
  test('fails with one line saying so and what to do (exit 1), no YAML', () => {
    const r = meshwasm(['wasmplugin', 'header', '--selector', 'app=orders'], { cwd: ws });
    expect(r.out).toBe('');
    expect(r.err).toBe('meshwasm wasmplugin: header@0.1.0 is not released yet: packages/header/wasmplugin.yaml pins no sha256 (npm run release:version pins it; --unpinned prints the tag url without sha256)\n');
    expect(r.code).toBe(1);
  });

  test('a bad config is still bad input (exit 2), checked before the release', () => {
    writeFileSync(join(ws, 'bad-header.json'), '{"request":{"set":[{"name":"x"}]}}');
    const r = meshwasm(['wasmplugin', 'header', '--config', 'bad-header.json'], { cwd: ws });
    expect([r.code, r.out, r.err]).toEqual([2, '', `meshwasm wasmplugin: bad-header.json: pluginConfig violates header's schema.json at /request/set/0: missing required field "value"\n`]);
  });

  test('--unpinned: the tag url without sha256, labelled on the first line and on stderr', () => {
    const r = meshwasm(['wasmplugin', 'header', '--unpinned'], { cwd: ws });
    expect(r.code).toBe(0);
    const [first, ...rest] = r.out.split('\n');
    expect(first).toMatch(/^# UNPINNED: header@0\.1\.0 is not released yet/);
    const out = parse(rest.join('\n'));
    expect(out.spec.url).toBe('oci://ghcr.io/meshwasm/header:0.1.0');
    expect(out.spec.sha256).toBeUndefined();
    expect(r.err).toMatch(/^warning: header@0\.1\.0 is not released yet/);
    expect(validate(r.out, 'header')).toEqual([]);
  });

  test('a pin for another version than package.json is an incomplete release (exit 1)', () => {
    const other = fixtureWorkspace(['redact']);
    pinAndCommit(other, 'redact', 'c'.repeat(64), '0.0.9');
    const r = meshwasm(['wasmplugin', 'redact'], { cwd: other });
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^meshwasm wasmplugin: packages\/redact\/wasmplugin.yaml pins oci:\/\/ghcr.io\/meshwasm\/redact:0.0.9 with a sha256, but redact is version 0.1.0 \(package.json\): the release is incomplete; run npm run release:version\n$/);
    expect(r.code).toBe(1);
  });
});
