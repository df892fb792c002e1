/**
 * envoy.yaml: decoded as `envoy.config.bootstrap.v3.Bootstrap` against Envoy's own protos, then
 * checked for the cross-references a real Envoy rejects at startup.
 */
import { isIP } from 'node:net';
import { loadEnvoyProtos } from './proto';
import { ProtoJsonChecker, type Visit } from './protojson';
import type { Issue, PathSeg } from './issues';

export const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const WASM_HTTP = 'envoy.extensions.filters.http.wasm.v3.Wasm';
const WASM_NETWORK = 'envoy.extensions.filters.network.wasm.v3.Wasm';

/** One wasm filter found in a bootstrap. */
export interface WasmFilterInfo {
  /** Path of the `envoy.extensions.wasm.v3.PluginConfig` (the filter's `config`). */
  path: PathSeg[];
  kind: 'http' | 'network' | 'other';
  name?: string;
  rootId?: string;
  vmId?: string;
  /** `vm_config.code.local.filename`, when the code is a local file. */
  filename?: string;
  /** `vm_config.code.remote.http_uri.uri`, when the code is remote. */
  remoteUri?: string;
  /** The plugin configuration passed to proxy_on_configure, decoded as JSON, when present. */
  configuration?: { path: PathSeg[]; value: unknown; encoding: 'StringValue' | 'Struct' | 'BytesValue' };
}

