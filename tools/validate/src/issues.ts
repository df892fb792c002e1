/** Problems found by the validators, and how they are printed. */

export type PathSeg = string | number;
export type Severity = 'error' | 'warning';

export interface Issue {
  severity: Severity;
  /** File the problem is in, as given to the validator (usually relative to the cwd). */
  file: string;
  /** Path inside the document, e.g. ['static_resources', 'clusters', 0, 'name']. */
  path: PathSeg[];
  message: string;
  /** 1-based position of the closest node in the source file, when known. */
  line?: number;
  col?: number;
  /** Index of the YAML document in a multi-document file. */
  doc?: number;
}

/** `static_resources.clusters[0].name` style rendering of a path. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_@$][\w$@-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(root)';
}

/** RFC 6901 JSON pointer of a path. */
export function jsonPointer(path: readonly PathSeg[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function formatIssue(i: Issue): string {
  const pos = i.line ? `:${i.line}:${i.col ?? 1}` : '';
  const doc = i.doc !== undefined && i.doc > 0 ? ` (document ${i.doc + 1})` : '';
  const where = i.path.length ? ` ${formatPath(i.path)}:` : '';
  return `${i.severity === 'error' ? 'error' : 'warning'} ${i.file}${pos}${doc}${where} ${i.message}`;
}

/** Closest match by edit distance, for "did you mean" hints. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
