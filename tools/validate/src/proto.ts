/**
 * Loads Envoy's own v3 API protos (as shipped by `@grpc/grpc-js-xds` under `deps/`) into one
 * protobufjs Root, once per process.
 *
 * - Every `envoy/**\/v3*\/*.proto` file is loaded, plus the xds/udpa TypedStruct protos, so that
 *   the `@type` of any `google.protobuf.Any` in a bootstrap can be resolved.
 * - A file whose import closure needs a proto that is not shipped (opencensus, opentelemetry,
 *   prometheus client) is skipped; its types are reported as "not available" rather than unknown.
 * - Field names are kept as in the .proto (snake_case); the JSON names are derived as protoc does.
 * - A small, documented overlay adds fields newer than the shipped API snapshot (see OVERLAY).
 */
import protobuf from 'protobufjs';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface EnvoyProtos {
  root: protobuf.Root;
  /** Files that were not loaded, with the missing dependency that excluded them. */
  skipped: Map<string, string>;
  /** Package names (e.g. `envoy.config.trace.v3`) touched by skipped files, for error hints. */
  skippedPackages: Set<string>;
  loadMs: number;
  fileCount: number;
  /** The directory the protos were read from. */
  depsDir: string;
}

/**
 * Fields that Envoy added after the API snapshot shipped by @grpc/grpc-js-xds. Each entry is
 * appended only when the shipped message lacks it, so a newer grpc-js-xds makes this a no-op.
 * Facts: envoy/api `extensions/wasm/v3/wasm.proto` (PluginConfig fields 7, 8, 9; FailurePolicy).
 */
const OVERLAY = `
syntax = "proto3";
package meshwasm.overlay;
import "google/protobuf/wrappers.proto";
import "envoy/config/core/v3/base.proto";
enum FailurePolicy {
  UNSPECIFIED = 0;
  FAIL_RELOAD = 1;
  FAIL_CLOSED = 2;
  FAIL_OPEN = 3;
}
message ReloadConfig {
  envoy.config.core.v3.BackoffStrategy backoff = 1;
}
`;

let cached: EnvoyProtos | undefined;

function resolveDepsDir(): string {
  const req = createRequire(__filename);
  const pkg = req.resolve('@grpc/grpc-js-xds/package.json');
  return join(dirname(pkg), 'deps');
}

function protobufjsDir(): string {
  const req = createRequire(__filename);
  return dirname(req.resolve('protobufjs/package.json'));
}

function walk(dir: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(dir)) {
    const abs = join(dir, entry);
    const r = rel ? `${rel}/${entry}` : entry;
    if (statSync(abs).isDirectory()) walk(abs, r, out);
    else if (entry.endsWith('.proto') && /(^|\/)v3[a-z0-9]*\//.test(r)) out.push(r);
  }
}

const IMPORT_RE = /^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm;

/** Loads (once) and returns the Envoy API root. */
export function loadEnvoyProtos(): EnvoyProtos {
  if (cached) return cached;
  const t0 = performance.now();
  const deps = resolveDepsDir();
  const includeDirs = [
    join(deps, 'envoy-api'),
    join(deps, 'xds'),
    join(deps, 'googleapis'),
    join(deps, 'protoc-gen-validate'),
    protobufjsDir(),
  ];
  const locate = (target: string): string | undefined => {
    for (const dir of includeDirs) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    return undefined;
  };
  // protobufjs has the well-known google/protobuf types built in.
  const builtin = (target: string) => target.startsWith('google/protobuf/');

  const missingOf = new Map<string, string | null>();
  const missingDependency = (target: string, stack: Set<string>): string | null => {
    const known = missingOf.get(target);
    if (known !== undefined) return known;
    if (stack.has(target) || builtin(target)) return null;
    stack.add(target);
    const abs = locate(target);
    let missing: string | null = abs ? null : target;
    if (abs) {
      for (const m of readFileSync(abs, 'utf8').matchAll(IMPORT_RE)) {
        const dep = missingDependency(m[1], stack);
        if (dep) {
          missing = dep;
          break;
        }
      }
    }
    missingOf.set(target, missing);
    return missing;
  };

  const candidates: string[] = [];
  walk(join(deps, 'envoy-api', 'envoy'), 'envoy', candidates);
  candidates.push('xds/type/v3/typed_struct.proto', 'udpa/type/v1/typed_struct.proto');
  const files: string[] = [];
  const skipped = new Map<string, string>();
  const skippedPackages = new Set<string>();
  for (const f of candidates) {
    const miss = missingDependency(f, new Set());
    if (miss) {
      skipped.set(f, miss);
      skippedPackages.add(dirname(f).replace(/\//g, '.'));
    } else files.push(f);
  }

  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => locate(target) ?? target;
  root.loadSync(files, { keepCase: true });
  protobuf.parse(OVERLAY, root, { keepCase: true });
  applyOverlay(root);
  root.resolveAll();
  cached = {
    root,
    skipped,
    skippedPackages,
    loadMs: performance.now() - t0,
    fileCount: files.length,
    depsDir: deps,
  };
  return cached;
}

function applyOverlay(root: protobuf.Root): void {
  const plugin = root.lookupType('envoy.extensions.wasm.v3.PluginConfig');
  const add = (name: string, id: number, type: string) => {
    if (plugin.fields[name] || plugin.fieldsById[id]) return;
    const field = new protobuf.Field(name, id, type);
    plugin.add(field);
    field.resolve();
  };
  add('failure_policy', 7, '.meshwasm.overlay.FailurePolicy');
  add('reload_config', 8, '.meshwasm.overlay.ReloadConfig');
  add('allow_on_headers_stop_iteration', 9, '.google.protobuf.BoolValue');
}

/** The JSON name protoc derives from a field name (lowerCamel), unless `json_name` is set. */
export function jsonName(field: protobuf.Field): string {
  const explicit = field.options?.json_name as string | undefined;
  if (explicit) return explicit;
  return field.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Merges protobufjs' `parsedOptions` list into one object. */
export function parsedOptions(obj: { parsedOptions?: unknown; options?: Record<string, unknown> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const list = obj.parsedOptions as Array<Record<string, unknown>> | undefined;
  if (Array.isArray(list)) for (const o of list) Object.assign(out, o);
  return out;
}
