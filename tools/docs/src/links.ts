/**
 * Documents must not point outside the repository: every relative link resolves to a file or
 * folder that is in it, and no text names the research notes that sit beside the repository
 * (they are not shipped to users).
 *
 * And no output is typed by hand: a fenced block without a language is command output, so it
 * must be a transcript (see transcripts.ts). Code and diagrams name their language (`sh`, `json`,
 * `text`…).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface LinkProblem {
  file: string;
  line: number;
  problem: string;
}

const LINK = /\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const OUTSIDE_NOTES = /(?:\.\.\/)+shared\/|shared\/(?:reference|seeds|hooks)\//;

export function checkLinks(file: string, text: string, root: string): LinkProblem[] {
  const problems: LinkProblem[] = [];
  const rel = relative(root, file);
  let inFence = false;
  let example = false; // inside a ````-fenced example of Markdown
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.startsWith('````')) {
      example = !example;
      return;
    }
    if (example) return;
    if (/^```/.test(line)) {
      inFence = !inFence;
      if (inFence && line === '```' && !/^<!--\s*transcript[\s:]/.test(lines[i - 1] ?? '')) {
        problems.push({ file: rel, line: i + 1, problem: 'output typed by hand: mark the block as a transcript, or name its language (text, sh…)' });
      }
    }
    if (OUTSIDE_NOTES.test(line)) {
      problems.push({ file: rel, line: i + 1, problem: 'names notes outside the repository (shared/…)' });
    }
    if (inFence) return;
    for (const m of line.matchAll(LINK)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // a URL or an anchor
      const path = decodeURIComponent(target.split('#')[0]);
      const abs = path.startsWith('/') ? join(root, path) : resolve(dirname(file), path);
      if (abs !== root && !abs.startsWith(root + sep)) {
        problems.push({ file: rel, line: i + 1, problem: `link ${target} points outside the repository` });
      } else if (!existsSync(abs)) {
        problems.push({ file: rel, line: i + 1, problem: `link ${target} names a path that does not exist` });
      }
    }
  });
  return problems;
}
