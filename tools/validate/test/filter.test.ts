import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { validateCompose } from '../src/compose';
import { validateDeployDir, validateFilterDir, type Report } from '../src/filter';
import { formatIssue } from '../src/issues';
import { loadFilterSchema } from '../src/schema';
import { renderReport } from '../src/run';
import { FIXTURES, copyFixture, errorTexts } from './helpers';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function demo(name = 'demo') {
  const f = copyFixture('demo', name);
  cleanups.push(f.cleanup);
  return f;
}
const lines = (r: Report) => r.issues.filter((i) => i.severity === 'error').map(formatIssue);

describe('schema.json', () => {
  it('compiles draft-07 and 2020-12, and rejects other dialects', () => {
    const base = { type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } };
    expect(loadFilterSchema('s.json', JSON.stringify(base)).schema?.dialect).toBe('draft-07');
    expect(loadFilterSchema('s.json', JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...base })).schema?.dialect).toBe('2020-12');
    expect(errorTexts(loadFilterSchema('s.json', JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#', ...base })).issues)).toEqual([
      '$schema: unsupported $schema "http://json-schema.org/draft-04/schema#": use http://json-schema.org/draft-07/schema# (project default) or https://json-schema.org/draft/2020-12/schema',
    ]);
  });

  it('requires closed objects and strict-mode-clean schemas', () => {
    const open = { type: 'object', additionalProperties: false, properties: { nested: { type: 'object', properties: { x: { type: 'integer' } } } } };
    expect(errorTexts(loadFilterSchema('s.json', JSON.stringify(open)).issues)).toEqual([
      'properties.nested: object schema at /properties/nested lists properties but does not set "additionalProperties": false, so unknown keys would pass',
    ]);
    const unknownKeyword = { type: 'object', additionalProperties: false, properties: { a: { type: 'string', minLenght: 1 } } };
    expect(errorTexts(loadFilterSchema('s.json', JSON.stringify(unknownKeyword)).issues)).toEqual([expect.stringContaining('schema does not compile in strict mode: strict mode: unknown keyword: "minLenght"')]);
  });

  it('names the JSON pointer of a violation', () => {
    const { schema } = loadFilterSchema(join(FIXTURES, 'demo/schema.json'));
    const issues = schema!.validate({ header: 'x', limits: { maxBytes: 0, extra: true } }, 'lab.json', [], 'lab.json');
    expect(errorTexts(issues).sort()).toEqual([
      'limits.extra: lab.json violates schema.json at /limits/extra: unknown field "extra"',
      'limits.maxBytes: lab.json violates schema.json at /limits/maxBytes: must be >= 1',
    ]);
  });
});

