/**
 * Pins Istio WasmPlugin manifests to a released artifact: `spec.url` becomes
 * `oci://<registry>/<name>:<version>` and `spec.sha256` the artifact's MANIFEST digest (what
 * istio-agent compares for oci:// URLs).
 *
 * Edits are surgical: the yaml Document API locates the nodes (with their source ranges) and only
 * those bytes are replaced, so comments, key order, quoting and blank lines stay as written.
 * TrafficExtension documents (`spec.wasm.url` / `spec.wasm.sha256`) are handled the same way.
 */
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, parseAllDocuments, type Document, type Pair, type YAMLMap } from 'yaml';

export interface PinTarget {
  /** Filter / repository name, e.g. `header`. */
  name: string;
  /** `oci://registry/.../name:version` */
  url: string;
  /** 64 hex characters (no `sha256:`). */
  sha256: string;
}

export interface PinChange {
  file: string;
  /** Index of the YAML document in the file. */
  doc: number;
  kind: string;
  before: { url?: string; sha256?: string };
  after: { url: string; sha256: string };
}

export interface PinOptions {
  /**
   * `own`: the filter's own wasmplugin.yaml: every WasmPlugin/TrafficExtension document is the
   * filter's, whatever its current url. `reference` (deploy/ manifests): only documents whose
   * oci:// url names the repository `<name>` are touched.
   */
  mode: 'own' | 'reference';
}

const KINDS = new Set(['WasmPlugin', 'TrafficExtension']);

/** `oci://host/a/b/header:1.2.3` or `...@sha256:…` -> `header`; undefined for non-oci urls. */
export function ociRepositoryName(url: string): string | undefined {
  if (!url.startsWith('oci://')) return undefined;
  let rest = url.slice('oci://'.length);
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const parts = rest.split('/');
  if (parts.length < 2) return undefined;
  const last = parts[parts.length - 1];
  const colon = last.indexOf(':');
  return colon >= 0 ? last.slice(0, colon) : last;
}

