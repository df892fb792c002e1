/**
 * `meshwasm wasmplugin <filter>`: the filter's released Istio manifest, made for your workload and
 * your config.
 *
 * Every field starts from the filter's `wasmplugin.yaml` (the manifest the release flow pins) and
 * each flag replaces one of them: `pluginConfig` (--config), the placement (--selector or
 * --target-ref), the registry in `url` (--registry, same digest), and so on. `url` and `sha256` are
 * the release's pins; a filter whose wasmplugin.yaml pins no sha256 is not released yet.
 * The result is checked with tools/validate (Istio schema, CEL rules, the filter's schema.json)
 * before a byte of it is printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { normaliseRegistry, ociRegistryPrefix, ociRepositoryName, readPins, type FilterInfo } from '@meshwasm/release';
import { formatPath, loadFilterSchema, validateIstioDocs, type Issue } from '@meshwasm/validate';
import { failure, shown, usageError } from './context';

export type Kind = 'WasmPlugin' | 'TrafficExtension';
export const KINDS: Kind[] = ['WasmPlugin', 'TrafficExtension'];
export const FAIL_STRATEGIES = ['FAIL_OPEN', 'FAIL_CLOSE', 'FAIL_RELOAD'];
/** --phase values; WasmPlugin spells the default UNSPECIFIED_PHASE, TrafficExtension UNSPECIFIED. */
export const PHASES = ['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'];

export interface WasmPluginOptions {
  /** Path of a JSON (or .yaml/.yml) pluginConfig, relative to `cwd`. */
  config?: string;
  selector: string[];
  targetRef: string[];
  namespace?: string;
  name?: string;
  failStrategy?: string;
  phase?: string;
  priority?: string;
  registry?: string;
  kind?: string;
  /** Print the tag url without sha256 when the filter is not released yet (labelled). */
  unpinned?: boolean;
  cwd: string;
}

export interface WasmPluginOutput {
  yaml: string;
  /** Warnings for stderr (the YAML itself stays clean). */
  warnings: string[];
}

/** The module fields (WasmPlugin.spec / TrafficExtension.spec.wasm); the rest of a spec is placement. */
const MODULE_FIELDS = new Set(['url', 'sha256', 'imagePullPolicy', 'imagePullSecret', 'verificationKey', 'pluginConfig', 'pluginName', 'failStrategy', 'vmConfig', 'type']);
const TARGET_GROUPS: Record<string, string> = {
  Gateway: 'gateway.networking.k8s.io',
  GatewayClass: 'gateway.networking.k8s.io',
  ServiceEntry: 'networking.istio.io',
  Service: '',
};

/** A spec as an ordered list of fields, so that the output keeps the release manifest's order. */
class Fields {
  constructor(readonly entries: [string, unknown][]) {}
  get(k: string): unknown {
    return this.entries.find(([x]) => x === k)?.[1];
  }
  has(k: string): boolean {
    return this.entries.some(([x]) => x === k);
  }
  /** Replaces in place, else inserts after `after` (when present), else appends. */
  set(k: string, v: unknown, after?: string): void {
    const i = this.entries.findIndex(([x]) => x === k);
    if (i >= 0) {
      this.entries[i] = [k, v];
      return;
    }
    const j = after === undefined ? -1 : this.entries.findIndex(([x]) => x === after);
    if (j >= 0) this.entries.splice(j + 1, 0, [k, v]);
    else this.entries.push([k, v]);
  }
  delete(k: string): void {
    const i = this.entries.findIndex(([x]) => x === k);
    if (i >= 0) this.entries.splice(i, 1);
  }
}

