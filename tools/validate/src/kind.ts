/**
 * deploy/kind/: the local-registry pattern a kind cluster needs, checked offline.
 *
 * - `kind-config.yaml`: a kind `Cluster` (kind.x-k8s.io/v1alpha4) whose `containerdConfigPatches`
 *   point containerd's CRI registry at a hosts directory (`config_path`), without the old inline
 *   `mirrors`/`configs` tables (deprecated in containerd 1.x; containerd 2.x refuses them next to
 *   `config_path`).
 * - `hosts.toml`: the file `registry.sh` copies into every node as
 *   `<config_path>/localhost:<port>/hosts.toml`: `server` is what images are named by, and one
 *   `[host."http://<container>:5000"]` is where containerd really pulls from.
 * - `local-registry-hosting.yaml`: the `local-registry-hosting` ConfigMap in `kube-public`
 *   (KEP-1755) that tells tools where the cluster's local registry is.
 * - The three agree with each other and with `registry.sh`'s `REGISTRY_NAME` / `REGISTRY_PORT`.
 *
 * TOML is parsed by a small reader for the subset these files use (tables with quoted keys,
 * strings, booleans, integers and arrays of strings); anything else is reported, not guessed.
 */
import type { Issue, PathSeg } from './issues';

export type TomlValue = string | boolean | number | string[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/** Splits a dotted TOML key (`plugins."io.containerd.grpc.v1.cri".registry`) into its parts. */
function splitKey(text: string): string[] | undefined {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_-]+))\s*(\.|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    parts.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : m[2]);
    at = re.lastIndex;
    if (m[3] === '' ) break;
  }
  return parts.length ? parts : undefined;
}

function parseValue(text: string): TomlValue | undefined {
  const t = text.trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return JSON.parse(t) as string;
  if (/^'[^']*'$/.test(t)) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (t.startsWith('[') && t.endsWith(']')) {
    const inner = t.slice(1, -1).trim();
    if (inner === '') return [];
    const items = inner.replace(/,\s*$/, '').split(',').map((s) => parseValue(s));
    if (items.every((i) => typeof i === 'string')) return items as string[];
  }
  return undefined;
}

/** Parses the TOML subset; errors name the 1-based line. */
export function parseTomlSubset(text: string): { value: TomlTable; errors: { line: number; message: string }[] } {
  const root: TomlTable = {};
  const errors: { line: number; message: string }[] = [];
  let table = root;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$|^\s*#.*$/, '').trim();
    if (line === '') return;
    if (line.startsWith('[')) {
      const key = line.startsWith('[[') ? undefined : splitKey(line.slice(1, -1));
      if (!line.endsWith(']') || !key) {
        errors.push({ line: i + 1, message: `unsupported or malformed table header ${line}` });
        return;
      }
      table = root;
      for (const k of key) {
        const next = table[k];
        if (next === undefined) table = table[k] = {};
        else if (typeof next === 'object' && !Array.isArray(next)) table = next;
        else {
          errors.push({ line: i + 1, message: `${key.join('.')}: ${k} is already a value, not a table` });
          return;
        }
      }
      return;
    }
    const eq = line.indexOf('=');
    const key = eq > 0 ? splitKey(line.slice(0, eq)) : undefined;
    const value = eq > 0 ? parseValue(line.slice(eq + 1)) : undefined;
    if (!key || value === undefined) {
      errors.push({ line: i + 1, message: `cannot read "${line}" (key = "string" | true | false | integer | ["strings"])` });
      return;
    }
    let t = table;
    for (const k of key.slice(0, -1)) {
      const next = t[k];
      if (next === undefined) t = t[k] = {};
      else if (typeof next === 'object' && !Array.isArray(next)) t = next;
      else {
        errors.push({ line: i + 1, message: `${key.join('.')}: ${k} is already a value` });
        return;
      }
    }
    const last = key[key.length - 1];
    if (last in t) errors.push({ line: i + 1, message: `${key.join('.')} is set twice` });
    else t[last] = value;
  });
  return { value: root, errors };
}

const isTable = (v: unknown): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

