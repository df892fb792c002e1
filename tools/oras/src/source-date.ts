/**
 * `created` for reproducible releases: the committer time of the last commit that touched the
 * filter's own sources (never the release commit), as SOURCE_DATE_EPOCH-style seconds.
 */
import { spawnSync } from 'node:child_process';

export interface SourceDateOptions {
  /** Repository working directory (default process.cwd()). */
  cwd?: string;
  /** Pathspecs of the filter's sources, e.g. ['packages/header', ':(exclude)packages/header/CHANGELOG.md']. */
  paths: string[];
  /** Revision to look from (default HEAD). */
  rev?: string;
}

/** Seconds since the epoch, or undefined when not in a git checkout or no commit touched the paths. */
export function sourceDateEpoch(opts: SourceDateOptions): number | undefined {
  if (opts.paths.length === 0) throw new Error('sourceDateEpoch: at least one path is required');
  const r = spawnSync('git', ['log', '-1', '--format=%ct', opts.rev ?? 'HEAD', '--', ...opts.paths], {
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) return undefined;
  const s = r.stdout.trim();
  return /^\d+$/.test(s) ? Number(s) : undefined;
}
