/**
 * Istio manifests: `extensions.istio.io/v1alpha1` WasmPlugin and TrafficExtension.
 *
 * Three layers:
 * 1. the WasmPlugin model schema shipped by `@kubernetes-models/istio` (generated from the Istio
 *    1.18 CRD; it is lax: no additionalProperties, no newer fields);
 * 2. our strict schema for the Istio 1.30 API (`STRICT_WASM_FIELDS` below, from istio/api
 *    `extensions/v1alpha1/wasm.proto` and `traffic_extension.proto`): unknown fields fail, as with
 *    `kubectl apply --validate=strict`;
 * 3. the CRD's `x-kubernetes-validations` CEL rules, which no JSON schema carries, re-implemented
 *    with Istio's own messages where Istio has one.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { Issue, PathSeg } from './issues';

export const ISTIO_EXTENSIONS = 'extensions.istio.io/v1alpha1';

export interface PluginInfo {
  doc: number;
  kind: 'WasmPlugin' | 'TrafficExtension';
  name?: string;
  namespace?: string;
  /** Path of the object holding url/pluginName/pluginConfig (`spec` or `spec.wasm`). */
  wasmPath: PathSeg[];
  pluginName?: string;
  url?: string;
  sha256?: string;
  pluginConfig?: unknown;
}

export interface IstioReport {
  issues: Issue[];
  plugins: PluginInfo[];
  /** Kinds of the documents, in order (for the summary line). */
  kinds: string[];
}

const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SHA256 = /^$|^[a-f0-9]{64}$/;
const URL_SCHEMES = ['', 'http', 'https', 'oci', 'file'];

const selectorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', maxProperties: 4096, additionalProperties: { type: 'string', maxLength: 63 } },
  },
};
const targetRefSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name'],
  properties: {
    group: { type: 'string', maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
    kind: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$' },
    name: { type: 'string', minLength: 1, maxLength: 253 },
    namespace: { type: 'string' },
  },
};
const matchSchema = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { type: 'string', enum: ['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'] },
      ports: {
        type: 'array',
        items: { type: 'object', additionalProperties: false, required: ['number'], properties: { number: { type: 'integer', minimum: 1, maximum: 65535 } } },
      },
    },
  },
};
/** The module fields shared by WasmPlugin.spec and TrafficExtension.spec.wasm (Istio 1.30). */
const STRICT_WASM_FIELDS = {
  url: { type: 'string', minLength: 1 },
  sha256: { type: 'string' }, // the pattern is checked in celWasmRules, with a clearer message
  imagePullPolicy: { type: 'string', enum: ['UNSPECIFIED_POLICY', 'IfNotPresent', 'Always'] },
  imagePullSecret: { type: 'string', minLength: 1, maxLength: 253 },
  verificationKey: { type: 'string' },
  pluginConfig: { type: 'object' },
  pluginName: { type: 'string', minLength: 1, maxLength: 256 },
  failStrategy: { type: 'string', enum: ['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD'] },
  vmConfig: {
    type: 'object',
    additionalProperties: false,
    properties: {
      env: {
        type: 'array',
        maxItems: 256,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 256 },
            value: { type: 'string', maxLength: 2048 },
            valueFrom: { type: 'string', enum: ['INLINE', 'HOST'] },
          },
        },
      },
    },
  },
  type: { type: 'string', enum: ['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK'] },
};
const placement = {
  selector: selectorSchema,
  targetRef: targetRefSchema,
  targetRefs: { type: 'array', maxItems: 16, items: targetRefSchema },
  priority: { type: ['integer', 'null'], minimum: -2147483648, maximum: 2147483647 },
  match: matchSchema,
};
const metadataSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const wasmPluginSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: ISTIO_EXTENSIONS },
    kind: { const: 'WasmPlugin' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { ...placement, ...STRICT_WASM_FIELDS, phase: { type: 'string', enum: ['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'] } },
    },
    status: { type: 'object' },
  },
};
const trafficExtensionSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: ISTIO_EXTENSIONS },
    kind: { const: 'TrafficExtension' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...placement,
        phase: { type: 'string', enum: ['UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'] },
        wasm: { type: 'object', additionalProperties: false, required: ['url'], properties: STRICT_WASM_FIELDS },
        lua: {
          type: 'object',
          additionalProperties: false,
          required: ['inlineCode'],
          properties: { inlineCode: { type: 'string', minLength: 1, maxLength: 65536 } },
        },
      },
    },
    status: { type: 'object' },
  },
};

