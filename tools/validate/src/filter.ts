/**
 * Validation of a filter package directory (`packages/<name>`) and of the `deploy/` tree.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { validateCompose } from './compose';
import { validateEnvoyBootstrap, type WasmFilterInfo } from './envoy';
import { validateIstioDocs, type PluginInfo } from './istio';
import type { Issue, PathSeg } from './issues';
import { loadFilterSchema, type FilterSchema } from './schema';
import { checkWasmPortability, DISABLED_FEATURES, type WasmCheckOptions } from './wasm';
import { isFilterDir, labPaths } from '@meshwasm/workspace';
import { parseYaml, positionIssues, type YamlFile } from './yaml';
import { parse as parseYamlText } from 'yaml';
import {
  crossCheckKind, shellAssignments, validateHostsToml, validateKindConfig, validateRegistryHosting,
  type HostsTomlReport, type KindConfigReport, type RegistryHostingReport,
} from './kind';

/** Container paths where a filter's .wasm may be mounted instead of `dist/<name>.wasm`. */
export const CONTAINER_WASM_DIRS = ['/etc/envoy/wasm', '/etc/envoy'];

export interface FileResult {
  file: string;
  kind: 'schema' | 'lab' | 'envoy' | 'istio' | 'compose' | 'package' | 'wasm' | 'kind';
  summary: string;
  errors: number;
  warnings: number;
}

export interface Report {
  files: FileResult[];
  issues: Issue[];
}

export interface RunOptions extends WasmCheckOptions {
  /** How file names appear in messages (default: relative to the cwd). */
  display?: (absPath: string) => string;
  /** Where the filter packages live (default: `<dir>/..` for a filter, `<dir>/../packages` for deploy). */
  packagesDir?: string;
}

const defaultDisplay = (abs: string) => relative(process.cwd(), abs) || '.';

class Collector {
  readonly files: FileResult[] = [];
  readonly issues: Issue[] = [];
  add(file: string, kind: FileResult['kind'], summary: string, issues: Issue[]): void {
    for (const i of issues) this.issues.push(i);
    this.files.push({
      file,
      kind,
      summary,
      errors: issues.filter((i) => i.severity === 'error').length,
      warnings: issues.filter((i) => i.severity === 'warning').length,
    });
  }
  report(): Report {
    return { files: this.files, issues: this.issues };
  }
}

function readYaml(abs: string, shown: string): YamlFile {
  return parseYaml(shown, readFileSync(abs, 'utf8'));
}

/** Looks a filter's schema up by package name, in `packagesDir/<name>/schema.json`. */
export function schemaResolver(packagesDir: string | undefined): (name: string) => FilterSchema | undefined {
  return (name) => {
    if (!packagesDir || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) return undefined;
    const f = join(packagesDir, name, 'schema.json');
    if (!existsSync(f)) return undefined;
    return loadFilterSchema(f).schema;
  };
}

/** The package a wasm filter loads: from its code file (`.../<name>.wasm`), else its root_id. */
export function packageOfWasmFilter(w: WasmFilterInfo): string | undefined {
  const file = w.filename ?? w.remoteUri;
  if (file) {
    const m = /([a-z0-9][a-z0-9._-]*)\.wasm$/.exec(file);
    if (m) return m[1];
  }
  return w.rootId || undefined;
}

