/**
 * The changeset check: a filter whose artifact sources changed since the base needs a changeset,
 * added or changed since that same base, that releases it. Otherwise its wasm changes under an
 * already released version (and the sha256 pinned in git no longer matches what would be
 * published). Older pending changesets do not count: they describe earlier changes.
 *
 * What a changeset releases is asked of the changesets libraries (`@changesets/get-release-plan`
 * with the base as `sinceRef`), so the check agrees with `changeset version`, dependents included:
 * with `updateInternalDependents: "always"`, an SDK changeset releases every filter.
 *
 * Base of the comparison, first that applies:
 *   1. an explicit base (`--base REF` or $CHANGESET_CHECK_BASE; CI passes the affected base);
 *   2. on a branch with commits of its own: its merge-base with `origin/<baseBranch>`, else
 *      `<baseBranch>` (what the branch changes);
 *   3. the filter's release: the tag `<name>@<version>`, else the release commit (found without
 *      tags, see `releaseCommit`);
 *   4. none: the check passes with a note (nothing to compare with, e.g. a shallow clone).
 */
import { readChangesetConfig, readPendingChangesets, releasePlan } from './changesets';
import { artifactSourcePaths, git, readFilter, releaseCommit, type FilterInfo } from './workspace';

export type BaseKind = 'explicit' | 'merge-base' | 'tag' | 'release-commit';

export interface ChangesetCheckResult {
  ok: boolean;
  filter: string;
  version: string;
  /** The ref compared with, and how it was chosen. */
  base?: { ref: string; commit: string; kind: BaseKind };
  /** Source files changed since the base (committed, staged, unstaged or untracked). */
  changed: string[];
  /** Changesets added or changed since the base that release this filter (directly or as a dependent). */
  covering: string[];
  /** The bump the release plan gives this filter, when it releases it. */
  bump?: string;
  message: string;
}

export interface ChangesetCheckOptions {
  base?: string;
}

function commitOf(workspaceRoot: string, ref: string): string | undefined {
  return git(workspaceRoot, ['rev-parse', '-q', '--verify', `${ref}^{commit}`]);
}

function resolveBase(workspaceRoot: string, f: FilterInfo, baseBranch: string, explicit?: string): ChangesetCheckResult['base'] {
  if (explicit) {
    const commit = commitOf(workspaceRoot, explicit);
    if (!commit) throw new Error(`changeset check: base ${JSON.stringify(explicit)} is not a commit in this repository`);
    return { ref: explicit, commit, kind: 'explicit' };
  }
  const head = commitOf(workspaceRoot, 'HEAD');
  for (const ref of [`origin/${baseBranch}`, baseBranch]) {
    if (!commitOf(workspaceRoot, ref)) continue;
    const mb = git(workspaceRoot, ['merge-base', 'HEAD', ref]);
    if (mb && mb !== head) return { ref: `merge-base(HEAD, ${ref})`, commit: mb, kind: 'merge-base' };
    break;
  }
  const tag = `${f.name}@${f.version}`;
  const tagged = commitOf(workspaceRoot, `refs/tags/${tag}`);
  if (tagged) return { ref: tag, commit: tagged, kind: 'tag' };
  const release = releaseCommit(workspaceRoot, f);
  if (release) return { ref: `the release commit of ${tag} (${release.slice(0, 12)})`, commit: release, kind: 'release-commit' };
  return undefined;
}

/** `.changeset/*.md` files git does not track: `git diff` (hence the release plan) cannot see them. */
function untrackedChangesets(workspaceRoot: string): string[] {
  const out = git(workspaceRoot, ['ls-files', '--others', '--exclude-standard', '--', '.changeset']) ?? '';
  return out.split('\n').filter((p) => /^\.changeset\/[^/]+\.md$/.test(p) && !/\/readme\.md$/i.test(p));
}