let compiled: { wasmPlugin: ValidateFunction; trafficExtension: ValidateFunction } | undefined;
function strictValidators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    compiled = { wasmPlugin: ajv.compile(wasmPluginSchema), trafficExtension: ajv.compile(trafficExtensionSchema) };
  }
  return compiled;
}

interface ModelCtor {
  new (data: unknown): { validate(): void };
}
let modelCtor: ModelCtor | undefined;
/** The WasmPlugin model class of @kubernetes-models/istio (validates against its bundled schema). */
function wasmPluginModel(): ModelCtor {
  if (!modelCtor) {
    const req = createRequire(__filename);
    modelCtor = (req('@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin') as { WasmPlugin: ModelCtor }).WasmPlugin;
  }
  return modelCtor;
}

export function pointerToPath(pointer: string): PathSeg[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * Fields people write in a WasmPlugin spec that Istio does not have, and what they meant. The
 * course's Lab 5 writes `failOpen: true`; Envoy's own PluginConfig once had `fail_open`.
 */
const ISTIO_FIELD_HINTS: Record<string, string> = {
  failOpen: 'a WasmPlugin has no failOpen; write failStrategy: FAIL_OPEN (the default is FAIL_CLOSE)',
  fail_open: 'a WasmPlugin has no fail_open; write failStrategy: FAIL_OPEN (the default is FAIL_CLOSE)',
};

/** Turns ajv errors into issues under `base`; the message names the offending key. */
export function ajvIssues(errors: ErrorObject[] | null | undefined, file: string, base: PathSeg[], prefix = ''): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    let path = [...base, ...pointerToPath(e.instancePath)];
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const inSpec = (path.length === 1 && path[0] === 'spec') || (path.length === 2 && path[0] === 'spec' && path[1] === 'wasm');
      const hint = inSpec && Object.hasOwn(ISTIO_FIELD_HINTS, key) ? ISTIO_FIELD_HINTS[key] : undefined;
      path = [...path, key];
      message = `unknown field "${key}"${hint ? `: ${hint}` : ''}`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'const') {
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    } else if (e.keyword === 'required') {
      const key = (e.params as { missingProperty: string }).missingProperty;
      message = `missing required field "${key}"`;
    }
    const k = JSON.stringify(path) + message;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ severity: 'error', file, path, message: prefix + message });
  }
  return out;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export interface IstioOptions {
  /** Other Kubernetes kinds are accepted (lightly checked) instead of warned about. */
  allowOtherKinds?: boolean;
}

