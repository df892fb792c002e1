/**
 * A strict proto3 JSON mapping checker over protobufjs reflection, with the semantics Envoy
 * applies when it loads a YAML bootstrap:
 *
 * - field names: the .proto name (snake_case) or its JSON name (lowerCamel); anything else fails;
 * - scalars: type and range (int32/uint32/int64/uint64 as numbers or decimal strings, floats,
 *   bool, base64 bytes), enums by name (or by number);
 * - well-known types with their special JSON forms: Any (`@type`, resolved recursively),
 *   Duration ("1.5s"), Timestamp, FieldMask, Struct/Value/ListValue, wrappers;
 * - oneofs: at most one member; `(validate.required)` oneofs: exactly one;
 * - protoc-gen-validate `(validate.rules)` as Envoy enforces them: required messages, string
 *   lengths/patterns/well-known regexes, numeric bounds, enum defined_only, repeated/map sizes,
 *   duration bounds (scalars that are absent are checked as their default value, as PGV does);
 * - deprecated fields are warnings.
 *
 * It returns a normalised copy (snake_case keys) and records every message it visited, by type,
 * so that cross-reference checks can run on the normalised data.
 */
import protobuf from 'protobufjs';
import type { EnvoyProtos } from './proto';
import { jsonName, parsedOptions } from './proto';
import { type Issue, type PathSeg, suggest } from './issues';
import { bytesRules, compareNumber, stringRules, type Report } from './pgv-rules';

export interface Visit {
  path: PathSeg[];
  /** Normalised message value (snake_case keys; Any keeps `@type`). */
  value: Record<string, unknown>;
}

const WRAPPERS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};
/** Types whose JSON form is not an object of fields; inside an Any they sit under `value`. */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
]);

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

const DURATION_RE = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;

export function typeName(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, '');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Seconds (as a float) of a Duration JSON string, or undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  const secs = Number(m[2]) + (m[3] ? Number(`0.${m[3]}`) : 0);
  if (Number(m[2]) > 315576000000) return undefined;
  return m[1] ? -secs : secs;
}

export class ProtoJsonChecker {
  readonly issues: Issue[] = [];
  readonly visits = new Map<string, Visit[]>();
  private readonly fieldIndex = new Map<protobuf.Type, Map<string, protobuf.Field>>();
  private allTypeNames?: string[];

  constructor(
    private readonly protos: EnvoyProtos,
    private readonly file: string,
  ) {}

  private error(path: PathSeg[], message: string): void {
    this.issues.push({ severity: 'error', file: this.file, path, message });
  }

  /** `error` as a function value, for the scalar rules of ./pgv-rules. */
  private readonly report: Report = (path, message) => this.error(path, message);

  private warn(path: PathSeg[], message: string): void {
    this.issues.push({ severity: 'warning', file: this.file, path, message });
  }

  /** Checks `value` as the JSON form of message `fullName`; returns the normalised value. */
  check(fullName: string, value: unknown, path: PathSeg[] = []): unknown {
    const type = this.protos.root.lookupType(fullName);
    return this.checkMessage(type, value, path);
  }

  visitsOf(fullName: string): Visit[] {
    return this.visits.get(fullName) ?? [];
  }

  private fieldsOf(type: protobuf.Type): Map<string, protobuf.Field> {
    let idx = this.fieldIndex.get(type);
    if (!idx) {
      idx = new Map();
      for (const f of type.fieldsArray) {
        idx.set(f.name, f);
        idx.set(jsonName(f), f);
      }
      this.fieldIndex.set(type, idx);
    }
    return idx;
  }

