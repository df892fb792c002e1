/**
 * Throwaway git copies of this workspace for the release tests: the shared helper of
 * `@meshwasm/workspace/test-support`, plus what only the release tests need.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitIn, workspaceRoot } from '@meshwasm/workspace/test-support';
import { linkNodeModules } from '../src/verify';

import { copyWorkspace as copyShared, type CopyOptions as SharedCopyOptions } from '@meshwasm/workspace/test-support';

export { cleanEnv, configureGit, gitIn, removeDir, runIn, workspaceRoot, type RunResult } from '@meshwasm/workspace/test-support';

export interface CopyOptions extends SharedCopyOptions {
  /**
   * node_modules as linkNodeModules makes it (the installed packages, but the workspace's own
   * packages and bins are the copy's folders) instead of one link to the workspace's node_modules.
   */
  ownPackages?: boolean;
}

/** The shared throwaway copy; `ownPackages` links node_modules the way a release checkout does. */
export function copyWorkspace(prefix: string, opts: CopyOptions = {}): string {
  return copyShared(prefix, opts.ownPackages ? { ...opts, makeNodeModules: linkNodeModules } : opts);
}

/** A clean checkout of `commit` of `repo` (a clone: nothing of the working tree, no build output). */
export function cloneAt(repo: string, commit: string, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  gitIn(dir, 'clone', '-q', '--no-checkout', repo, '.');
  gitIn(dir, 'checkout', '-q', '--detach', commit);
  linkNodeModules(workspaceRoot, dir); // that commit's own SDK and tools, the installed packages
  return dir;
}

/** `.changeset/*.md` files other than README.md. */
export function changesetFiles(dir: string): string[] {
  return readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md').sort();
}