/** containerd's CRI registry tables: 1.x (`io.containerd.grpc.v1.cri`, migrated by 2.x) and 2.x (`io.containerd.cri.v1.images`). */
const CRI_PLUGINS = ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images'];

export interface KindConfigReport {
  issues: Issue[];
  nodes: number;
  /** The `config_path` the containerd patches set, when they do. */
  configPath?: string;
}

const KIND_KEYS = new Set([
  'kind', 'apiVersion', 'name', 'nodes', 'networking', 'featureGates', 'runtimeConfig', 'kubeadmConfigPatches',
  'kubeadmConfigPatchesJSON6902', 'containerdConfigPatches', 'containerdConfigPatchesJSON6902',
]);
const NODE_KEYS = new Set(['role', 'image', 'labels', 'extraMounts', 'extraPortMappings', 'kubeadmConfigPatches', 'kubeadmConfigPatchesJSON6902']);

/** A kind `Cluster` config (v1alpha4) and its containerd registry patch. */
export function validateKindConfig(value: unknown, file: string): KindConfigReport {
  const issues: Issue[] = [];
  const err = (path: PathSeg[], message: string): void => void issues.push({ severity: 'error', file, path, message });
  if (!isTable(value as TomlTable)) {
    err([], 'a kind config is a mapping (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4)');
    return { issues, nodes: 0 };
  }
  const v = value as Record<string, unknown>;
  if (v.kind !== 'Cluster') err(['kind'], `must be Cluster (got ${JSON.stringify(v.kind)})`);
  if (v.apiVersion !== 'kind.x-k8s.io/v1alpha4') err(['apiVersion'], `must be kind.x-k8s.io/v1alpha4 (got ${JSON.stringify(v.apiVersion)})`);
  for (const k of Object.keys(v)) if (!KIND_KEYS.has(k)) err([k], `unknown field "${k}" in a kind Cluster`);
  const nodes = Array.isArray(v.nodes) ? (v.nodes as unknown[]) : [];
  if (v.nodes !== undefined && !Array.isArray(v.nodes)) err(['nodes'], 'must be a list');
  nodes.forEach((n, i) => {
    if (!isTable(n as TomlTable)) return err(['nodes', i], 'must be a mapping');
    const node = n as Record<string, unknown>;
    if (node.role !== 'control-plane' && node.role !== 'worker') err(['nodes', i, 'role'], `must be control-plane or worker (got ${JSON.stringify(node.role)})`);
    for (const k of Object.keys(node)) if (!NODE_KEYS.has(k)) err(['nodes', i, k], `unknown field "${k}" in a kind node`);
  });
  if (nodes.length && !nodes.some((n) => (n as Record<string, unknown>).role === 'control-plane')) err(['nodes'], 'needs a control-plane node');
  let configPath: string | undefined;
  const patches = v.containerdConfigPatches;
  if (patches !== undefined && !Array.isArray(patches)) err(['containerdConfigPatches'], 'must be a list of TOML strings');
  (Array.isArray(patches) ? patches : []).forEach((p, i) => {
    const at: PathSeg[] = ['containerdConfigPatches', i];
    if (typeof p !== 'string') return err(at, 'must be a TOML string (use a YAML block scalar: |-)');
    const t = parseTomlSubset(p);
    for (const e of t.errors) err(at, `TOML line ${e.line}: ${e.message}`);
    const plugins = t.value.plugins;
    for (const name of CRI_PLUGINS) {
      const cri = isTable(plugins) ? plugins[name] : undefined;
      const registry = isTable(cri) ? cri.registry : undefined;
      if (!isTable(registry)) continue;
      for (const old of ['mirrors', 'configs']) {
        if (old in registry) err(at, `plugins."${name}".registry.${old}: the inline ${old} tables are deprecated and containerd 2.x refuses them next to config_path; put a hosts.toml in config_path instead`);
      }
      if (typeof registry.config_path !== 'string' || !registry.config_path.startsWith('/')) {
        err(at, `plugins."${name}".registry.config_path must be an absolute directory (e.g. "/etc/containerd/certs.d")`);
      } else configPath = registry.config_path;
    }
  });
  return { issues, nodes: nodes.length, configPath };
}

export interface HostsTomlReport {
  issues: Issue[];
  server?: string;
  hosts: string[];
}

