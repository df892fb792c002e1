/**
 * The workspace's changesets, as the changesets libraries read them (the same code `changeset
 * version` runs): `@changesets/config` for `.changeset/config.json`, `@changesets/read` for the
 * pending `.changeset/*.md` files, `@changesets/get-release-plan` for what they release (with the
 * dependents that `updateInternalDependents` adds).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { read as readConfig } from '@changesets/config';
import getReleasePlan from '@changesets/get-release-plan';
import parseChangeset from '@changesets/parse';
import readChangesets from '@changesets/read';
import type { Config, NewChangeset, ReleasePlan } from '@changesets/types';

export type { Config as ChangesetConfig, NewChangeset as PendingChangeset, ReleasePlan };

function hasChangesetDir(workspaceRoot: string): boolean {
  return existsSync(join(workspaceRoot, '.changeset'));
}

/**
 * The libraries' parse errors quote the text but not the file: name the first file that does not
 * parse, so the message says which changeset to fix.
 */
async function naming<T>(workspaceRoot: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const dir = join(workspaceRoot, '.changeset');
    for (const file of readdirSync(dir).filter((n) => n.endsWith('.md') && !/^readme\.md$/i.test(n)).sort()) {
      try {
        parseChangeset(readFileSync(join(dir, file), 'utf8'));
      } catch (parseErr) {
        throw new Error(`.changeset/${file}: ${(parseErr as Error).message.split('\n')[0]}`);
      }
    }
    throw err;
  }
}

/** `.changeset/config.json`, parsed and validated by `@changesets/config` (defaults filled in). */
export async function readChangesetConfig(workspaceRoot: string): Promise<Config> {
  if (!existsSync(join(workspaceRoot, '.changeset', 'config.json'))) {
    throw new Error(`${join(workspaceRoot, '.changeset', 'config.json')} does not exist: this workspace is not set up for changesets (npx changeset init)`);
  }
  return readConfig(workspaceRoot);
}

/**
 * Pending changesets. With `sinceRef`, only those whose file was added or changed since the
 * merge-base of `sinceRef` and HEAD (committed, staged or modified; untracked files are not seen).
 */
export async function readPendingChangesets(workspaceRoot: string, sinceRef?: string): Promise<NewChangeset[]> {
  if (!hasChangesetDir(workspaceRoot)) return [];
  return naming(workspaceRoot, () => readChangesets(workspaceRoot, sinceRef));
}

/** What `changeset version` would release, from every pending changeset or (`sinceRef`) only the new ones. */
export async function releasePlan(workspaceRoot: string, sinceRef?: string): Promise<ReleasePlan> {
  if (!hasChangesetDir(workspaceRoot)) return { changesets: [], releases: [], preState: undefined };
  return naming(workspaceRoot, () => getReleasePlan(workspaceRoot, sinceRef));
}
