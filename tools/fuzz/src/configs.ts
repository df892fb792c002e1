/**
 * Random configurations of a filter: values generated from its schema.json, mutations of its
 * examples/lab.json, and broken JSON. The schema (checked with Ajv, like `tools/validate`) says
 * which must be refused; the invariant is that the filter agrees, with exactly one error line.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { Rng } from './rng';
import { token, textBody } from './gen';

type Schema = Record<string, unknown>;

export interface ConfigCase {
  /** The configuration bytes, as Istio would send them. */
  text: string;
  /** How it was made (for the report). */
  origin: 'schema' | 'lab-mutation' | 'broken-json';
  /** What the schema says. */
  valid: boolean;
  /** Ajv's first complaint when not valid. */
  why?: string;
}

export function compileSchema(schema: Schema): ValidateFunction {
  return new Ajv({ strict: false, allErrors: false, validateFormats: false }).compile(schema);
}

const STRING_POOL = ['', 'a', 'x-a', 'SECRET=', 'example.com', '*.example.com', 'a.test', '/', '/headers', '/users/{header.x-user}', 'metadata', 'x-meta', 'user.tier', 'é', '日本', 'a b', 'a\nb', 'a\u0000b', '..', '%41', '\\d{3}', '[a-z]+', '(a|b)*c', 'GET', 'POST', 'flat', 'request', 'response', 'deny', 'allow', 'email', 'credit_card', 'jwt', 'bearer_token', 'cloud_key', '2001:db8::1', '[::1]', 'xn--bcher-kva.de', ':path', ':authority', ':method', 'x'.repeat(300)];

function resolve(s: Schema, root: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 10 && typeof cur.$ref === 'string'; i++) {
    const path = (cur.$ref as string).replace(/^#\//, '').split('/');
    let t: unknown = root;
    for (const p of path) t = (t as Record<string, unknown>)[p];
    cur = { ...(t as Schema), ...Object.fromEntries(Object.entries(cur).filter(([k]) => k !== '$ref')) };
  }
  return cur;
}

function stringFor(rng: Rng, s: Schema): string {
  const min = (s.minLength as number | undefined) ?? 0;
  const max = (s.maxLength as number | undefined) ?? 64;
  const re = typeof s.pattern === 'string' ? new RegExp(s.pattern as string, 'u') : null;
  const ok = (v: string) => v.length >= min && v.length <= max && (!re || re.test(v));
  for (let i = 0; i < 30; i++) {
    const v = rng.chance(0.5) ? rng.pick(STRING_POOL) : rng.chance(0.5) ? token(rng, Math.max(1, Math.min(max, 16))) : textBody(rng, rng.int(Math.min(max, 24) + 1));
    if (ok(v) || i === 29) return v;
  }
  return '';
}

/** A value the schema probably accepts (Ajv decides afterwards). */
export function fromSchema(rng: Rng, schema: Schema, root: Schema = schema, depth = 0): unknown {
  const s = resolve(schema, root);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return rng.pick(s.enum);
  for (const k of ['oneOf', 'anyOf'] as const) if (Array.isArray(s[k])) return fromSchema(rng, { ...s, [k]: undefined, ...rng.pick(s[k] as Schema[]) }, root, depth);
  let type = s.type as string | string[] | undefined;
  if (Array.isArray(type)) type = rng.pick(type);
  if (!type) type = s.properties ? 'object' : s.items ? 'array' : 'string';
  switch (type) {
    case 'object': {
      const o: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const req = new Set((s.required ?? []) as string[]);
      for (const [k, v] of Object.entries(props)) if (req.has(k) || (depth < 4 && rng.chance(0.5))) o[k] = fromSchema(rng, v, root, depth + 1);
      return o;
    }
    case 'array': {
      const min = (s.minItems as number | undefined) ?? 0;
      const max = Math.min((s.maxItems as number | undefined) ?? 6, min + 4);
      const a: unknown[] = [];
      for (let n = rng.range(min, Math.max(min, max)); n > 0; n--) a.push(fromSchema(rng, (s.items ?? {}) as Schema, root, depth + 1));
      return a;
    }
    case 'integer': case 'number': {
      const lo = (s.minimum as number | undefined) ?? 0;
      const hi = (s.maximum as number | undefined) ?? lo + 100000;
      const v = rng.pick([lo, hi, lo + rng.int(Math.min(hi - lo, 1e9) + 1)]);
      return type === 'integer' ? Math.floor(v) : v;
    }
    case 'boolean': return rng.chance(0.5);
    case 'null': return null;
    default: return stringFor(rng, s);
  }
}