/** Validates the documents of a Kubernetes manifest stream. */
export function validateIstioDocs(docs: { index: number; value: unknown }[], file: string, opts: IstioOptions = {}): IstioReport {
  const issues: Issue[] = [];
  const plugins: PluginInfo[] = [];
  const kinds: string[] = [];
  for (const d of docs) {
    const value = obj(d.value);
    const push = (list: Issue[]) => {
      for (const i of list) issues.push({ ...i, doc: d.index });
    };
    const err = (path: PathSeg[], message: string) => push([{ severity: 'error', file, path, message }]);
    if (!value) {
      err([], 'a Kubernetes object (mapping) is expected');
      continue;
    }
    const kind = typeof value.kind === 'string' ? value.kind : undefined;
    const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : undefined;
    kinds.push(kind ?? '?');
    if (!kind || !apiVersion) {
      err([], `every document needs apiVersion and kind (got apiVersion=${JSON.stringify(value.apiVersion)}, kind=${JSON.stringify(value.kind)})`);
      continue;
    }
    if (kind !== 'WasmPlugin' && kind !== 'TrafficExtension') {
      const name = obj(value.metadata)?.name;
      if (typeof name !== 'string' || name === '') err(['metadata', 'name'], `${kind} needs metadata.name`);
      else if (!opts.allowOtherKinds) push([{ severity: 'warning', file, path: [], message: `${apiVersion} ${kind} "${name}" is not checked (only WasmPlugin and TrafficExtension are)` }]);
      continue;
    }
    if (apiVersion !== ISTIO_EXTENSIONS) {
      err(['apiVersion'], `${kind} must use apiVersion ${ISTIO_EXTENSIONS}, not ${apiVersion}`);
      continue;
    }
    const before = issues.length;
    // 1. The package's generated schema (WasmPlugin only).
    if (kind === 'WasmPlugin') {
      try {
        new (wasmPluginModel())(value).validate();
      } catch (e) {
        const errors = (e as { errors?: ErrorObject[] }).errors;
        if (errors) push(ajvIssues(errors, file, [], '(@kubernetes-models/istio schema) '));
        else err([], `schema validation failed: ${(e as Error).message}`);
      }
    }
    // 2. The strict 1.30 schema; drop what layer 1 already said about the same path.
    const validator = kind === 'WasmPlugin' ? strictValidators().wasmPlugin : strictValidators().trafficExtension;
    if (!validator(value)) {
      const already = new Set(issues.slice(before).map((i) => JSON.stringify(i.path)));
      push(ajvIssues(validator.errors, file, []).filter((i) => !already.has(JSON.stringify(i.path))));
    }
    // 3. Metadata and CEL rules.
    const meta = obj(value.metadata) ?? {};
    if (typeof meta.name === 'string' && !DNS1123_SUBDOMAIN.test(meta.name)) err(['metadata', 'name'], `"${meta.name}" is not a valid name (lower-case RFC 1123 subdomain)`);
    if (typeof meta.namespace === 'string' && !DNS1123_LABEL.test(meta.namespace)) err(['metadata', 'namespace'], `"${meta.namespace}" is not a valid namespace (RFC 1123 label)`);
    const spec = obj(value.spec) ?? {};
    push(celPlacementRules(spec, file, ['spec']));
    let wasm: Record<string, unknown> | undefined = spec;
    let wasmPath: PathSeg[] = ['spec'];
    if (kind === 'TrafficExtension') {
      const hasWasm = spec.wasm !== undefined;
      const hasLua = spec.lua !== undefined;
      if (hasWasm === hasLua) err(['spec'], 'exactly one of wasm or lua must be set');
      wasm = obj(spec.wasm);
      wasmPath = ['spec', 'wasm'];
    }
    if (wasm) push(celWasmRules(wasm, file, wasmPath));
    if (wasm) {
      plugins.push({
        doc: d.index,
        kind,
        name: typeof meta.name === 'string' ? meta.name : undefined,
        namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
        wasmPath,
        pluginName: typeof wasm.pluginName === 'string' ? wasm.pluginName : undefined,
        url: typeof wasm.url === 'string' ? wasm.url : undefined,
        sha256: typeof wasm.sha256 === 'string' ? wasm.sha256 : undefined,
        pluginConfig: wasm.pluginConfig,
      });
    }
  }
  return { issues, plugins, kinds };
}

