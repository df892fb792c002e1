/**
 * The workspace as the release flow sees it: the shared model of `@meshwasm/workspace` (every
 * `packages/<dir>/asconfig.json` with a package.json is a filter, released as the OCI artifact
 * `<registry>/<name>:<version>`, dated by its artifactSourcePaths), and the git history of a
 * filter's releases.
 */
import { spawnSync } from 'node:child_process';
import type { FilterInfo } from '@meshwasm/workspace';

export {
  RELEASE_EDITED_FILES,
  artifactSourcePaths,
  findWorkspaceRoot,
  listFilters,
  readFilter,
  toPosix,
  workspacePackageDirs,
  type FilterInfo,
} from '@meshwasm/workspace';

/** Runs git in `cwd`; returns trimmed stdout, or undefined when git fails. */
export function git(cwd: string, args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim();
}

/**
 * The commit that released the filter's current version, found without tags (they may not travel
 * with a clone): the commit whose package.json changed the version to the current one (the last
 * version change), provided its CHANGELOG.md has a `## <version>` entry there (creating a package
 * with a version nobody released is not a release). Undefined when there is none (or no git).
 */
export function releaseCommit(workspaceRoot: string, filter: FilterInfo): string | undefined {
  const pkg = `${filter.root}/package.json`;
  const versionAt = (commit: string): string | undefined => {
    const text = git(workspaceRoot, ['show', `${commit}:${pkg}`]);
    try {
      return text ? (JSON.parse(text) as { version?: string }).version : undefined;
    } catch {
      return undefined;
    }
  };
  // Newest first: the commits that touched package.json while it names the current version; the
  // oldest of that run is where the version became current.
  const commits = (git(workspaceRoot, ['log', '--format=%H', '--', pkg]) ?? '').split('\n').filter(Boolean);
  let since: string | undefined;
  for (const c of commits) {
    if (versionAt(c) !== filter.version) break;
    since = c;
  }
  if (!since) return undefined;
  const changelog = git(workspaceRoot, ['show', `${since}:${filter.root}/CHANGELOG.md`]) ?? '';
  const heading = new RegExp(`^## ${filter.version.replace(/[.+]/g, '\\$&')}\\s*$`, 'm');
  return heading.test(changelog) ? since : undefined;
}
