/**
 * A filter's `schema.json`: the JSON Schema of its pluginConfig.
 *
 * - Dialect: JSON Schema draft-07 is the project default (`"$schema":
 *   "http://json-schema.org/draft-07/schema#"`, or no `$schema`); draft 2020-12 is accepted when
 *   declared (`"https://json-schema.org/draft/2020-12/schema"`). Any other `$schema` fails.
 * - ajv runs in strict mode (unknown keywords, `required` naming undefined properties, ambiguous
 *   types all fail) with the standard formats.
 * - Every object schema that lists `properties` must close itself with `additionalProperties`
 *   (normally `false`) or `unevaluatedProperties`, so that unknown keys in a config are errors.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { ajvIssues } from './istio';
import { jsonPointer, type Issue, type PathSeg } from './issues';

export const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';
export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

export interface FilterSchema {
  file: string;
  dialect: 'draft-07' | '2020-12';
  /** Validates one pluginConfig; issues are placed under `base` (the path of the config). */
  validate(value: unknown, file: string, base: PathSeg[], what: string, schemaName?: string): Issue[];
}

const cache = new Map<string, { schema?: FilterSchema; issues: Issue[] }>();

/** Loads, lints and compiles a schema.json (cached per path and content). */
export function loadFilterSchema(file: string, text = readFileSync(file, 'utf8')): { schema?: FilterSchema; issues: Issue[] } {
  const key = `${file}\0${text}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result = compile(file, text);
  cache.set(key, result);
  return result;
}

function compile(file: string, text: string): { schema?: FilterSchema; issues: Issue[] } {
  const issues: Issue[] = [];
  const err = (path: PathSeg[], message: string) => issues.push({ severity: 'error', file, path, message });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    err([], `not valid JSON: ${(e as Error).message}`);
    return { issues };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    err([], 'a JSON Schema object is expected');
    return { issues };
  }
  const root = json as Record<string, unknown>;
  const declared = root.$schema;
  let dialect: FilterSchema['dialect'];
  if (declared === undefined || declared === DRAFT_07 || declared === DRAFT_07.replace(/#$/, '')) dialect = 'draft-07';
  else if (declared === DRAFT_2020_12 || declared === `${DRAFT_2020_12}#`) dialect = '2020-12';
  else {
    err(['$schema'], `unsupported $schema ${JSON.stringify(declared)}: use ${DRAFT_07} (project default) or ${DRAFT_2020_12}`);
    return { issues };
  }
  if (root.type !== 'object') err(['type'], 'the pluginConfig schema must have "type": "object" at its root');
  lintClosedObjects(root, [], false, err);

  const opts = { allErrors: true, strict: true, allowUnionTypes: true };
  const ajv = dialect === '2020-12' ? new Ajv2020(opts) : new Ajv(opts);
  addFormats(ajv);
  let validateFn: ValidateFunction;
  try {
    validateFn = ajv.compile(root);
  } catch (e) {
    err([], `schema does not compile in strict mode: ${(e as Error).message}`);
    return { issues };
  }
  const schema: FilterSchema = {
    file,
    dialect,
    validate(value, inFile, base, what, schemaName = 'schema.json') {
      if (validateFn(value)) return [];
      return ajvIssues(validateFn.errors, inFile, base).map((i) => {
        const pointer = jsonPointer(i.path.slice(base.length)) || '/';
        return { ...i, message: `${what} violates ${schemaName} at ${pointer}: ${i.message}` };
      });
    },
  };
  return { schema, issues };
}

const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_SINGLE = ['additionalProperties', 'unevaluatedProperties', 'items', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'additionalItems', 'unevaluatedItems'];
/** Keywords whose subschemas are combined with a parent that may close the object itself. */
const COMPOSITION = new Set(['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'not', 'dependentSchemas']);

function lintClosedObjects(node: unknown, path: PathSeg[], inComposition: boolean, err: (p: PathSeg[], m: string) => void): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  const s = node as Record<string, unknown>;
  if (s.properties !== undefined && s.additionalProperties === undefined && s.unevaluatedProperties === undefined && !inComposition) {
    err(path, `object schema at ${jsonPointer(path) || '/'} lists properties but does not set "additionalProperties": false, so unknown keys would pass`);
  }
  for (const k of SCHEMA_MAPS) {
    const m = s[k];
    if (typeof m === 'object' && m !== null) for (const [name, sub] of Object.entries(m)) lintClosedObjects(sub, [...path, k, name], k === 'dependentSchemas', err);
  }
  for (const k of SCHEMA_LISTS) {
    const l = s[k];
    if (Array.isArray(l)) l.forEach((sub, i) => lintClosedObjects(sub, [...path, k, i], COMPOSITION.has(k), err));
  }
  for (const k of SCHEMA_SINGLE) {
    const sub = s[k];
    if (Array.isArray(sub)) sub.forEach((x, i) => lintClosedObjects(x, [...path, k, i], false, err));
    else lintClosedObjects(sub, [...path, k], COMPOSITION.has(k), err);
  }
}