  private checkMessage(type: protobuf.Type, v: unknown, path: PathSeg[]): unknown {
    const name = typeName(type);
    if (SPECIAL_JSON.has(name)) return this.checkWellKnown(name, v, path);
    if (name === 'google.protobuf.Any') return this.checkAny(v, path);
    if (!isPlainObject(v)) {
      this.error(path, `expected an object (${name}), got ${describe(v)}`);
      return undefined;
    }
    const fields = this.fieldsOf(type);
    const out: Record<string, unknown> = {};
    const seenAs = new Map<string, string>();
    for (const [key, raw] of Object.entries(v)) {
      const field = fields.get(key);
      const p = [...path, key];
      if (!field) {
        const hint = suggest(key, type.fieldsArray.map((f) => f.name));
        this.error(p, `unknown field "${key}" in ${name}${hint ? ` (did you mean "${hint}"?)` : ''}`);
        continue;
      }
      const prev = seenAs.get(field.name);
      if (prev !== undefined) {
        this.error(p, `field "${field.name}" is set twice (as "${prev}" and "${key}")`);
        continue;
      }
      seenAs.set(field.name, key);
      const opts = parsedOptions(field);
      if (field.options?.deprecated === true || opts.deprecated === true) {
        this.warn(p, `field "${field.name}" of ${name} is deprecated`);
      }
      if (opts['(envoy.annotations.disallowed_by_default)'] === true) {
        this.error(p, `field "${field.name}" of ${name} is deprecated and disallowed by default`);
      }
      if (raw === null && typeName(field.resolvedType ?? field) !== 'google.protobuf.Value') continue;
      out[field.name] = this.checkField(field, raw, p);
    }
    this.checkOneofs(type, out, seenAs, path);
    this.applyFieldRules(type, out, seenAs, path);
    const list = this.visits.get(name) ?? [];
    list.push({ path, value: out });
    this.visits.set(name, list);
    return out;
  }