/** The package a WasmPlugin loads: from its OCI repository / file name, else pluginName, else its name. */
export function packageOfPlugin(p: PluginInfo): string | undefined {
  if (p.url) {
    const ref = p.url.replace(/^[a-z]+:\/\//, '');
    const file = /([a-z0-9][a-z0-9._-]*)\.wasm$/.exec(ref);
    if (file) return file[1];
    const lastSeg = ref.split('@')[0].split('/').slice(1).pop();
    if (lastSeg) return lastSeg.split(':')[0];
  }
  return p.pluginName ?? p.name;
}

function ociTag(url: string): string | undefined {
  const ref = url.replace(/^oci:\/\//, '').split('@')[0];
  const last = ref.split('/').slice(1).pop() ?? '';
  const i = last.indexOf(':');
  return i >= 0 ? last.slice(i + 1) : undefined;
}

function validateConfig(schema: FilterSchema | undefined, config: unknown, file: string, path: PathSeg[], what: string, schemaName = 'schema.json'): Issue[] {
  if (!schema) return [];
  // An absent configuration reaches the filter as an empty one.
  if (config === undefined) return schema.validate({}, file, path, `${what} (absent, so the filter gets an empty config)`, schemaName);
  return schema.validate(config, file, path, what, schemaName);
}

/** Validates `packages/<name>`: package.json, schema.json, examples/lab.json, envoy.yaml, wasmplugin.yaml. */
export function validateFilterDir(dir: string, opts: RunOptions = {}): Report {
  const root = resolve(dir);
  const show = opts.display ?? defaultDisplay;
  const name = basename(root);
  const out = new Collector();
  const at = (f: string) => join(root, f);

  // package.json
  let version: string | undefined;
  {
    const f = at('package.json');
    const issues: Issue[] = [];
    if (!existsSync(f)) issues.push({ severity: 'error', file: show(f), path: [], message: 'missing: a filter package needs a package.json' });
    else {
      try {
        const pkg = JSON.parse(readFileSync(f, 'utf8')) as { version?: unknown };
        version = typeof pkg.version === 'string' ? pkg.version : undefined;
        if (!version) issues.push({ severity: 'error', file: show(f), path: ['version'], message: 'missing "version"' });
      } catch (e) {
        issues.push({ severity: 'error', file: show(f), path: [], message: `not valid JSON: ${(e as Error).message}` });
      }
    }
    if (issues.length) out.add(show(f), 'package', '', issues);
  }

  // schema.json
  let schema: FilterSchema | undefined;
  {
    const f = at('schema.json');
    if (!existsSync(f)) out.add(show(f), 'schema', '', [{ severity: 'error', file: show(f), path: [], message: 'missing: every filter needs the JSON Schema of its pluginConfig' }]);
    else {
      const r = loadFilterSchema(f, readFileSync(f, 'utf8'));
      const issues = r.issues.map((i) => ({ ...i, file: show(f) }));
      schema = issues.some((i) => i.severity === 'error') ? undefined : r.schema;
      out.add(show(f), 'schema', `JSON Schema ${r.schema?.dialect ?? '?'}, strict, closed objects`, issues);
    }
  }
  const configSchema = schema;

  // examples/lab.json
  {
    const f = labPaths({ dir: root }).config;
    const shown = show(f);
    if (!existsSync(f)) out.add(shown, 'lab', '', [{ severity: 'error', file: shown, path: [], message: 'missing: examples/lab.json reproduces the course lab' }]);
    else {
      let value: unknown;
      const issues: Issue[] = [];
      try {
        value = JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        issues.push({ severity: 'error', file: shown, path: [], message: `not valid JSON: ${(e as Error).message}` });
      }
      if (!issues.length) issues.push(...validateConfig(configSchema, value, shown, [], 'lab.json'));
      out.add(shown, 'lab', configSchema ? 'pluginConfig valid against schema.json' : 'pluginConfig (schema unavailable)', issues);
    }
  }

  // envoy.yaml
  let ownFilter: WasmFilterInfo | undefined;
  {
    const f = at('envoy.yaml');
    const shown = show(f);
    if (!existsSync(f)) out.add(shown, 'envoy', '', [{ severity: 'error', file: shown, path: [], message: 'missing: every filter ships an envoy.yaml bootstrap' }]);
    else {
      const y = readYaml(f, shown);
      const issues = [...y.issues];
      let summary = '';
      if (y.docs.length !== 1 && !y.issues.length) issues.push({ severity: 'error', file: shown, path: [], message: `an Envoy bootstrap is one YAML document, found ${y.docs.length}` });
      const doc = y.docs[0];
      if (doc) {
        const r = validateEnvoyBootstrap(doc.value, shown);
        issues.push(...r.issues);
        const extra: Issue[] = [];
        const mine = r.wasmFilters.filter((w) => packageOfWasmFilter(w) === name);
        ownFilter = mine[0] ?? (r.wasmFilters.length === 1 ? r.wasmFilters[0] : undefined);
        if (!ownFilter) {
          extra.push({ severity: 'error', file: shown, path: [], message: `no wasm filter loading ${name}.wasm (found ${r.wasmFilters.length} wasm filter(s))` });
        }
        for (const w of r.wasmFilters) {
          const own = w === ownFilter || mine.includes(w);
          if (own) {
            const codePath = [...w.path, 'vm_config', 'code'];
            if (w.filename === undefined) {
              extra.push({ severity: 'error', file: shown, path: codePath, message: `the filter must be loaded from a file: vm_config.code.local.filename: dist/${name}.wasm` });
            } else {
              const fn = posix.normalize(w.filename.replace(/\\/g, '/'));
              const okDist = fn === `dist/${name}.wasm` || fn.endsWith(`/dist/${name}.wasm`);
              const okContainer = CONTAINER_WASM_DIRS.some((d) => fn === `${d}/${name}.wasm`);
              if (!okDist && !okContainer) {
                extra.push({ severity: 'error', file: shown, path: [...codePath, 'local', 'filename'], message: `"${w.filename}" should be dist/${name}.wasm (relative to the filter directory) or one of ${CONTAINER_WASM_DIRS.map((d) => `${d}/${name}.wasm`).join(', ')}` });
              }
            }
            extra.push(...validateConfig(configSchema, w.configuration?.value, shown, w.configuration?.path ?? [...w.path, 'configuration'], `the plugin configuration (${w.configuration?.encoding ?? 'none'})`));
          } else {
            const pkg = packageOfWasmFilter(w);
            const other = schemaResolver(opts.packagesDir ?? dirname(root))(pkg ?? '');
            if (other && w.configuration) extra.push(...validateConfig(other, w.configuration.value, shown, w.configuration.path, `the configuration of wasm filter ${pkg}`, `../${pkg}/schema.json`));
          }
        }
        issues.push(...extra);
        positionIssues(issues, doc);
        const wasm = ownFilter ? `wasm filter ${ownFilter.rootId ?? ownFilter.name ?? '?'} (${ownFilter.filename ?? ownFilter.remoteUri ?? 'inline'})` : 'no wasm filter';
        summary = `Envoy Bootstrap: ${r.listeners.length} listener(s), ${r.clusters.length} cluster(s), ${wasm}${ownFilter?.configuration ? `, pluginConfig (${ownFilter.configuration.encoding}) valid against schema.json` : ''}`;
      }
      out.add(shown, 'envoy', summary, issues);
    }
  }

  // wasmplugin.yaml
  {
    const f = at('wasmplugin.yaml');
    const shown = show(f);
    if (!existsSync(f)) out.add(shown, 'istio', '', [{ severity: 'error', file: shown, path: [], message: 'missing: every filter ships an Istio wasmplugin.yaml' }]);
    else {
      const y = readYaml(f, shown);
      const r = validateIstioDocs(y.docs, shown);
      const issues = [...y.issues, ...r.issues];
      if (!r.plugins.length && !y.issues.length) issues.push({ severity: 'error', file: shown, path: [], message: 'no WasmPlugin or TrafficExtension document found' });
      for (const p of r.plugins) {
        const base = p.wasmPath;
        const more: Issue[] = [];
        more.push(...validateConfig(configSchema, p.pluginConfig, shown, [...base, 'pluginConfig'], `${base.join('.')}.pluginConfig`));
        if (ownFilter?.rootId && p.pluginName && ownFilter.rootId !== p.pluginName) {
          more.push({ severity: 'error', file: shown, path: [...base, 'pluginName'], message: `pluginName "${p.pluginName}" differs from envoy.yaml's root_id "${ownFilter.rootId}" (Istio passes pluginName as root_id)` });
        }
        if (p.url && /^oci:\/\//.test(p.url) && packageOfPlugin(p) === name && version) {
          const tag = ociTag(p.url);
          if (tag && tag !== version) more.push({ severity: 'error', file: shown, path: [...base, 'url'], message: `the image tag "${tag}" is not the package version ${version} (the release flow pins ${name}:${version})` });
        }
        for (const i of more) i.doc = p.doc;
        issues.push(...more);
      }
      for (const i of issues) {
        const doc = y.docs.find((d) => d.index === (i.doc ?? 0));
        if (doc) positionIssues([i], doc);
      }
      const kinds = r.plugins.map((p) => `${p.kind} ${p.name ?? '?'}${p.pluginName ? ` (pluginName ${p.pluginName})` : ''}`);
      out.add(shown, 'istio', `${kinds.join(', ') || 'no plugin'}; CEL rules ok; pluginConfig valid against schema.json`, issues);
    }
  }

  // dist/*.wasm: must load on every runtime Envoy can be built with
  {
    const dist = at('dist');
    const modules = listFiles(dist, /\.wasm$/);
    if (!modules.length && isFilterDir(root)) {
      const f = join(dist, `${name}.wasm`);
      out.add(show(f), 'wasm', '', [{ severity: 'error', file: show(f), path: [], message: 'missing: build the filter first (the validate target depends on build)' }]);
    }
    const without = DISABLED_FEATURES.map((f) => f.flag).join(' ');
    for (const f of modules) {
      const issues = checkWasmPortability(f, show(f), opts);
      const checked = !issues.some((i) => i.message.startsWith('wasm-validate not found'));
      out.add(show(f), 'wasm', checked ? `valid with wasm-validate ${without}` : 'not checked', issues);
    }
  }
  return out.report();
}

function listFiles(dir: string, re: RegExp): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Validates the deploy tree: `envoy/*.yaml`, `istio/*.yaml`, `docker-compose*.yaml`. */
export function validateDeployDir(dir: string, opts: RunOptions = {}): Report {
  const root = resolve(dir);
  const show = opts.display ?? defaultDisplay;
  const out = new Collector();
  const resolveSchema = schemaResolver(opts.packagesDir ?? join(root, '..', 'packages'));
  const envoyFiles = listFiles(join(root, 'envoy'), /\.ya?ml$/);
  const istioFiles = listFiles(join(root, 'istio'), /\.ya?ml$/);
  const composeFiles = listFiles(root, /^(docker-)?compose.*\.ya?ml$/);
  for (const f of envoyFiles) validateEnvoyFile(f, show(f), resolveSchema, out);
  for (const f of istioFiles) validateIstioFile(f, show(f), resolveSchema, out);
  for (const f of composeFiles) validateComposeFile(f, show(f), out);
  if (existsSync(join(root, 'kind'))) validateKindDir(join(root, 'kind'), show, out);
  if (!out.files.length) {
    out.add(show(root), 'package', '', [{ severity: 'error', file: show(root), path: [], message: 'no manifests found (expected envoy/*.yaml, istio/*.yaml or docker-compose*.yaml)' }]);
  }
  return out.report();
}

/** Validates one manifest file, recognised by its content. */
export function validateFile(file: string, opts: RunOptions = {}): Report {
  const abs = resolve(file);
  const show = opts.display ?? defaultDisplay;
  const out = new Collector();
  const resolveSchema = schemaResolver(opts.packagesDir ?? findPackagesDir(abs));
  const shown = show(abs);
  if (abs.endsWith('.json')) {
    out.add(shown, 'package', '', [{ severity: 'error', file: shown, path: [], message: 'a JSON file is checked as part of its filter directory; pass the directory' }]);
    return out.report();
  }
  const y = readYaml(abs, shown);
  const first = y.docs[0]?.value as Record<string, unknown> | undefined;
  if (first && typeof first === 'object' && 'services' in first && !('apiVersion' in first)) validateComposeFile(abs, shown, out);
  else if (first && typeof first === 'object' && 'apiVersion' in first) validateIstioFile(abs, shown, resolveSchema, out);
  else validateEnvoyFile(abs, shown, resolveSchema, out);
  return out.report();
}

function findPackagesDir(abs: string): string | undefined {
  let d = dirname(abs);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'packages'))) return join(d, 'packages');
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return undefined;
}

