/** YAML loading with source positions, so that every issue can name its line. */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import type { Issue, PathSeg } from './issues';

export interface YamlDoc {
  index: number;
  value: unknown;
  /** 1-based line/col of the node at `path`, or of its closest existing ancestor. */
  locate(path: readonly PathSeg[]): { line: number; col: number } | undefined;
}

export interface YamlFile {
  file: string;
  docs: YamlDoc[];
  issues: Issue[];
}

/**
 * Parses every document of a YAML stream (YAML 1.2 core schema, duplicate keys are errors).
 * Empty documents (e.g. a trailing `---`) are dropped.
 */
export function parseYaml(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const issues: Issue[] = [];
  const docs: YamlDoc[] = [];
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false }) as Document.Parsed[];
  } catch (e) {
    issues.push({ severity: 'error', file, path: [], message: `YAML cannot be parsed: ${(e as Error).message}` });
    return { file, docs, issues };
  }
  if (!Array.isArray(parsed)) parsed = [parsed];
  parsed.forEach((doc, index) => {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      issues.push({
        severity: 'error',
        file,
        path: [],
        doc: index,
        line: pos.line,
        col: pos.col,
        message: `YAML ${err.code}: ${err.message.split('\n')[0]}`,
      });
    }
    if (doc.errors.length) return;
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      issues.push({ severity: 'error', file, path: [], doc: index, message: `YAML cannot be converted: ${(e as Error).message}` });
      return;
    }
    docs.push({
      index,
      value,
      locate(path) {
        for (let n = path.length; n >= 0; n--) {
          const node = nodeAt(doc, path.slice(0, n));
          const range = (node as { range?: [number, number, number] } | undefined)?.range;
          if (range) return lineCounter.linePos(range[0]);
        }
        return undefined;
      },
    });
  });
  return { file, docs, issues };
}

/** The node at `path`; for a mapping entry, its key (where a reader looks for the field). */
function nodeAt(doc: Document.Parsed, path: readonly PathSeg[]): unknown {
  let node: unknown = doc.contents;
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) return undefined;
      node = i === path.length - 1 ? pair.key ?? pair.value : pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else return undefined;
  }
  return node;
}

/** Adds line/col to issues that lack them. */
export function positionIssues(issues: Issue[], doc: YamlDoc, prefix: readonly PathSeg[] = []): Issue[] {
  for (const i of issues) {
    if (i.line) continue;
    const pos = doc.locate([...prefix, ...i.path]);
    if (pos) {
      i.line = pos.line;
      i.col = pos.col;
    }
    i.doc = doc.index;
  }
  return issues;
}