  private checkOneofs(type: protobuf.Type, out: Record<string, unknown>, seenAs: Map<string, string>, path: PathSeg[]): void {
    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray.map((f) => f.name);
      const set = members.filter((m) => out[m] !== undefined);
      if (set.length > 1) {
        this.error([...path, seenAs.get(set[1]) ?? set[1]], `only one of ${members.map((m) => `"${m}"`).join(', ')} may be set (oneof "${oneof.name}"), found ${set.map((m) => `"${m}"`).join(' and ')}`);
      }
      const required = parsedOptions(oneof)['(validate.required)'] === true || oneof.options?.['(validate.required)'] === true;
      if (required && set.length === 0) {
        this.error(path, `one of ${members.map((m) => `"${m}"`).join(', ')} is required (oneof "${oneof.name}" of ${typeName(type)})`);
      }
    }
  }

  private checkField(field: protobuf.Field, raw: unknown, path: PathSeg[]): unknown {
    if (field.map) {
      if (!isPlainObject(raw)) {
        this.error(path, `expected a map (object), got ${describe(raw)}`);
        return undefined;
      }
      const keyType = (field as unknown as protobuf.MapField).keyType;
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(raw)) {
        if (keyType !== 'string') this.checkScalar(keyType, /^-?\d+$/.test(k) ? k : k === 'true' || k === 'false' ? k === 'true' : k, [...path, k]);
        out[k] = this.checkSingle(field, item, [...path, k]);
      }
      return out;
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) {
        this.error(path, `expected a list for repeated field "${field.name}", got ${describe(raw)}`);
        return undefined;
      }
      return raw.map((item, i) => this.checkSingle(field, item, [...path, i]));
    }
    return this.checkSingle(field, raw, path);
  }

  private checkSingle(field: protobuf.Field, v: unknown, path: PathSeg[]): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Enum) return this.checkEnum(rt, v, path);
    if (rt instanceof protobuf.Type) return this.checkMessage(rt, v, path);
    return this.checkScalar(field.type, v, path);
  }

  private checkEnum(e: protobuf.Enum, v: unknown, path: PathSeg[]): unknown {
    const names = Object.keys(e.values);
    if (typeof v === 'string') {
      if (!(v in e.values)) {
        const hint = suggest(v, names);
        this.error(path, `unknown value "${v}" for enum ${typeName(e)}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${names.join(', ')}`);
        return undefined;
      }
      if (e.valuesOptions?.[v]?.deprecated === true) this.warn(path, `enum value ${v} of ${typeName(e)} is deprecated`);
      return v;
    }
    if (typeof v === 'number' && Number.isInteger(v)) {
      const name = e.valuesById[v];
      return name ?? v;
    }
    this.error(path, `expected an enum name of ${typeName(e)} (${names.join(', ')}), got ${describe(v)}`);
    return undefined;
  }

  private checkScalar(kind: string, v: unknown, path: PathSeg[]): unknown {
    const range = INT_RANGES[kind];
    if (range) {
      let n: bigint | undefined;
      if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
      else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = BigInt(v);
      if (n === undefined) {
        this.error(path, `expected an integer (${kind}), got ${describe(v)}`);
        return undefined;
      }
      if (n < range[0] || n > range[1]) {
        this.error(path, `${n} is out of range for ${kind} [${range[0]}, ${range[1]}]`);
        return undefined;
      }
      return Number(n);
    }
    switch (kind) {
      case 'double':
      case 'float':
        if (typeof v === 'number') return v;
        if (typeof v === 'string' && (/^(NaN|-?Infinity)$/.test(v) || (v.trim() !== '' && Number.isFinite(Number(v))))) return Number(v);
        this.error(path, `expected a number (${kind}), got ${describe(v)}`);
        return undefined;
      case 'bool':
        if (typeof v === 'boolean') return v;
        this.error(path, `expected true or false, got ${describe(v)}`);
        return undefined;
      case 'string':
        if (typeof v === 'string') return v;
        this.error(path, `expected a string, got ${describe(v)}${typeof v === 'number' || typeof v === 'boolean' ? ' (quote it in YAML)' : ''}`);
        return undefined;
      case 'bytes':
        if (typeof v === 'string' && BASE64_RE.test(v)) return v;
        this.error(path, `expected base64-encoded bytes, got ${describe(v)}`);
        return undefined;
      default:
        this.error(path, `unsupported scalar type ${kind}`);
        return undefined;
    }
  }

  private checkWellKnown(name: string, v: unknown, path: PathSeg[]): unknown {
    const wrapped = WRAPPERS[name];
    if (wrapped) return this.checkScalar(wrapped, v, path);
    switch (name) {
      case 'google.protobuf.Duration':
        if (typeof v === 'string' && parseDuration(v) !== undefined) return v;
        this.error(path, `expected a Duration string such as "5s" or "0.250s", got ${describe(v)}`);
        return undefined;
      case 'google.protobuf.Timestamp':
        if (typeof v === 'string' && TIMESTAMP_RE.test(v)) return v;
        this.error(path, `expected an RFC 3339 timestamp such as "2024-01-01T00:00:00Z", got ${describe(v)}`);
        return undefined;
      case 'google.protobuf.FieldMask':
        if (typeof v === 'string') return v;
        this.error(path, `expected a FieldMask string, got ${describe(v)}`);
        return undefined;
      case 'google.protobuf.Struct':
        if (isPlainObject(v)) return v;
        this.error(path, `expected an object (google.protobuf.Struct), got ${describe(v)}`);
        return undefined;
      case 'google.protobuf.ListValue':
        if (Array.isArray(v)) return v;
        this.error(path, `expected a list (google.protobuf.ListValue), got ${describe(v)}`);
        return undefined;
      default: // Value: any JSON
        return v;
    }
  }

  private checkAny(v: unknown, path: PathSeg[]): unknown {
    if (!isPlainObject(v)) {
      this.error(path, `expected an Any object with "@type", got ${describe(v)}`);
      return undefined;
    }
    const url = v['@type'];
    if (typeof url !== 'string' || url === '') {
      this.error(path, `Any without "@type" (expected e.g. "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router")`);
      return undefined;
    }
    const slash = url.lastIndexOf('/');
    const target = slash >= 0 ? url.slice(slash + 1) : '';
    if (slash < 0 || !target) {
      this.error([...path, '@type'], `"@type" must be a type URL such as "type.googleapis.com/<full.message.Name>", got ${JSON.stringify(url)}`);
      return undefined;
    }
    let type: protobuf.Type | undefined;
    try {
      const found = this.protos.root.lookup(target);
      if (found instanceof protobuf.Type) type = found;
    } catch {
      type = undefined;
    }
    if (!type) {
      const pkg = target.split('.').slice(0, -1).join('.');
      const skipped = [...this.protos.skippedPackages].some((p) => p === pkg);
      if (skipped) {
        this.error([...path, '@type'], `"@type" ${url}: the proto of ${pkg} is not loadable offline (it depends on protos @grpc/grpc-js-xds does not ship), so this config cannot be checked`);
      } else {
        const hint = suggest(target, this.typeNames());
        this.error([...path, '@type'], `unknown "@type" ${url}: no such message in Envoy's v3 API${hint ? ` (did you mean "type.googleapis.com/${hint}"?)` : ''}`);
      }
      return undefined;
    }
    const name = typeName(type);
    if (SPECIAL_JSON.has(name)) {
      for (const k of Object.keys(v)) {
        if (k !== '@type' && k !== 'value') this.error([...path, k], `unknown field "${k}" in Any of ${name} (its JSON form is {"@type", "value"})`);
      }
      if (!('value' in v)) {
        this.error(path, `Any of ${name} needs a "value"`);
        return { '@type': url };
      }
      const value = this.checkWellKnown(name, v.value, [...path, 'value']);
      const out = { '@type': url, value };
      this.record('google.protobuf.Any', path, out);
      return out;
    }
    const rest: Record<string, unknown> = { ...v };
    delete rest['@type'];
    const inner = this.checkMessage(type, rest, path);
    const out = { '@type': url, ...(isPlainObject(inner) ? inner : {}) };
    this.record('google.protobuf.Any', path, out);
    return out;
  }

  private record(name: string, path: PathSeg[], value: Record<string, unknown>): void {
    const list = this.visits.get(name) ?? [];
    list.push({ path, value });
    this.visits.set(name, list);
  }

  private typeNames(): string[] {
    if (!this.allTypeNames) {
      const names: string[] = [];
      const walk = (ns: protobuf.NamespaceBase) => {
        for (const n of ns.nestedArray) {
          if (n instanceof protobuf.Type) names.push(typeName(n));
          if (n instanceof protobuf.Namespace || n instanceof protobuf.Type) walk(n as protobuf.NamespaceBase);
        }
      };
      walk(this.protos.root);
      this.allTypeNames = names;
    }
    return this.allTypeNames;
  }

  // ---- protoc-gen-validate rules -------------------------------------------------------------

  private applyFieldRules(type: protobuf.Type, out: Record<string, unknown>, seenAs: Map<string, string>, path: PathSeg[]): void {
    for (const field of type.fieldsArray) {
      const rules = parsedOptions(field)['(validate.rules)'] as Record<string, unknown> | undefined;
      if (!rules) continue;
      const present = out[field.name] !== undefined;
      const p = [...path, seenAs.get(field.name) ?? field.name];
      const value = out[field.name];
      if (field.map) {
        const r = rules.map as Record<string, unknown> | undefined;
        const n = present ? Object.keys(value as object).length : 0;
        if (r?.min_pairs !== undefined && n < Number(r.min_pairs)) this.error(p, `needs at least ${r.min_pairs} entries (${field.name}), has ${n}`);
        if (r?.max_pairs !== undefined && n > Number(r.max_pairs)) this.error(p, `allows at most ${r.max_pairs} entries (${field.name}), has ${n}`);
        if (r?.values && present) for (const [k, item] of Object.entries(value as object)) this.applyElementRules(field, r.values as Record<string, unknown>, item, true, [...p, k]);
        continue;
      }
      if (field.repeated) {
        const r = rules.repeated as Record<string, unknown> | undefined;
        const list = present && Array.isArray(value) ? value : [];
        if (r?.min_items !== undefined && list.length < Number(r.min_items)) this.error(p, `"${field.name}" needs at least ${r.min_items} item(s), has ${list.length}`);
        if (r?.max_items !== undefined && list.length > Number(r.max_items)) this.error(p, `"${field.name}" allows at most ${r.max_items} item(s), has ${list.length}`);
        if (r?.unique === true && new Set(list.map((x) => JSON.stringify(x))).size !== list.length) this.error(p, `"${field.name}" items must be unique`);
        if (r?.items) list.forEach((item, i) => this.applyElementRules(field, r.items as Record<string, unknown>, item, true, [...p, i]));
        continue;
      }
      const optional = field.partOf !== null && field.partOf !== undefined;
      this.applyElementRules(field, rules, value, present, p, optional);
    }
  }

  private applyElementRules(field: protobuf.Field, rules: Record<string, unknown>, v: unknown, present: boolean, path: PathSeg[], optional = false): void {
    const rt = field.resolvedType;
    const tname = rt ? typeName(rt) : field.type;
    const label = `"${field.name}"`;
    // Rules on a oneof member (or a proto3 `optional` field) apply only when it is set.
    if (!present && optional) return;
    for (const [kind, r0] of Object.entries(rules)) {
      const r = (r0 ?? {}) as Record<string, unknown>;
      if (kind === 'message') {
        if (r.required === true && !present) this.error(path, `${label} is required`);
        continue;
      }
      if (kind === 'duration' || kind === 'timestamp' || kind === 'any') {
        if (r.required === true && !present) {
          this.error(path, `${label} is required`);
          continue;
        }
        if (!present) continue;
        if (kind === 'duration' && typeof v === 'string') compareNumber(this.report, label, parseDuration(v) ?? 0, r, path, (x) => toSeconds(x), 's');
        if (kind === 'any' && isPlainObject(v)) {
          const url = String(v['@type']);
          if (Array.isArray(r.in) && !r.in.includes(url)) this.error(path, `${label} @type must be one of ${r.in.join(', ')}`);
          if (Array.isArray(r.not_in) && r.not_in.includes(url)) this.error(path, `${label} @type must not be ${url}`);
        }
        continue;
      }
      // Scalar rules; on a wrapper message they apply to the wrapped value when it is set.
      const wrapper = rt instanceof protobuf.Type;
      if (!present) {
        if (wrapper || optional || r.ignore_empty === true) continue;
        v = defaultOf(field);
      } else if (r.ignore_empty === true && isEmpty(v)) continue;
      if (v === undefined) continue;
      if (kind === 'string') stringRules(this.report, label, String(v), r, path);
      else if (kind === 'bytes') bytesRules(this.report, label, String(v), r, path);
      else if (kind === 'enum') {
        const e = rt instanceof protobuf.Enum ? rt : undefined;
        const num = typeof v === 'string' && e ? e.values[v] : Number(v);
        if (r.defined_only === true && e && e.valuesById[num] === undefined) this.error(path, `${label}: ${v} is not a defined value of ${typeName(e)}`);
        if (Array.isArray(r.in) && !r.in.map(Number).includes(num)) this.error(path, `${label} must be one of ${r.in.map((x) => e?.valuesById[Number(x)] ?? x).join(', ')}`);
        if (Array.isArray(r.not_in) && r.not_in.map(Number).includes(num)) this.error(path, `${label} must not be ${v}`);
        if (r.const !== undefined && Number(r.const) !== num) this.error(path, `${label} must be ${e?.valuesById[Number(r.const)] ?? r.const}`);
      } else if (kind === 'bool') {
        if (r.const !== undefined && r.const !== v) this.error(path, `${label} must be ${r.const}`);
      } else if (INT_RANGES[kind] || kind === 'double' || kind === 'float') {
        compareNumber(this.report, label, Number(v), r, path, Number, '');
      } else if (!wrapper) {
        // Unknown rule kind for this field: nothing to enforce.
        void tname;
      }
    }
  }
}

function toSeconds(x: unknown): number {
  if (!isPlainObject(x)) return 0;
  return Number(x.seconds ?? 0) + Number(x.nanos ?? 0) / 1e9;
}

function isEmpty(v: unknown): boolean {
  return v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
}

function defaultOf(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.valuesById[0] ?? 0;
  switch (field.type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}
