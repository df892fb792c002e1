import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');

/** The Markdown files git tracks (or would track), CHANGELOGs and pending changesets aside. */
export function markdownFiles(root: string = ROOT): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((f) => f && !f.startsWith('.changeset/') && !/(^|\/)CHANGELOG\.md$/.test(f))
    .map((f) => join(root, f))
    .sort();
}