const CAPABILITIES = new Set(['pull', 'resolve', 'push']);
const HOST_KEYS = new Set(['capabilities', 'skip_verify', 'ca', 'client', 'header', 'override_path', 'dial_timeout']);

/** A containerd `hosts.toml`. */
export function validateHostsToml(text: string, file: string): HostsTomlReport {
  const issues: Issue[] = [];
  const err = (path: PathSeg[], message: string): void => void issues.push({ severity: 'error', file, path, message });
  const t = parseTomlSubset(text);
  for (const e of t.errors) issues.push({ severity: 'error', file, path: [], message: e.message, line: e.line, col: 1 });
  const server = t.value.server;
  if (typeof server !== 'string' || !/^https?:\/\/[^/\s]+$/.test(server)) err(['server'], 'must be the registry the images are named by, as http(s)://host[:port]');
  const hostTable = t.value.host;
  const hosts = isTable(hostTable) ? Object.keys(hostTable) : [];
  if (!hosts.length) err(['host'], 'needs at least one [host."http(s)://name:port"] table: where containerd really pulls from');
  for (const h of hosts) {
    if (!/^https?:\/\/[^/\s]+(\/.*)?$/.test(h)) err(['host', h], 'a host is an http(s):// URL');
    const body = (hostTable as TomlTable)[h];
    if (!isTable(body)) {
      err(['host', h], 'must be a table');
      continue;
    }
    for (const k of Object.keys(body)) if (!HOST_KEYS.has(k)) err(['host', h, k], `unknown field "${k}" in a containerd host`);
    const caps = body.capabilities;
    if (!Array.isArray(caps) || !caps.length) err(['host', h, 'capabilities'], 'list what the host may do: ["pull", "resolve"]');
    else for (const c of caps) if (!CAPABILITIES.has(c)) err(['host', h, 'capabilities'], `unknown capability "${c}" (pull, resolve, push)`);
    if (Array.isArray(caps) && caps.includes('pull') && !caps.includes('resolve')) err(['host', h, 'capabilities'], 'a mirror that pulls by tag must also resolve');
  }
  for (const k of Object.keys(t.value)) if (k !== 'server' && k !== 'host') err([k], `unknown top-level field "${k}" in hosts.toml`);
  return { issues, server: typeof server === 'string' ? server : undefined, hosts };
}

export interface RegistryHostingReport {
  issues: Issue[];
  host?: string;
  fromContainerRuntime?: string;
  fromClusterNetwork?: string;
}

const HOSTING_KEYS = new Set(['host', 'hostFromContainerRuntime', 'hostFromClusterNetwork', 'help']);

/** The `local-registry-hosting` ConfigMap (KEP-1755, `localRegistryHosting.v1`). */
export function validateRegistryHosting(value: unknown, file: string, parse: (text: string) => unknown): RegistryHostingReport {
  const issues: Issue[] = [];
  const err = (path: PathSeg[], message: string): void => void issues.push({ severity: 'error', file, path, message });
  const v = (isTable(value as TomlTable) ? value : {}) as Record<string, unknown>;
  const meta = (isTable(v.metadata as TomlTable) ? v.metadata : {}) as Record<string, unknown>;
  if (v.apiVersion !== 'v1' || v.kind !== 'ConfigMap') err([], 'must be a v1 ConfigMap');
  if (meta.name !== 'local-registry-hosting') err(['metadata', 'name'], 'must be local-registry-hosting (the name tools look for)');
  if (meta.namespace !== 'kube-public') err(['metadata', 'namespace'], 'must be kube-public (readable by every user)');
  const data = (isTable(v.data as TomlTable) ? v.data : {}) as Record<string, unknown>;
  const raw = data['localRegistryHosting.v1'];
  if (typeof raw !== 'string') {
    err(['data', 'localRegistryHosting.v1'], 'must be a YAML string (host, hostFromContainerRuntime, hostFromClusterNetwork, help)');
    return { issues };
  }
  let hosting: Record<string, unknown> = {};
  try {
    hosting = (parse(raw) ?? {}) as Record<string, unknown>;
  } catch (e) {
    err(['data', 'localRegistryHosting.v1'], `YAML cannot be parsed: ${(e as Error).message}`);
  }
  for (const k of Object.keys(hosting)) if (!HOSTING_KEYS.has(k)) err(['data', 'localRegistryHosting.v1', k], `unknown field "${k}" (host, hostFromContainerRuntime, hostFromClusterNetwork, help)`);
  const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;
  for (const k of ['host', 'hostFromContainerRuntime', 'hostFromClusterNetwork']) {
    const h = hosting[k];
    if (h !== undefined && (typeof h !== 'string' || !hostPort.test(h))) err(['data', 'localRegistryHosting.v1', k], `must be host:port (got ${JSON.stringify(h)})`);
  }
  if (typeof hosting.host !== 'string') err(['data', 'localRegistryHosting.v1', 'host'], 'is required: where a developer on the host pushes (host:port)');
  const str = (k: string): string | undefined => (typeof hosting[k] === 'string' ? (hosting[k] as string) : undefined);
  return { issues, host: str('host'), fromContainerRuntime: str('hostFromContainerRuntime'), fromClusterNetwork: str('hostFromClusterNetwork') };
}