/** `oci://host/a/b/header:1.2.3` -> `host/a/b` (the registry prefix a release keeps). */
export function ociRegistryPrefix(url: string): string | undefined {
  if (!url.startsWith('oci://')) return undefined;
  let rest = url.slice('oci://'.length);
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(0, at);
  const i = rest.lastIndexOf('/');
  return i > 0 ? rest.slice(0, i) : undefined;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function moduleMap(doc: Document.Parsed, kind: string): YAMLMap | undefined {
  const spec = doc.get('spec', true);
  if (!isMap(spec)) return undefined;
  if (kind === 'TrafficExtension') {
    const wasm = spec.get('wasm', true);
    return isMap(wasm) ? wasm : undefined;
  }
  return spec;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

function scalarText(source: string, node: unknown, value: string): string {
  if (isScalar(node) && node.range) {
    const q = source[node.range[0]];
    if (q === '"') return JSON.stringify(value);
    if (q === "'") return `'${value.replace(/'/g, "''")}'`;
  }
  return plainOrQuoted(value);
}

/** A plain scalar unless YAML would read it as a number (e.g. an all-digit or `123e45` hex digest). */
function plainOrQuoted(value: string): string {
  return /^[0-9.+-]*([eE][+-]?[0-9]+)?$/.test(value) ? JSON.stringify(value) : value;
}

/**
 * Computes the pinned text of one YAML file. Returns the new text (identical when nothing
 * changed) and the list of documents changed. Throws a clear error on YAML that cannot be parsed
 * (the file is then left alone by the caller).
 */
export function pinYamlText(source: string, file: string, target: PinTarget, opts: PinOptions): { text: string; changes: PinChange[] } {
  if (!/^[0-9a-f]{64}$/.test(target.sha256)) throw new Error(`sha256 ${JSON.stringify(target.sha256)} must be 64 lowercase hex characters`);
  const docs = parseAllDocuments(source, { keepSourceTokens: false });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  const edits: Edit[] = [];
  const changes: PinChange[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${file}: YAML error in document ${i + 1}: ${doc.errors[0].message}`);
    if (!isMap(doc.contents)) return;
    const kind = doc.get('kind');
    if (typeof kind !== 'string' || !KINDS.has(kind)) return;
    const map = moduleMap(doc, kind);
    if (!map) return;
    const urlPair = findPair(map, 'url');
    const url = urlPair && isScalar(urlPair.value) && typeof urlPair.value.value === 'string' ? urlPair.value.value : undefined;
    if (opts.mode === 'reference' && (url === undefined || ociRepositoryName(url) !== target.name)) return;
    const shaPair = findPair(map, 'sha256');
    const sha = shaPair && isScalar(shaPair.value) ? String(shaPair.value.value ?? '') : undefined;
    if (url === target.url && sha === target.sha256) return;
    if (map.flow || !map.range) throw new Error(`${file}: document ${i + 1}: ${kind} spec written in flow style ({...}) is not supported; use block style`);
    changes.push({ file, doc: i, kind, before: { url, sha256: sha }, after: { url: target.url, sha256: target.sha256 } });
    // url: replace the value, or add the key as the map's first entry.
    if (urlPair && isScalar(urlPair.value) && urlPair.value.range) {
      const r = urlPair.value.range;
      edits.push({ start: r[0], end: r[1], text: scalarText(source, urlPair.value, target.url) });
    }
    const firstKey = map.items[0]?.key as { range?: [number, number, number] } | undefined;
    const keyStart = (urlPair?.key as { range?: [number, number, number] } | undefined)?.range?.[0] ?? firstKey?.range?.[0];
    if (keyStart === undefined) throw new Error(`${file}: document ${i + 1}: cannot locate ${kind} spec keys`);
    const lineStart = source.lastIndexOf('\n', keyStart - 1) + 1;
    const indent = source.slice(lineStart, keyStart);
    if (!/^[ ]*$/.test(indent)) throw new Error(`${file}: document ${i + 1}: unexpected layout before the spec keys`);
    const newUrlLine = urlPair ? '' : `${indent}url: ${target.url}\n`;
    if (shaPair && isScalar(shaPair.value) && shaPair.value.range) {
      const r = shaPair.value.range;
      edits.push({ start: r[0], end: r[1], text: scalarText(source, shaPair.value, target.sha256) });
      if (newUrlLine) edits.push({ start: lineStart, end: lineStart, text: newUrlLine });
    } else if (shaPair) {
      throw new Error(`${file}: document ${i + 1}: sha256 is not a scalar`);
    } else if (urlPair && urlPair.value && (urlPair.value as { range?: number[] }).range) {
      // Insert `sha256:` on the line after url (after any trailing comment on that line).
      const end = (urlPair.value as { range: number[] }).range[1];
      const nl = source.indexOf('\n', end);
      const at = nl < 0 ? source.length : nl + 1;
      const prefix = nl < 0 ? '\n' : '';
      edits.push({ start: at, end: at, text: `${prefix}${indent}sha256: ${plainOrQuoted(target.sha256)}\n` });
    } else {
      edits.push({ start: lineStart, end: lineStart, text: `${newUrlLine}${indent}sha256: ${plainOrQuoted(target.sha256)}\n` });
    }
  });
  let text = source;
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  if (changes.length > 0) verifyPinned(text, file, target, changes);
  return { text, changes };
}

/** Re-parses the edited text and checks every changed document now carries the pin. */
function verifyPinned(text: string, file: string, target: PinTarget, changes: PinChange[]): void {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${file}: edit produced an invalid YAML stream`);
  for (const c of changes) {
    const doc = docs[c.doc];
    if (!doc || doc.errors.length > 0) throw new Error(`${file}: edit produced invalid YAML in document ${c.doc + 1}`);
    const base = c.kind === 'TrafficExtension' ? ['spec', 'wasm'] : ['spec'];
    const url = doc.getIn([...base, 'url']);
    const sha = doc.getIn([...base, 'sha256']);
    if (url !== target.url || sha !== target.sha256) {
      throw new Error(`${file}: internal error: document ${c.doc + 1} reads url=${String(url)} sha256=${String(sha)} after the edit`);
    }
  }
}

/** Pins one file in place (atomic rename). Returns the changes (none when already pinned). */
export function pinYamlFile(file: string, target: PinTarget, opts: PinOptions): PinChange[] {
  const source = readFileSync(file, 'utf8');
  const { text, changes } = pinYamlText(source, file, target, opts);
  if (text !== source) {
    const tmp = `${file}.release-tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return changes;
}

/** Every .yaml/.yml file under `dir` (recursively, skipping node_modules and dot dirs). */
export function yamlFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Reads the pin (url, sha256) of every WasmPlugin/TrafficExtension document in a file. */
export function readPins(file: string): { kind: string; url?: string; sha256?: string }[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(docs)) return [];
  const out: { kind: string; url?: string; sha256?: string }[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: YAML error: ${doc.errors[0].message}`);
    const kind = doc.get('kind');
    if (typeof kind !== 'string' || !KINDS.has(kind)) continue;
    const base = kind === 'TrafficExtension' ? ['spec', 'wasm'] : ['spec'];
    const url = doc.getIn([...base, 'url']);
    const sha = doc.getIn([...base, 'sha256']);
    out.push({ kind, url: typeof url === 'string' ? url : undefined, sha256: sha === undefined || sha === null ? undefined : String(sha) });
  }
  return out;
}
