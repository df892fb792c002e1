/**
 * Pending changesets (`.changeset/*.md`), read without the changesets runtime: each file has a
 * YAML front matter mapping package names to bump types.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export type Bump = 'major' | 'minor' | 'patch' | 'none';

export interface PendingChangeset {
  /** File name without `.md`. */
  id: string;
  releases: { name: string; type: Bump }[];
  summary: string;
}

export interface ChangesetConfig {
  updateInternalDependents?: 'always' | 'out-of-range';
  privatePackages?: { version?: boolean; tag?: boolean } | boolean;
}

export function parseChangeset(id: string, text: string): PendingChangeset {
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/.exec(text.replace(/^\uFEFF/, ''));
  if (!m) throw new Error(`.changeset/${id}.md: no front matter (expected "---", package: bump lines, "---")`);
  let front: unknown;
  try {
    front = m[1].trim() === '' ? {} : parse(m[1]);
  } catch (err) {
    throw new Error(`.changeset/${id}.md: invalid front matter: ${(err as Error).message}`);
  }
  if (front === null || typeof front !== 'object' || Array.isArray(front)) {
    throw new Error(`.changeset/${id}.md: front matter must map package names to major|minor|patch|none`);
  }
  const releases: PendingChangeset['releases'] = [];
  for (const [name, type] of Object.entries(front as Record<string, unknown>)) {
    if (type !== 'major' && type !== 'minor' && type !== 'patch' && type !== 'none') {
      throw new Error(`.changeset/${id}.md: ${name}: bump ${JSON.stringify(type)} is not major|minor|patch|none`);
    }
    releases.push({ name, type });
  }
  return { id, releases, summary: m[2].trim() };
}

/** Every pending changeset of the workspace (README.md and non-md files are not changesets). */
export function readPendingChangesets(workspaceRoot: string): PendingChangeset[] {
  const dir = join(workspaceRoot, '.changeset');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f.toLowerCase() !== 'readme.md')
    .sort()
    .map((f) => parseChangeset(f.slice(0, -3), readFileSync(join(dir, f), 'utf8')));
}

export function readChangesetConfig(workspaceRoot: string): ChangesetConfig {
  const p = join(workspaceRoot, '.changeset', 'config.json');
  if (!existsSync(p)) return {};
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${p}: invalid JSON: ${(err as Error).message}`);
  }
  const unsafe = raw.___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH as { updateInternalDependents?: ChangesetConfig['updateInternalDependents'] } | undefined;
  return {
    updateInternalDependents: unsafe?.updateInternalDependents,
    privatePackages: raw.privatePackages as ChangesetConfig['privatePackages'],
  };
}

/**
 * The pending changesets that release `name`: those naming it (bump other than none), and, when
 * `updateInternalDependents` is "always" (every dependent is patch-bumped), those naming one of
 * the workspace packages it statically links.
 */
export function changesetsReleasing(
  name: string,
  dependencies: string[],
  pending: PendingChangeset[],
  config: ChangesetConfig,
): PendingChangeset[] {
  const viaDeps = config.updateInternalDependents === 'always' ? new Set(dependencies) : new Set<string>();
  return pending.filter((c) => c.releases.some((r) => r.type !== 'none' && (r.name === name || viaDeps.has(r.name))));
}