export async function changesetCheck(workspaceRoot: string, filterDir: string, opts: ChangesetCheckOptions = {}): Promise<ChangesetCheckResult> {
  const f = readFilter(workspaceRoot, filterDir);
  const result = (ok: boolean, message: string, extra: Partial<ChangesetCheckResult> = {}): ChangesetCheckResult => ({
    ok, filter: f.name, version: f.version, changed: [], covering: [], ...extra, message,
  });
  if (!git(workspaceRoot, ['rev-parse', '--git-dir'])) {
    return result(true, `${f.name}: not a git checkout; nothing to compare (pass)`);
  }
  const config = await readChangesetConfig(workspaceRoot);
  const base = resolveBase(workspaceRoot, f, config.baseBranch, opts.base ?? (process.env.CHANGESET_CHECK_BASE || undefined));
  if (!base) {
    return result(true, `${f.name}@${f.version}: no ${config.baseBranch} branch, release tag or release commit to compare with; nothing to check (pass)`);
  }
  const paths = artifactSourcePaths(workspaceRoot, f);
  const diff = git(workspaceRoot, ['diff', '--name-only', base.commit, '--', ...paths]);
  if (diff === undefined) throw new Error(`changeset check: git diff against ${base.ref} failed`);
  const untracked = git(workspaceRoot, ['ls-files', '--others', '--exclude-standard', '--', ...paths]) ?? '';
  const changed = [...new Set([...diff.split('\n'), ...untracked.split('\n')].filter(Boolean))].sort();
  if (changed.length === 0) {
    return result(true, `${f.name}@${f.version}: sources unchanged since ${base.ref} (pass)`, { base });
  }

  const plan = await releasePlan(workspaceRoot, base.commit);
  const release = plan.releases.find((r) => r.name === f.name && r.type !== 'none');
  if (release) {
    // Released directly (a changeset names it) or as a dependent of a released workspace package.
    const direct = release.changesets;
    const via = plan.releases.filter((r) => r.type !== 'none' && f.dependencies.includes(r.name) && r.changesets.length > 0);
    const covering = direct.length > 0 ? direct : [...new Set(via.flatMap((r) => r.changesets))];
    const why = direct.length > 0
      ? `released (${release.type}) by ${direct.map((c) => `.changeset/${c}.md`).join(', ')}`
      : `released (${release.type}) as a dependent of ${via.map((r) => r.name).join(', ')} (${covering.map((c) => `.changeset/${c}.md`).join(', ')})`;
    return result(true, `${f.name}@${f.version}: ${changed.length} source file(s) changed since ${base.ref}, ${why} (pass)`, {
      base, changed, covering, bump: release.type,
    });
  }

  const shown = changed.slice(0, 10).map((c) => `  ${c}`).join('\n') + (changed.length > 10 ? `\n  … and ${changed.length - 10} more` : '');
  const notes: string[] = [];
  const older = (await readPendingChangesets(workspaceRoot)).filter((c) => c.releases.some((r) => r.name === f.name && r.type !== 'none'));
  const newer = new Set(plan.changesets.map((c) => c.id));
  const olderOnly = older.filter((c) => !newer.has(c.id));
  if (olderOnly.length > 0) {
    notes.push(`Pending ${olderOnly.map((c) => `.changeset/${c.id}.md`).join(', ')} name ${f.name} but were added before ${base.ref}: they describe earlier changes, not this one.`);
  }
  const loose = untrackedChangesets(workspaceRoot);
  if (loose.length > 0) notes.push(`Not counted until git tracks them (git add): ${loose.join(', ')}.`);
  return result(
    false,
    `${f.name}@${f.version}: error: the artifact sources changed since ${base.ref} but no changeset added since then releases ${f.name}:\n${shown}\n` +
      notes.map((n) => `${n}\n`).join('') +
      `Add one with \`npx changeset\` (select ${f.name}, pick the bump, describe the change for its users) and commit .changeset/*.md with the change.`,
    { base, changed },
  );
}

