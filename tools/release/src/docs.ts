/**
 * The table of released filters in docs/publishing.md, between `<!-- releases:start -->` and
 * `<!-- releases:end -->`, is generated from the workspace (each filter's version and the pin in
 * its wasmplugin.yaml); `release:version` and `pin` rewrite it, a test checks it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPins } from './manifests';
import { listFilters } from './workspace';

export const RELEASES_DOC = 'docs/publishing.md';
const START = '<!-- releases:start -->';
const END = '<!-- releases:end -->';

export function releasesTable(workspaceRoot: string): string {
  const rows = listFilters(workspaceRoot).map((f) => {
    const own = join(f.dir, 'wasmplugin.yaml');
    const pin = existsSync(own) ? readPins(own)[0] : undefined;
    const url = pin?.url ? `\`${pin.url}\`` : '(none)';
    const sha = pin?.sha256 ? `\`${pin.sha256}\`` : 'not pinned (never released)';
    return `| ${f.name} | ${f.version} | ${url} | ${sha} |`;
  });
  return ['| filter | version | url | sha256 |', '|---|---|---|---|', ...rows].join('\n');
}

/** The doc's text with the generated table; throws when the markers are missing. */
export function withReleasesTable(workspaceRoot: string, text: string): string {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${RELEASES_DOC}: the markers ${START} … ${END} are missing`);
  return `${text.slice(0, a + START.length)}\n${releasesTable(workspaceRoot)}\n${text.slice(b)}`;
}

/** Rewrites the table in docs/publishing.md (when the doc exists); true when it changed. */
export function writeReleasesTable(workspaceRoot: string): boolean {
  const file = join(workspaceRoot, RELEASES_DOC);
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  const next = withReleasesTable(workspaceRoot, text);
  if (next === text) return false;
  writeFileSync(file, next);
  return true;
}