const WRONG: unknown[] = [null, true, 0, -1, 1.5, 1e20, '', 'x', [], {}, [1], { a: 1 }, 'a\r\nb', 'x'.repeat(10000)];

/** One random change somewhere in a JSON value (may or may not break it). */
export function mutate(rng: Rng, v: unknown, schema: Schema, root: Schema = schema): unknown {
  const s = resolve(schema, root);
  if (v && typeof v === 'object' && !Array.isArray(v) && rng.chance(0.7)) {
    const o = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(o);
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const r = rng.int(5);
    if (r === 0 && keys.length) delete o[rng.pick(keys)];
    else if (r === 1) o[rng.chance(0.5) ? token(rng) : rng.pick(Object.keys(props).concat('x'))] = rng.pick(WRONG);
    else if (r === 2 && Object.keys(props).length) { const k = rng.pick(Object.keys(props)); o[k] = fromSchema(rng, props[k], root); }
    else if (keys.length) { const k = rng.pick(keys); o[k] = mutate(rng, o[k], props[k] ?? {}, root); }
    return o;
  }
  if (Array.isArray(v) && v.length && rng.chance(0.7)) {
    const a = [...v];
    const i = rng.int(a.length);
    const r = rng.int(4);
    if (r === 0) a.splice(i, 1);
    else if (r === 1) a.push(a[i]);
    else if (r === 2) a[i] = rng.pick(WRONG);
    else a[i] = mutate(rng, a[i], (s.items ?? {}) as Schema, root);
    return a;
  }
  if (typeof v === 'number') return rng.pick([v + 1, v - 1, -v, v * 1000, 0, 0.5, Number.MAX_SAFE_INTEGER]);
  if (typeof v === 'string') return rng.pick(['', v + v, v.toUpperCase(), ` ${v}`, v + '\n', v.slice(1), 'x'.repeat(9000), ...WRONG]);
  return rng.pick(WRONG);
}

export function randomConfig(rng: Rng, schema: Schema, lab: unknown, validate: ValidateFunction): ConfigCase {
  const r = rng.next();
  let text: string;
  let origin: ConfigCase['origin'];
  if (r < 0.08) {
    // not JSON at all: truncated, trailing garbage, a bare word (never empty: that case is the
    // documented empty-config decision of each filter, not a fuzz verdict)
    const j = JSON.stringify(lab);
    text = rng.pick([j.slice(0, 1 + rng.int(j.length - 1)), `${j},`, `${j} x`, 'nope', '{', `{"a":1,"a":}`, '\u00ff\u00fe']);
    origin = 'broken-json';
    return { text, origin, valid: false, why: 'not JSON' };
  }
  let v: unknown;
  if (r < 0.5) { v = fromSchema(rng, schema); origin = 'schema'; } else { v = lab; origin = 'lab-mutation'; }
  for (let n = rng.range(origin === 'schema' ? 0 : 1, 3); n > 0; n--) v = mutate(rng, v, schema);
  text = JSON.stringify(v);
  const valid = validate(v) as boolean;
  const e = validate.errors?.[0];
  return { text, origin, valid, why: valid ? undefined : `${e?.instancePath || '/'} ${e?.message}` };
}
