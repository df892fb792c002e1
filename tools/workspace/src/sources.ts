/**
 * What a filter's artifact is built from. The release flow dates the artifact by the last commit
 * touching these files (`created`, so the digest is deterministic) and checks them for pending
 * changesets; the Nx plugin hashes the same files as the build's inputs and asks git the same
 * question. Both derive their lists from `artifactSources`, so they cannot disagree.
 */
import { linkedPackageDirs, type FilterInfo } from './filters';

/** Files the release commit edits; they are never sources (see artifactSources). */
export const RELEASE_EDITED_FILES = ['CHANGELOG.md', 'package.json', 'wasmplugin.yaml'];

/** The course's student-sized version of a filter (Nx target build-lab): never released. */
export const LAB_SOURCE = 'lab.ts';

/**
 * One entry of a filter's sources, workspace-relative: a folder (everything under it), one file,
 * or a file left out of an earlier folder.
 */
export interface SourceEntry {
  path: string;
  kind: 'dir' | 'file' | 'exclude';
}

/**
 * The files a filter's wasm is built from: its `assembly/` and `asconfig.json`, the workspace
 * `asconfig.base.json`, and the AssemblyScript sources (`assembly/`, `index.ts`) of every
 * workspace package it statically links. Not `assembly/lab.ts`, the course's student-sized
 * version, which is never released. Files the release commit edits (CHANGELOG.md,
 * package.json, wasmplugin.yaml) are never in this set, so neither `created` nor the changeset
 * check depends on the release commit, and the release build is a cache hit.
 */
export function artifactSources(workspaceRoot: string, filter: Pick<FilterInfo, 'root' | 'dependencies'>): SourceEntry[] {
  const entries: SourceEntry[] = [
    { path: `${filter.root}/assembly`, kind: 'dir' },
    { path: `${filter.root}/assembly/${LAB_SOURCE}`, kind: 'exclude' },
    { path: `${filter.root}/asconfig.json`, kind: 'file' },
    { path: 'asconfig.base.json', kind: 'file' },
  ];
  for (const d of linkedPackageDirs(workspaceRoot, filter)) {
    entries.push({ path: `${d}/assembly`, kind: 'dir' }, { path: `${d}/index.ts`, kind: 'file' });
  }
  return entries;
}

/** The sources as git pathspecs relative to the workspace root (for `git log`, `git status`). */
export function artifactSourcePaths(workspaceRoot: string, filter: Pick<FilterInfo, 'root' | 'dependencies'>): string[] {
  return artifactSources(workspaceRoot, filter).map((e) => (e.kind === 'exclude' ? `:(exclude)${e.path}` : e.path));
}

/** The sources as Nx input globs (`{workspaceRoot}/…`, folders as `/**\/*`). */
export function artifactSourceGlobs(workspaceRoot: string, filter: Pick<FilterInfo, 'root' | 'dependencies'>): string[] {
  return artifactSources(workspaceRoot, filter).map((e) =>
    e.kind === 'exclude' ? `!{workspaceRoot}/${e.path}` : `{workspaceRoot}/${e.path}${e.kind === 'dir' ? '/**/*' : ''}`,
  );
}