/** selector / targetRef(s) rules of WasmPlugin and TrafficExtension. */
export function celPlacementRules(spec: Record<string, unknown>, file: string, base: PathSeg[]): Issue[] {
  const out: Issue[] = [];
  const err = (path: PathSeg[], message: string) => out.push({ severity: 'error', file, path: [...base, ...path], message });
  const present = ['selector', 'targetRef', 'targetRefs'].filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (present.length > 1) err([], `only one of targetRefs or selector can be set (found ${present.join(' and ')})`);
  const labels = obj(obj(spec.selector)?.matchLabels);
  for (const [k, v] of Object.entries(labels ?? {})) {
    const p = ['selector', 'matchLabels', k];
    if (k === '') err(p, 'key must not be empty');
    if (k.includes('*')) err(p, 'wildcard not allowed in label key match');
    if (typeof v === 'string' && v.includes('*')) err(p, 'wildcard not allowed in label value match');
  }
  const refs: [PathSeg[], unknown][] = [];
  if (spec.targetRef !== undefined) refs.push([['targetRef'], spec.targetRef]);
  if (Array.isArray(spec.targetRefs)) spec.targetRefs.forEach((r, i) => refs.push([['targetRefs', i], r]));
  for (const [p, r] of refs) {
    const ref = obj(r);
    if (!ref) continue;
    const group = typeof ref.group === 'string' ? ref.group : '';
    const kind = ref.kind;
    const supported =
      (kind === 'Gateway' && group === 'gateway.networking.k8s.io') ||
      (kind === 'GatewayClass' && group === 'gateway.networking.k8s.io') ||
      (kind === 'Service' && (group === '' || group === 'core')) ||
      (kind === 'ServiceEntry' && group === 'networking.istio.io');
    if (!supported) err(p, `support kinds are core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway and gateway.networking.k8s.io/GatewayClass (got ${group || 'core'}/${String(kind)})`);
    if (typeof ref.namespace === 'string' && ref.namespace !== '') err([...p, 'namespace'], 'cross namespace referencing is not currently supported');
  }
  return out;
}

/** url / sha256 / vmConfig rules of the wasm module fields. */
export function celWasmRules(wasm: Record<string, unknown>, file: string, base: PathSeg[]): Issue[] {
  const out: Issue[] = [];
  const err = (path: PathSeg[], message: string) => out.push({ severity: 'error', file, path: [...base, ...path], message });
  const warn = (path: PathSeg[], message: string) => out.push({ severity: 'warning', file, path: [...base, ...path], message });
  const url = typeof wasm.url === 'string' ? wasm.url : undefined;
  if (url !== undefined && url !== '') {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
    const scheme = m ? m[1].toLowerCase() : '';
    if (!URL_SCHEMES.includes(scheme)) {
      err(['url'], `url must have schema one of [http, https, file, oci] (got ${JSON.stringify(url)})`);
    } else if (scheme === 'file' && !url.slice('file://'.length).startsWith('/')) {
      err(['url'], `a file:// url needs an absolute path inside the proxy container (got ${JSON.stringify(url)})`);
    } else if (scheme === 'oci' || scheme === '') {
      const ref = scheme ? url.slice('oci://'.length) : url;
      const digest = /@sha256:([a-f0-9]{64})$/.exec(ref);
      if (digest && typeof wasm.sha256 === 'string' && wasm.sha256 !== '' && wasm.sha256 !== digest[1]) {
        err(['sha256'], `sha256 ${wasm.sha256} does not match the digest in the url (${digest[1]})`);
      }
      const tag = /:([\w][\w.-]{0,127})$/.exec(ref.split('/').slice(1).join('/'));
      if (!digest && tag?.[1] === 'latest' && wasm.imagePullPolicy === undefined && !wasm.sha256) {
        warn(['url'], 'the tag "latest" without sha256 makes imagePullPolicy default to Always (a re-pull on every change)');
      }
    }
  }
  if (typeof wasm.sha256 === 'string' && !SHA256.test(wasm.sha256)) err(['sha256'], `sha256 must be empty or 64 lower-case hex digits (pattern ^$|^[a-f0-9]{64}$), got ${JSON.stringify(wasm.sha256)}`);
  if (wasm.pluginConfig !== undefined && obj(wasm.pluginConfig) === undefined) err(['pluginConfig'], 'pluginConfig must be an object (google.protobuf.Struct)');
  const env = obj(wasm.vmConfig)?.env;
  if (Array.isArray(env)) {
    const names = new Map<string, number>();
    env.forEach((e, i) => {
      const entry = obj(e);
      if (!entry) return;
      if (entry.valueFrom === 'HOST' && entry.value !== undefined) err(['vmConfig', 'env', i, 'value'], 'value may only be set when valueFrom is INLINE');
      if (typeof entry.name === 'string') {
        const prev = names.get(entry.name);
        if (prev !== undefined) err(['vmConfig', 'env', i, 'name'], `duplicate env name "${entry.name}" (also at [${prev}])`);
        else names.set(entry.name, i);
      }
    });
  }
  return out;
}