/** `NAME=value` assignments at the start of a line of a shell script. */
export function shellAssignments(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z_][A-Z0-9_]*)="?\$\{[A-Z_]+:-([^}"]*)\}"?\s*$|^([A-Z_][A-Z0-9_]*)="?([^"$\s]*)"?\s*$/gm)) {
    if (m[1]) out[m[1]] = m[2];
    else out[m[3]] = m[4];
  }
  return out;
}

/** The three files and registry.sh must name the same registry. */
export function crossCheckKind(
  parts: { config?: KindConfigReport; hosts?: HostsTomlReport; hosting?: RegistryHostingReport; script: Record<string, string> },
  files: { config: string; hosts: string; hosting: string; script: string },
): Issue[] {
  const issues: Issue[] = [];
  const err = (file: string, path: PathSeg[], message: string): void => void issues.push({ severity: 'error', file, path, message });
  const name = parts.script.REGISTRY_NAME;
  const port = parts.script.REGISTRY_PORT;
  const hostsDir = parts.script.HOSTS_DIR;
  if (!name || !port) {
    err(files.script, [], 'must set REGISTRY_NAME and REGISTRY_PORT (the registry container and its port on the host)');
    return issues;
  }
  const pushTo = `localhost:${port}`;
  const inCluster = `${name}:5000`;
  if (parts.config && parts.config.configPath === undefined) {
    err(files.config, ['containerdConfigPatches'], `no registry config_path: containerd would never read ${files.hosts} (set plugins."io.containerd.grpc.v1.cri".registry.config_path)`);
  } else if (parts.config?.configPath && hostsDir && parts.config.configPath !== hostsDir) {
    err(files.config, ['containerdConfigPatches'], `config_path is ${parts.config.configPath}, but ${files.script} writes hosts.toml under ${hostsDir}`);
  }
  if (parts.hosts) {
    if (parts.hosts.server !== undefined && parts.hosts.server !== `http://${pushTo}`) err(files.hosts, ['server'], `must be http://${pushTo}: images are named by the registry's address on the host (REGISTRY_PORT=${port})`);
    if (!parts.hosts.hosts.includes(`http://${inCluster}`)) err(files.hosts, ['host'], `needs [host."http://${inCluster}"]: the registry container on the kind network (REGISTRY_NAME=${name}, port 5000 inside it)`);
  }
  if (parts.hosting) {
    if (parts.hosting.host !== undefined && parts.hosting.host !== pushTo) err(files.hosting, ['data', 'localRegistryHosting.v1', 'host'], `must be ${pushTo} (REGISTRY_PORT=${port} in ${files.script})`);
    for (const [k, v] of [['hostFromContainerRuntime', parts.hosting.fromContainerRuntime], ['hostFromClusterNetwork', parts.hosting.fromClusterNetwork]] as const) {
      if (v !== undefined && v !== inCluster) err(files.hosting, ['data', 'localRegistryHosting.v1', k], `must be ${inCluster} (REGISTRY_NAME=${name} in ${files.script})`);
    }
  }
  return issues;
}