export interface EnvoyReport {
  issues: Issue[];
  listeners: string[];
  clusters: string[];
  wasmFilters: WasmFilterInfo[];
  /** Names of the clusters referenced anywhere (routes, gRPC services, HTTP URIs). */
  clusterRefs: { name: string; path: PathSeg[] }[];
  /** True when clusters may also come from CDS (references are then only warned about). */
  dynamicClusters: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function typeOfAny(v: unknown): string | undefined {
  const url = str(obj(v)?.['@type']);
  return url ? url.slice(url.lastIndexOf('/') + 1) : undefined;
}

/** Validates a decoded bootstrap document (the YAML/JSON value). */
export function validateEnvoyBootstrap(value: unknown, file: string): EnvoyReport {
  const protos = loadEnvoyProtos();
  const checker = new ProtoJsonChecker(protos, file);
  const boot = obj(checker.check(BOOTSTRAP, value, [])) ?? {};
  const issues = checker.issues;
  const err = (path: PathSeg[], message: string) => issues.push({ severity: 'error', file, path, message });
  const warn = (path: PathSeg[], message: string) => issues.push({ severity: 'warning', file, path, message });

  const statics = obj(boot.static_resources) ?? {};
  const dyn = obj(boot.dynamic_resources) ?? {};
  const dynamicClusters = dyn.cds_config !== undefined || dyn.cds_resources_locator !== undefined;

  // Unique names, and one listener per address.
  const listeners = (Array.isArray(statics.listeners) ? statics.listeners : []).map(obj);
  const clusters = (Array.isArray(statics.clusters) ? statics.clusters : []).map(obj);
  const listenerNames = uniqueNames(listeners, ['static_resources', 'listeners'], 'listener', err);
  const clusterNames = uniqueNames(clusters, ['static_resources', 'clusters'], 'cluster', err);
  const bound = new Map<string, number>();
  listeners.forEach((l, i) => {
    const sa = obj(obj(l?.address)?.socket_address);
    if (!sa || sa.port_value === undefined || sa.port_value === 0) return;
    const key = `${String(sa.address)}:${String(sa.port_value)}/${String(sa.protocol ?? 'TCP')}`;
    const prev = bound.get(key);
    if (prev !== undefined) err(['static_resources', 'listeners', i, 'address'], `address ${key} is already used by listener [${prev}]`);
    else bound.set(key, i);
  });

  // STATIC clusters need IP literals (Envoy: "malformed IP address").
  clusters.forEach((c, i) => {
    if (!c) return;
    const type = c.cluster_type !== undefined ? 'CUSTOM' : str(c.type) ?? 'STATIC';
    if (type !== 'STATIC') return;
    forEachEndpointAddress(c, ['static_resources', 'clusters', i], (addr, path) => {
      if (addr.pipe !== undefined) return;
      const sa = obj(addr.socket_address);
      const host = str(sa?.address);
      if (host !== undefined && host !== '' && !isIP(host)) err([...path, 'socket_address', 'address'], `cluster "${String(c.name)}" is STATIC but "${host}" is not an IP address (use type STRICT_DNS or LOGICAL_DNS for host names)`);
    });
  });

  // Cluster references.
  const clusterRefs: { name: string; path: PathSeg[] }[] = [];
  const ref = (visits: Visit[], field: string) => {
    for (const v of visits) {
      const name = str(v.value[field]);
      if (name !== undefined && name !== '') clusterRefs.push({ name, path: [...v.path, field] });
    }
  };
  ref(checker.visitsOf('envoy.config.route.v3.RouteAction'), 'cluster');
  ref(checker.visitsOf('envoy.config.route.v3.WeightedCluster.ClusterWeight'), 'name');
  ref(checker.visitsOf('envoy.config.route.v3.RouteAction.RequestMirrorPolicy'), 'cluster');
  ref(checker.visitsOf('envoy.config.core.v3.GrpcService.EnvoyGrpc'), 'cluster_name');
  ref(checker.visitsOf('envoy.config.core.v3.HttpUri'), 'cluster');
  const known = new Set(clusterNames);
  for (const r of clusterRefs) {
    if (known.has(r.name)) continue;
    const msg = `cluster "${r.name}" is not defined in static_resources.clusters${known.size ? ` (defined: ${[...known].join(', ')})` : ''}`;
    if (dynamicClusters) warn(r.path, `${msg}; it must come from CDS`);
    else err(r.path, msg);
  }

  // HTTP filter chains: typed_config present, HTTP filter types only, router last.
  for (const hcm of checker.visitsOf(HCM)) {
    const filters = Array.isArray(hcm.value.http_filters) ? hcm.value.http_filters.map(obj) : [];
    const base = [...hcm.path, 'http_filters'];
    if (filters.length === 0) {
      err(hcm.path, 'http_filters is empty: the HTTP connection manager needs envoy.filters.http.router as its last filter');
      continue;
    }
    filters.forEach((f, i) => {
      if (!f) return;
      const t = typeOfAny(f.typed_config);
      if (f.typed_config === undefined && f.config_discovery === undefined) {
        err([...base, i], `http filter "${String(f.name ?? '')}" has neither typed_config nor config_discovery`);
        return;
      }
      if (t && !isHttpFilterType(t)) err([...base, i, 'typed_config', '@type'], `${t} is not an HTTP filter config (expected envoy.extensions.filters.http.*)`);
      const isLast = i === filters.length - 1;
      if (t === ROUTER && !isLast) err([...base, i], `terminal filter "${String(f.name ?? 'envoy.filters.http.router')}" (router) must be the last filter in the http filter chain`);
      if (isLast && t !== ROUTER && f.config_discovery === undefined) err([...base, i], `the last http filter must be envoy.filters.http.router (${ROUTER}), found ${t ?? 'no typed_config'}`);
    });
  }

  // Network filter slots get network filter types.
  for (const chain of checker.visitsOf('envoy.config.listener.v3.FilterChain')) {
    const filters = Array.isArray(chain.value.filters) ? chain.value.filters.map(obj) : [];
    filters.forEach((f, i) => {
      const t = typeOfAny(f?.typed_config);
      if (t && !t.startsWith('envoy.extensions.filters.network.') && !t.includes('TypedStruct')) {
        err([...chain.path, 'filters', i, 'typed_config', '@type'], `${t} is not a network filter config (expected envoy.extensions.filters.network.*)`);
      }
    });
  }

  // The wasm filter does not support per-route configuration.
  for (const v of [...checker.visitsOf('envoy.config.route.v3.VirtualHost'), ...checker.visitsOf('envoy.config.route.v3.Route'), ...checker.visitsOf('envoy.config.route.v3.RouteConfiguration')]) {
    const per = obj(v.value.typed_per_filter_config);
    for (const [k, any] of Object.entries(per ?? {})) {
      if (typeOfAny(any) === WASM_HTTP) err([...v.path, 'typed_per_filter_config', k], 'the wasm HTTP filter does not support per-route configuration (use config.route.v3.FilterConfig {disabled} instead)');
    }
  }

  // Wasm filters.
  const wasmFilters: WasmFilterInfo[] = [];
  const wrappers = new Map<string, 'http' | 'network'>();
  for (const a of checker.visitsOf('google.protobuf.Any')) {
    const t = typeOfAny(a.value);
    if (t === WASM_HTTP) wrappers.set(JSON.stringify([...a.path, 'config']), 'http');
    if (t === WASM_NETWORK) wrappers.set(JSON.stringify([...a.path, 'config']), 'network');
  }
  for (const pc of checker.visitsOf('envoy.extensions.wasm.v3.PluginConfig')) {
    const vm = obj(pc.value.vm_config);
    const code = obj(vm?.code);
    const local = obj(code?.local);
    const remote = obj(code?.remote);
    const info: WasmFilterInfo = {
      path: pc.path,
      kind: wrappers.get(JSON.stringify(pc.path)) ?? 'other',
      name: str(pc.value.name),
      rootId: str(pc.value.root_id),
      vmId: str(vm?.vm_id),
      filename: str(local?.filename),
      remoteUri: str(obj(remote?.http_uri)?.uri),
    };
    if (!vm) err(pc.path, 'wasm plugin has no vm_config: Envoy cannot load any code');
    else if (!code) err([...pc.path, 'vm_config'], 'vm_config.code is missing: Envoy cannot load any code');
    const conf = obj(pc.value.configuration);
    if (conf) {
      const t = typeOfAny(conf);
      const cpath = [...pc.path, 'configuration'];
      if (t === 'google.protobuf.StringValue') {
        const text = str(conf.value) ?? '';
        try {
          info.configuration = { path: [...cpath, 'value'], value: JSON.parse(text), encoding: 'StringValue' };
        } catch (e) {
          err([...cpath, 'value'], `the plugin configuration is not valid JSON: ${(e as Error).message}`);
        }
      } else if (t === 'google.protobuf.Struct') {
        info.configuration = { path: [...cpath, 'value'], value: conf.value, encoding: 'Struct' };
      } else if (t === 'google.protobuf.BytesValue') {
        const text = Buffer.from(str(conf.value) ?? '', 'base64').toString('utf8');
        try {
          info.configuration = { path: [...cpath, 'value'], value: JSON.parse(text), encoding: 'BytesValue' };
        } catch (e) {
          err([...cpath, 'value'], `the plugin configuration (BytesValue) is not valid JSON: ${(e as Error).message}`);
        }
      } else if (t) {
        err([...cpath, '@type'], `the plugin configuration should be a google.protobuf.StringValue (JSON text) or google.protobuf.Struct, not ${t}`);
      }
    }
    wasmFilters.push(info);
    // A plugin that calls out (proxy_dispatch_http_call) names its cluster as `cluster`.
    const target = obj(info.configuration?.value)?.cluster;
    if (info.configuration && typeof target === 'string' && !known.has(target)) {
      const msg = `the plugin configuration names cluster "${target}" (pluginConfig.cluster), which is not defined in static_resources.clusters; its callouts would fail`;
      if (dynamicClusters) warn(info.configuration.path, `${msg} unless CDS provides it`);
      else err(info.configuration.path, msg);
    }
  }

  return {
    issues,
    listeners: listenerNames,
    clusters: clusterNames,
    wasmFilters,
    clusterRefs,
    dynamicClusters,
  };
}

function isHttpFilterType(t: string): boolean {
  return t.startsWith('envoy.extensions.filters.http.') || t.endsWith('.TypedStruct') || t === 'envoy.config.core.v3.TypedExtensionConfig';
}

function uniqueNames(items: (Record<string, unknown> | undefined)[], base: PathSeg[], what: string, err: (p: PathSeg[], m: string) => void): string[] {
  const seen = new Map<string, number>();
  const names: string[] = [];
  items.forEach((it, i) => {
    const name = str(it?.name);
    if (name === undefined || name === '') return;
    const prev = seen.get(name);
    if (prev !== undefined) err([...base, i, 'name'], `duplicate ${what} name "${name}" (also at [${prev}])`);
    else seen.set(name, i);
    names.push(name);
  });
  return [...new Set(names)];
}

function forEachEndpointAddress(cluster: Record<string, unknown>, base: PathSeg[], fn: (addr: Record<string, unknown>, path: PathSeg[]) => void): void {
  const la = obj(cluster.load_assignment);
  const eps = Array.isArray(la?.endpoints) ? la.endpoints : [];
  eps.forEach((ep, i) => {
    const lbs = Array.isArray(obj(ep)?.lb_endpoints) ? (obj(ep)!.lb_endpoints as unknown[]) : [];
    lbs.forEach((lb, j) => {
      const addr = obj(obj(obj(lb)?.endpoint)?.address);
      if (addr) fn(addr, [...base, 'load_assignment', 'endpoints', i, 'lb_endpoints', j, 'endpoint', 'address']);
    });
  });
}
