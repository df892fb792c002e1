/**
 * `meshwasm serve`: the proxy-wasm host's `serve` on an Envoy bootstrap, with `--config
 * <filter>=FILE` replacing the `configuration` of that wasm filter. The host is not changed: it
 * serves a derived copy of the bootstrap, written to a temporary directory and removed when it
 * stops. Relative paths keep their meaning because the host runs where they are relative to (the
 * repository root for deploy/envoy/envoy.yaml, the current directory for a file you name).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { failure, hostBin, runNx, runTool, shown, usageError, type Workspace } from './context';
import { checkConfig, readConfig } from './wasmplugin';

export const DEFAULT_ENVOY_CONFIG = 'deploy/envoy/envoy.yaml';
const STRING_VALUE = 'type.googleapis.com/google.protobuf.StringValue';

export interface ServeOptions {
  envoyConfig?: string;
  /** `<filter>=FILE` items. */
  overrides: string[];
  echo?: string;
  metadata?: string;
  build: boolean;
}

/** One `envoy.filters.http.wasm` filter of the bootstrap: where its `config` is, and the names it answers to. */
export interface WasmFilterRef {
  path: (string | number)[];
  names: string[];
  filename?: string;
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every HTTP wasm filter of the static listeners (what the host's serve loads). */
export function wasmFilters(doc: unknown): WasmFilterRef[] {
  const out: WasmFilterRef[] = [];
  const listeners = arr(obj(obj(doc)?.static_resources)?.listeners);
  listeners.forEach((l, li) => {
    arr(obj(l)?.filter_chains).forEach((c, ci) => {
      arr(obj(c)?.filters).forEach((nf, ni) => {
        const hcm = obj(obj(nf)?.typed_config);
        arr(hcm?.http_filters).forEach((hf, hi) => {
          if (obj(hf)?.name !== 'envoy.filters.http.wasm') return;
          const config = obj(obj(obj(hf)?.typed_config)?.config) ?? {};
          const filename = obj(obj(obj(config.vm_config)?.code)?.local)?.filename;
          const names = new Set<string>();
          if (typeof config.name === 'string' && config.name) names.add(config.name);
          if (typeof config.root_id === 'string' && config.root_id) names.add(config.root_id);
          if (typeof filename === 'string') names.add(basename(filename).replace(/\.wasm$/, ''));
          out.push({
            path: ['static_resources', 'listeners', li, 'filter_chains', ci, 'filters', ni, 'typed_config', 'http_filters', hi, 'typed_config', 'config'],
            names: [...names],
            filename: typeof filename === 'string' ? filename : undefined,
          });
        });
      });
    });
  });
  return out;
}

function port(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw usageError(`${flag} must be a port number (0-65535), got ${JSON.stringify(v)}`);
  return v;
}

export async function serve(ws: Workspace, opts: ServeOptions): Promise<number> {
  const io = ws.io;
  const usingDefault = opts.envoyConfig === undefined;
  const file = usingDefault ? join(ws.root, DEFAULT_ENVOY_CONFIG) : resolve(io.cwd, opts.envoyConfig!);
  const label = shown(io.cwd, file);
  // Envoy resolves relative paths against its working directory; deploy/envoy/envoy.yaml's are the repository's.
  const hostCwd = usingDefault ? ws.root : io.cwd;
  const echo = port('--echo', opts.echo) ?? (usingDefault ? '8080' : undefined);
  const metadata = port('--metadata', opts.metadata) ?? (usingDefault ? '8081' : undefined);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`--envoy-config ${label}: cannot read it (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw usageError(`${label}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const filters = wasmFilters(doc.toJS());

  // --config <filter>=FILE
  const seen = new Set<string>();
  for (const item of opts.overrides) {
    const i = item.indexOf('=');
    if (i <= 0 || i === item.length - 1) throw usageError(`--config ${JSON.stringify(item)}: expected <filter>=FILE, e.g. --config redact=my.json`);
    const name = item.slice(0, i);
    const configFile = item.slice(i + 1);
    if (seen.has(name)) throw usageError(`--config ${name}=… is given twice`);
    seen.add(name);
    const targets = filters.filter((f) => f.names.includes(name));
    if (targets.length === 0) {
      const have = [...new Set(filters.map((f) => f.names[0]))].join(', ') || 'none';
      throw usageError(`--config ${item}: ${label} has no wasm filter "${name}" (its wasm filters: ${have})`);
    }
    const config = readConfig(configFile, io.cwd, `--config ${item}`);
    const known = ws.filters().find((f) => f.name === name);
    if (known) checkConfig(known, config.value, config.label);
    for (const t of targets) doc.setIn([...t.path, 'configuration'], doc.createNode({ '@type': STRING_VALUE, value: JSON.stringify(config.value, null, 2) + '\n' }));
  }

  // Build the workspace filters the bootstrap loads (nx, cached), so the host never runs a stale wasm.
  if (opts.build) {
    const wanted = new Set<string>();
    for (const f of filters) {
      if (!f.filename) continue;
      const abs = isAbsolute(f.filename) ? f.filename : resolve(hostCwd, f.filename);
      const w = ws.filters().find((x) => x.wasmPath === abs);
      if (w) wanted.add(w.name);
    }
    if (wanted.size) {
      const b = await runNx(ws, ['run-many', '-t', 'build', '-p', [...wanted].join(',')], { stdoutToStderr: true });
      if (b.code !== 0) throw failure(`building ${[...wanted].join(', ')} failed (nx exited ${b.code}); the compiler's message is above`);
    }
  }

  let served = file;
  let tmp: string | undefined;
  if (opts.overrides.length) {
    tmp = mkdtempSync(join(tmpdir(), 'meshwasm-serve-'));
    served = join(tmp, basename(file));
    const note = `# Written by meshwasm serve from ${file}: the configuration of ${[...seen].join(', ')} replaced by --config.\n`;
    writeFileSync(served, note + doc.toString({ lineWidth: 0 }));
    io.err(`meshwasm serve: ${label} with the pluginConfig of ${opts.overrides.map((o) => o.replace('=', ' from ')).join(', ')}\n`);
  }
  const args = ['serve', '--envoy-config', served];
  if (echo !== undefined) args.push('--echo', echo);
  if (metadata !== undefined) args.push('--metadata', metadata);
  try {
    const r = await runTool(process.execPath, [hostBin(), ...args], { cwd: hostCwd, env: io.env, forwardSignals: true });
    if (r.code !== 0 && r.signal === null) io.err(`meshwasm serve: the proxy-wasm host stopped with exit code ${r.code}${r.lastError ? `: ${r.lastError}` : ''}\n`);
    return r.code;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