describe('validateFilterDir', () => {
  it('passes the good fixture with one line per file', () => {
    const f = demo();
    const r = validateFilterDir(f.dir, { display: (p) => p.slice(f.dir.length + 1) });
    expect(lines(r)).toEqual([]);
    expect(r.files.map((x) => `${x.file}: ${x.errors}`)).toEqual(['schema.json: 0', 'examples/lab.json: 0', 'envoy.yaml: 0', 'wasmplugin.yaml: 0']);
    const out = renderReport(r);
    expect(out.ok).toBe(true);
    expect(out.stdout).toHaveLength(4);
    expect(out.stdout[2]).toMatch(/^ok {3}envoy\.yaml +Envoy Bootstrap: 1 listener\(s\), 2 cluster\(s\), wasm filter demo \(dist\/demo\.wasm\), pluginConfig \(StringValue\) valid against schema\.json$/);
  });

  it('fails a pluginConfig that violates the schema in each of envoy.yaml, wasmplugin.yaml and lab.json, with file, line and pointer', () => {
    const f = demo();
    f.edit('envoy.yaml', '{ "header": "x-demo", "value": "1" }', '{ "header": "X Demo", "colour": "red" }');
    f.edit('wasmplugin.yaml', '    value: "1"\n', '    value: 1\n');
    f.edit('examples/lab.json', '"header": "x-demo", ', '');
    const r = validateFilterDir(f.dir, { display: (p) => p.slice(f.dir.length + 1) });
    const text = lines(r).join('\n');
    expect(text).toContain('error examples/lab.json lab.json violates schema.json at /: missing required field "header"');
    expect(text).toMatch(/envoy\.yaml:35:\d+ .*configuration\.value\.header: the plugin configuration \(StringValue\) violates schema\.json at \/header: must match pattern "\^\[a-z0-9-\]\+\$"/);
    expect(text).toMatch(/envoy\.yaml:35:\d+ .*configuration\.value\.colour: the plugin configuration \(StringValue\) violates schema\.json at \/colour: unknown field "colour"/);
    expect(text).toMatch(/wasmplugin\.yaml:29:5 spec\.pluginConfig\.value: spec\.pluginConfig violates schema\.json at \/value: must be string/);
  });

  it('fails a root_id / pluginName mismatch, a wrong code path and an image tag that is not the package version', () => {
    const f = demo();
    f.edit('envoy.yaml', 'root_id: demo', 'root_id: demo-root');
    f.edit('envoy.yaml', 'filename: dist/demo.wasm', 'filename: build/demo.wasm');
    f.edit('wasmplugin.yaml', 'url: oci://ghcr.io/meshwasm/demo:1.2.0\n  sha256', 'url: oci://ghcr.io/meshwasm/demo:1.1.0\n  sha256');
    const r = validateFilterDir(f.dir, { display: (p) => p.slice(f.dir.length + 1) });
    const text = lines(r).join('\n');
    expect(text).toContain('"build/demo.wasm" should be dist/demo.wasm (relative to the filter directory) or one of /etc/envoy/wasm/demo.wasm, /etc/envoy/demo.wasm');
    expect(text).toMatch(/wasmplugin\.yaml:13:3 spec\.pluginName: pluginName "demo" differs from envoy\.yaml's root_id "demo-root"/);
    expect(text).toMatch(/wasmplugin\.yaml:10:3 spec\.url: the image tag "1\.1\.0" is not the package version 1\.2\.0/);
    expect(text).toMatch(/wasmplugin\.yaml:\d+:\d+ \(document 2\) spec\.wasm\.pluginName: pluginName "demo" differs/);
  });

  it('accepts the documented container path and fails when no wasm filter loads the package', () => {
    const f = demo();
    f.edit('envoy.yaml', 'filename: dist/demo.wasm', 'filename: /etc/envoy/wasm/demo.wasm');
    expect(lines(validateFilterDir(f.dir))).toEqual([]);
    const g = demo('other');
    g.edit('wasmplugin.yaml', /demo:1\.2\.0/g, 'other:1.2.0');
    const r = validateFilterDir(g.dir, { display: (p) => p.slice(g.dir.length + 1) });
    // The only wasm filter is taken as the package's own; its code path names the wrong file.
    expect(lines(r)).toEqual([expect.stringContaining('"dist/demo.wasm" should be dist/other.wasm')]);
  });

  it('reports missing files and YAML syntax errors with positions', () => {
    const f = demo();
    f.write('envoy.yaml', 'static_resources:\n  clusters:\n    - name: a\n    name: b\n');
    f.write('wasmplugin.yaml', 'apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nkind: WasmPlugin\n');
    f.write('schema.json', '{ "type": "object", ');
    const r = validateFilterDir(f.dir, { display: (p) => p.slice(f.dir.length + 1) });
    const text = lines(r).join('\n');
    expect(text).toMatch(/error envoy\.yaml:4:\d+ YAML/);
    expect(text).toMatch(/error wasmplugin\.yaml:3:1 YAML DUPLICATE_KEY/);
    expect(text).toMatch(/error schema\.json (\(root\): )?not valid JSON/);
    const empty = copyFixture('deploy', 'empty');
    cleanups.push(empty.cleanup);
    const missing = validateFilterDir(join(empty.dir, 'envoy'));
    expect(missing.files.filter((x) => x.errors).length).toBe(5);
  });
});

describe('deploy', () => {
  it('validates envoy/, istio/ and docker-compose files, checking each plugin config against its package schema', () => {
    const r = validateDeployDir(join(FIXTURES, 'deploy'), { packagesDir: FIXTURES, display: (p) => p.slice(join(FIXTURES, 'deploy').length + 1) });
    expect(lines(r)).toEqual([]);
    expect(r.issues).toEqual([]);
    expect(r.files.map((x) => x.file)).toEqual(['envoy/demo.yaml', 'istio/mesh.yaml', 'docker-compose.yaml']);
  });

  it('fails bad deploy manifests', () => {
    const d = copyFixture('deploy');
    cleanups.push(d.cleanup);
    d.edit('istio/mesh.yaml', 'header: x-timing', 'header: 7');
    d.edit('envoy/demo.yaml', 'cluster: upstream, timeout', 'cluster: nowhere, timeout');
    d.edit('docker-compose.yaml', '"127.0.0.1:8080:8080"', '8080');
    d.edit('docker-compose.yaml', 'depends_on: [upstream]', 'depends_on: [db]\n    restart: sometimes');
    const r = validateDeployDir(d.dir, { packagesDir: FIXTURES, display: (p) => p.slice(d.dir.length + 1) });
    const text = lines(r).join('\n');
    expect(text).toMatch(/istio\/mesh\.yaml:15:5 \(document 2\) spec\.pluginConfig\.header: spec\.pluginConfig violates packages\/demo\/schema\.json at \/header: must be string/);
    expect(text).toContain('cluster "nowhere" is not defined in static_resources.clusters');
    expect(text).toMatch(/docker-compose\.yaml:18:9 services\.upstream\.ports\[0\]: port 8080 must be a string \(quote it: "8080"\)/);
    expect(text).toContain('services.envoy.depends_on: depends on service "db", which is not defined');
    expect(text).toContain('services.envoy.restart: must be one of "no", "always", "on-failure", "unless-stopped"');
  });

  it('checks compose structure: services need an image or a build, unknown keys fail', () => {
    const r = validateCompose({ services: { a: { command: 'x', imagee: 'y' } }, extra: 1 }, 'compose.yaml');
    const texts = errorTexts(r.issues);
    expect(texts).toEqual(expect.arrayContaining(['extra: unknown field "extra"', 'services.a.imagee: unknown field "imagee"', 'services.a: missing required field "image"']));
  });
});

describe('cli', () => {
  const tsx = join(__dirname, '../../../node_modules/.bin/tsx');
  const cli = join(__dirname, '../src/cli.ts');
  it('exits 0 with one ok line per file, and 1 with precise messages', () => {
    const ok = spawnSync(tsx, [cli, '.'], { cwd: join(FIXTURES, 'demo'), encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ok schema.json', 'ok examples/lab.json', 'ok envoy.yaml', 'ok wasmplugin.yaml']);
    const f = demo();
    f.edit('envoy.yaml', 'runtime: envoy.wasm.runtime.v8', 'runtim: envoy.wasm.runtime.v8');
    const bad = spawnSync(tsx, [cli, '.'], { cwd: f.dir, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^FAIL envoy\.yaml/m);
    expect(bad.stderr).toMatch(/error envoy\.yaml:39:27 static_resources\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\]\.typed_config\.config\.vm_config\.runtim: unknown field "runtim" in envoy\.extensions\.wasm\.v3\.VmConfig \(did you mean "runtime"\?\)/);
    expect(bad.stderr).toMatch(/1 error\(s\) in 1 file\(s\)/);
    const usage = spawnSync(tsx, [cli], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });
});