function validateEnvoyFile(abs: string, shown: string, resolveSchema: (n: string) => FilterSchema | undefined, out: Collector): void {
  const y = readYaml(abs, shown);
  const issues = [...y.issues];
  if (y.docs.length !== 1 && !y.issues.length) issues.push({ severity: 'error', file: shown, path: [], message: `an Envoy bootstrap is one YAML document, found ${y.docs.length}` });
  let summary = '';
  const doc = y.docs[0];
  if (doc) {
    const r = validateEnvoyBootstrap(doc.value, shown);
    issues.push(...r.issues);
    const names: string[] = [];
    for (const w of r.wasmFilters) {
      const pkg = packageOfWasmFilter(w);
      const schema = resolveSchema(pkg ?? '');
      names.push(`${pkg ?? '?'}${schema ? '' : ' (no schema)'}`);
      if (!schema) {
        issues.push({ severity: 'warning', file: shown, path: w.path, message: `no packages/${pkg ?? '?'}/schema.json for this wasm filter: its configuration is not checked` });
        continue;
      }
      if (w.configuration) issues.push(...schema.validate(w.configuration.value, shown, w.configuration.path, `the configuration of wasm filter ${pkg}`, `packages/${pkg}/schema.json`));
    }
    positionIssues(issues, doc);
    summary = `Envoy Bootstrap: ${r.listeners.length} listener(s), ${r.clusters.length} cluster(s), wasm filters: ${names.join(', ') || 'none'}`;
  }
  out.add(shown, 'envoy', summary, issues);
}