export interface Release {
  file: string;
  kind: Kind;
  metadata: Record<string, unknown>;
  /** Flattened spec: TrafficExtension's `wasm` fields are lifted to the spec's level. */
  spec: Fields;
  url?: string;
  sha256?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the filter's release manifest: its first WasmPlugin/TrafficExtension document and its pins. */
export function readRelease(f: FilterInfo): Release {
  const file = join(f.dir, 'wasmplugin.yaml');
  if (!existsSync(file)) throw failure(`${f.root}/wasmplugin.yaml does not exist: ${f.name} has no release manifest`);
  let docs;
  let pins;
  try {
    docs = parseAllDocuments(readFileSync(file, 'utf8'));
    pins = readPins(file);
  } catch (e) {
    throw failure(`${f.root}/wasmplugin.yaml: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length) throw failure(`${f.root}/wasmplugin.yaml: ${d.errors[0].message.split('\n')[0]}`);
    const v = d.toJS() as unknown;
    if (!isObject(v) || (v.kind !== 'WasmPlugin' && v.kind !== 'TrafficExtension')) continue;
    const kind = v.kind as Kind;
    const spec = isObject(v.spec) ? v.spec : {};
    const entries: [string, unknown][] = [];
    for (const [k, val] of Object.entries(spec)) {
      if (kind === 'TrafficExtension' && k === 'wasm' && isObject(val)) entries.push(...Object.entries(val));
      else entries.push([k, val]);
    }
    const pin = pins[0] ?? { kind };
    return { file, kind, metadata: isObject(v.metadata) ? v.metadata : {}, spec: new Fields(entries), url: pin.url, sha256: pin.sha256 };
  }
  throw failure(`${f.root}/wasmplugin.yaml has no WasmPlugin or TrafficExtension document`);
}

/** Is this release pinned, and to what? `undefined` when the filter is not released yet. */
export function pinnedRelease(f: FilterInfo, r: Release): { url: string; sha256: string } | undefined {
  if (!r.sha256) return undefined;
  const url = r.url ?? '';
  if (ociRepositoryName(url) !== f.name || !url.endsWith(`:${f.version}`)) {
    throw failure(
      `${f.root}/wasmplugin.yaml pins ${url || '(no url)'} with a sha256, but ${f.name} is version ${f.version} (package.json): the release is incomplete; run npm run release:version`,
    );
  }
  return { url, sha256: r.sha256 };
}

/**
 * Reads a pluginConfig file (JSON; YAML for .yaml/.yml): it must hold one object. `flag` names it
 * in errors. An empty or blank file is `{}`, as the filters read an empty pluginConfig (what Istio
 * sends for a WasmPlugin without one): the filter's schema then accepts it (http-timing) or names
 * the missing field (the others).
 */
export function readConfig(file: string, cwd: string, flag = `--config ${file}`): { value: Record<string, unknown>; label: string } {
  const abs = resolve(cwd, file);
  const label = shown(cwd, abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError(`${flag}: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (e as Error).message})`);
  }
  let value: unknown;
  const yamlFile = ['.yaml', '.yml'].includes(extname(abs).toLowerCase());
  if (text.trim() === '') return { value: {}, label };
  try {
    value = yamlFile ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw usageError(`${label}: not valid ${yamlFile ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObject(value)) throw usageError(`${label}: a pluginConfig is a JSON object ({…}), not ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  return { value, label };
}

function parseSelector(items: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const s of items) {
    const i = s.indexOf('=');
    if (i <= 0) throw usageError(`--selector ${JSON.stringify(s)}: expected key=value, e.g. --selector app=orders`);
    const k = s.slice(0, i);
    if (k in labels) throw usageError(`--selector ${k} is given twice`);
    labels[k] = s.slice(i + 1);
  }
  return labels;
}

function parseTargetRefs(items: string[]): Record<string, string>[] {
  return items.map((s) => {
    const i = s.indexOf('/');
    if (i <= 0 || i === s.length - 1) throw usageError(`--target-ref ${JSON.stringify(s)}: expected Kind/name, e.g. --target-ref Gateway/ingress or --target-ref Service/orders`);
    const kind = s.slice(0, i);
    const name = s.slice(i + 1);
    const group = TARGET_GROUPS[kind];
    if (group === undefined) throw usageError(`--target-ref ${s}: kind ${kind} is not one Istio supports (Gateway, GatewayClass, Service, ServiceEntry)`);
    const ref: Record<string, string> = group ? { group, kind, name } : { kind, name };
    return ref;
  });
}

function oneOf(flag: string, value: string | undefined, allowed: string[]): string | undefined {
  if (value === undefined) return undefined;
  const v = value.toUpperCase();
  if (!allowed.includes(v)) throw usageError(`${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  return v;
}

/** One line for a list of issues: the first error, and how many more there are. */
export function oneLine(issues: Issue[]): string {
  const errors = issues.filter((i) => i.severity === 'error');
  // The deepest error says the most (a oneOf that fails reports every alternative at the parent's
  // path); at equal depth, a wrong value says more than "unknown field" or "missing field".
  const generic = (i: Issue) => /unknown field|missing required field|must match exactly one schema/.test(i.message);
  const first = [...errors].sort((a, b) => b.path.length - a.path.length || Number(generic(a)) - Number(generic(b)))[0];
  const prefixOf = (p: Issue['path'], q: Issue['path']) => p.length <= q.length && p.every((s, k) => s === q[k]);
  const others = errors.filter((i) => i !== first && !prefixOf(i.path, first.path)).length;
  const where = first.path.length && !first.message.includes(' at /') ? ` ${formatPath(first.path)}:` : ':';
  const more = others ? ` (and ${others} more error${others > 1 ? 's' : ''})` : '';
  return `${first.file}${where} ${first.message}${more}`;
}

/** Checks a pluginConfig against the filter's schema.json (tools/validate); a violation is a usage error. */
export function checkConfig(f: FilterInfo, value: unknown, label: string): void {
  const schemaFile = join(f.dir, 'schema.json');
  if (!existsSync(schemaFile)) throw failure(`${f.root}/schema.json does not exist: the config of ${f.name} cannot be checked`);
  const loaded = loadFilterSchema(schemaFile);
  if (!loaded.schema) throw failure(`${f.root}/schema.json is broken: ${oneLine(loaded.issues)}`);
  const issues = loaded.schema.validate(value, label, [], 'pluginConfig', `${f.name}'s schema.json`);
  if (issues.some((i) => i.severity === 'error')) throw usageError(oneLine(issues));
}

const phaseFor = (kind: Kind, phase: string) => (phase === 'UNSPECIFIED' || phase === 'UNSPECIFIED_PHASE' ? (kind === 'WasmPlugin' ? 'UNSPECIFIED_PHASE' : 'UNSPECIFIED') : phase);

/** Builds, validates and renders the manifest. Throws a CliError (one line) on anything wrong. */
export function wasmPlugin(f: FilterInfo, opts: WasmPluginOptions): WasmPluginOutput {
  // Flags first: a bad flag is reported before anything is read.
  const kind = (opts.kind === undefined ? undefined : KINDS.find((k) => k.toLowerCase() === opts.kind!.toLowerCase())) as Kind | undefined;
  if (opts.kind !== undefined && !kind) throw usageError(`--kind must be WasmPlugin or TrafficExtension (got ${JSON.stringify(opts.kind)})`);
  const failStrategy = oneOf('--fail-strategy', opts.failStrategy, FAIL_STRATEGIES);
  const phase = oneOf('--phase', opts.phase === 'UNSPECIFIED_PHASE' ? 'UNSPECIFIED' : opts.phase, PHASES);
  let priority: number | undefined;
  if (opts.priority !== undefined) {
    priority = Number(opts.priority);
    if (!/^-?\d+$/.test(opts.priority) || priority < -2147483648 || priority > 2147483647) throw usageError(`--priority must be an integer (int32), got ${JSON.stringify(opts.priority)}`);
  }
  if (opts.selector.length && opts.targetRef.length) throw usageError('--selector and --target-ref exclude each other (Istio: only one of targetRefs or selector can be set)');
  const selector = opts.selector.length ? parseSelector(opts.selector) : undefined;
  const targetRefs = opts.targetRef.length ? parseTargetRefs(opts.targetRef) : undefined;
  let registry: string | undefined;
  if (opts.registry !== undefined) {
    try {
      registry = normaliseRegistry(opts.registry, '--registry');
    } catch (e) {
      throw usageError((e as Error).message);
    }
  }
  const config = opts.config === undefined ? undefined : readConfig(opts.config, opts.cwd);
  // Your config is checked before the release is looked at: a bad config is always exit 2.
  if (config) checkConfig(f, config.value, config.label);

  // The release.
  const release = readRelease(f);
  const pin = pinnedRelease(f, release);
  const warnings: string[] = [];
  let label: string | undefined;
  if (!pin) {
    const why = `${f.name}@${f.version} is not released yet: ${f.root}/wasmplugin.yaml pins no sha256`;
    if (!opts.unpinned) throw failure(`${why} (npm run release:version pins it; --unpinned prints the tag url without sha256)`);
    label = `# UNPINNED: ${why}. Without sha256, Istio runs whatever the tag points to when it pulls.`;
    warnings.push(`warning: ${why}; the url is a tag, not a digest`);
  }
  const spec = release.spec;
  const baseUrl = pin?.url ?? release.url ?? '';
  const prefix = registry ?? ociRegistryPrefix(baseUrl);
  if (!prefix) throw failure(`${f.root}/wasmplugin.yaml: url ${JSON.stringify(baseUrl)} is not an oci:// url naming a registry`);
  spec.set('url', `oci://${prefix}/${f.name}:${f.version}`);
  if (pin) spec.set('sha256', pin.sha256, 'url');
  else spec.delete('sha256');
  if (selector) {
    spec.set('selector', { matchLabels: selector });
    spec.delete('targetRef');
    spec.delete('targetRefs');
  }
  if (targetRefs) {
    spec.set('targetRefs', targetRefs, spec.has('selector') ? 'selector' : undefined);
    spec.delete('selector');
    spec.delete('targetRef');
  }
  const outKind: Kind = kind ?? release.kind;
  if (phase) spec.set('phase', phase, 'pluginName');
  if (spec.has('phase')) spec.set('phase', phaseFor(outKind, String(spec.get('phase'))));
  if (priority !== undefined) spec.set('priority', priority, spec.has('phase') ? 'phase' : undefined);
  if (failStrategy) spec.set('failStrategy', failStrategy, 'pluginName');
  if (config) spec.set('pluginConfig', config.value);

  const metadata: Record<string, unknown> = { name: opts.name ?? release.metadata.name ?? f.name };
  const namespace = opts.namespace ?? release.metadata.namespace;
  if (namespace !== undefined) metadata.namespace = namespace;
  for (const [k, v] of Object.entries(release.metadata)) if (!(k in metadata) && k !== 'namespace') metadata[k] = v;

  let outSpec: Record<string, unknown>;
  if (outKind === 'WasmPlugin') outSpec = Object.fromEntries(spec.entries);
  else {
    const placement = spec.entries.filter(([k]) => !MODULE_FIELDS.has(k));
    const module = spec.entries.filter(([k]) => MODULE_FIELDS.has(k));
    outSpec = { ...Object.fromEntries(placement), wasm: Object.fromEntries(module) };
  }
  const manifest = { apiVersion: 'extensions.istio.io/v1alpha1', kind: outKind, metadata, spec: outSpec };

  // Validation: the config against the filter's schema, then the manifest against Istio's rules.
  const pluginConfig = outKind === 'WasmPlugin' ? outSpec.pluginConfig : (outSpec.wasm as Record<string, unknown>).pluginConfig;
  if (!config) checkConfig(f, pluginConfig ?? {}, `${f.root}/wasmplugin.yaml (its pluginConfig)`);
  const istio = validateIstioDocs([{ index: 0, value: manifest }], `invalid ${outKind}`);
  if (istio.issues.some((i) => i.severity === 'error')) throw usageError(oneLine(istio.issues));
  for (const w of istio.issues) warnings.push(`warning: ${w.path.length ? formatPath(w.path) + ': ' : ''}${w.message}`);

  const body = stringify(manifest, { lineWidth: 0 });
  return { yaml: label ? `${label}\n${body}` : body, warnings };
}