function validateIstioFile(abs: string, shown: string, resolveSchema: (n: string) => FilterSchema | undefined, out: Collector): void {
  const y = readYaml(abs, shown);
  const r = validateIstioDocs(y.docs, shown, { allowOtherKinds: true });
  const issues = [...y.issues, ...r.issues];
  for (const p of r.plugins) {
    const pkg = packageOfPlugin(p);
    const schema = resolveSchema(pkg ?? '');
    if (!schema) {
      issues.push({ severity: 'warning', file: shown, path: p.wasmPath, doc: p.doc, message: `no packages/${pkg ?? '?'}/schema.json for this plugin: its pluginConfig is not checked` });
      continue;
    }
    const path = [...p.wasmPath, 'pluginConfig'];
    const found = validateConfig(schema, p.pluginConfig, shown, path, `${p.wasmPath.join('.')}.pluginConfig`, `packages/${pkg}/schema.json`).map((i) => ({ ...i, doc: p.doc }));
    issues.push(...found);
  }
  for (const i of issues) {
    const doc = y.docs.find((d) => d.index === (i.doc ?? 0));
    if (doc) positionIssues([i], doc);
  }
  const counts = new Map<string, number>();
  for (const k of r.kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  out.add(shown, 'istio', `${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no documents'}`, issues);
}

/**
 * deploy/kind/: kind-config.yaml, and when registry.sh is there, the local-registry pattern
 * (hosts.toml, local-registry-hosting.yaml) agreeing with it.
 */
function validateKindDir(dir: string, show: (f: string) => string, out: Collector): void {
  const file = (n: string): string => join(dir, n);
  const shown = { config: show(file('kind-config.yaml')), hosts: show(file('hosts.toml')), hosting: show(file('local-registry-hosting.yaml')), script: show(file('registry.sh')) };
  let config: KindConfigReport | undefined;
  if (existsSync(file('kind-config.yaml'))) {
    const y = readYaml(file('kind-config.yaml'), shown.config);
    const doc = y.docs[0];
    const issues = [...y.issues];
    if (doc) {
      config = validateKindConfig(doc.value, shown.config);
      issues.push(...config.issues);
      positionIssues(issues, doc);
    }
    out.add(shown.config, 'kind', `kind Cluster: ${config?.nodes ?? 0} node(s)${config?.configPath ? `, containerd hosts in ${config.configPath}` : ''}`, issues);
  }
  if (!existsSync(file('registry.sh'))) return;
  const script = shellAssignments(readFileSync(file('registry.sh'), 'utf8'));
  let hosts: HostsTomlReport | undefined;
  if (existsSync(file('hosts.toml'))) {
    hosts = validateHostsToml(readFileSync(file('hosts.toml'), 'utf8'), shown.hosts);
    out.add(shown.hosts, 'kind', `containerd mirror: ${hosts.server ?? '?'} -> ${hosts.hosts.join(', ') || '?'}`, hosts.issues);
  } else out.add(shown.hosts, 'kind', '', [{ severity: 'error', file: shown.hosts, path: [], message: 'missing: registry.sh copies it into every node' }]);
  let hosting: RegistryHostingReport | undefined;
  if (existsSync(file('local-registry-hosting.yaml'))) {
    const y = readYaml(file('local-registry-hosting.yaml'), shown.hosting);
    const doc = y.docs[0];
    const issues = [...y.issues];
    if (doc) {
      hosting = validateRegistryHosting(doc.value, shown.hosting, (t) => parseYamlText(t));
      issues.push(...hosting.issues);
      positionIssues(issues, doc);
    }
    out.add(shown.hosting, 'kind', `ConfigMap kube-public/local-registry-hosting: push to ${hosting?.host ?? '?'}, in the cluster ${hosting?.fromClusterNetwork ?? '?'}`, issues);
  } else out.add(shown.hosting, 'kind', '', [{ severity: 'error', file: shown.hosting, path: [], message: 'missing: registry.sh applies it' }]);
  const cross = crossCheckKind({ config, hosts, hosting, script }, shown);
  out.add(shown.script, 'kind', cross.length ? '' : `registry ${script.REGISTRY_NAME}:5000 on the kind network, 127.0.0.1:${script.REGISTRY_PORT} on the host; the files above agree`, cross);
}

function validateComposeFile(abs: string, shown: string, out: Collector): void {
  const y = readYaml(abs, shown);
  const issues = [...y.issues];
  let summary = '';
  const doc = y.docs[0];
  if (doc) {
    const r = validateCompose(doc.value, shown);
    issues.push(...r.issues);
    positionIssues(issues, doc);
    summary = `compose: ${r.services.length} service(s) (${r.services.join(', ')})`;
  }
  out.add(shown, 'compose', summary, issues);
}
