/**
 * The changeset check: a filter whose artifact sources changed since its last release needs a
 * pending changeset, otherwise its wasm changes under an already released version (and the
 * sha256 pinned in git no longer matches what would be published).
 *
 * Base of the comparison, first that exists:
 *   1. an explicit base (`--base REF` or $CHANGESET_CHECK_BASE);
 *   2. the filter's last release tag `<name>@<version>`;
 *   3. the merge-base of HEAD with `origin/<baseBranch>`, else `<baseBranch>` (untagged filters);
 *   4. none: the check passes with a note (nothing to compare with, e.g. a shallow clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { changesetsReleasing, readChangesetConfig, readPendingChangesets } from './changesets';
import { artifactSourcePaths, git, readFilter } from './workspace';

export interface ChangesetCheckResult {
  ok: boolean;
  filter: string;
  version: string;
  /** The ref compared with, and how it was chosen. */
  base?: { ref: string; commit: string; kind: 'explicit' | 'tag' | 'merge-base' };
  /** Source files changed since the base (committed, staged, unstaged or untracked). */
  changed: string[];
  /** Pending changesets that release this filter. */
  covering: string[];
  message: string;
}

function baseBranch(workspaceRoot: string): string {
  const p = join(workspaceRoot, '.changeset', 'config.json');
  if (!existsSync(p)) return 'main';
  try {
    const b = JSON.parse(readFileSync(p, 'utf8')).baseBranch;
    return typeof b === 'string' && b ? b : 'main';
  } catch {
    return 'main';
  }
}

function resolveBase(workspaceRoot: string, name: string, version: string, explicit?: string): ChangesetCheckResult['base'] {
  if (explicit) {
    const commit = git(workspaceRoot, ['rev-parse', '-q', '--verify', `${explicit}^{commit}`]);
    if (!commit) throw new Error(`changeset check: base ${JSON.stringify(explicit)} is not a commit in this repository`);
    return { ref: explicit, commit, kind: 'explicit' };
  }
  const tag = `${name}@${version}`;
  const tagged = git(workspaceRoot, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`]);
  if (tagged) return { ref: tag, commit: tagged, kind: 'tag' };
  const branch = baseBranch(workspaceRoot);
  for (const ref of [`origin/${branch}`, branch]) {
    if (!git(workspaceRoot, ['rev-parse', '-q', '--verify', `${ref}^{commit}`])) continue;
    const mb = git(workspaceRoot, ['merge-base', 'HEAD', ref]);
    if (mb) return { ref: `merge-base(HEAD, ${ref})`, commit: mb, kind: 'merge-base' };
  }
  return undefined;
}

export interface ChangesetCheckOptions {
  base?: string;
}

export function changesetCheck(workspaceRoot: string, filterDir: string, opts: ChangesetCheckOptions = {}): ChangesetCheckResult {
  const f = readFilter(workspaceRoot, filterDir);
  if (!git(workspaceRoot, ['rev-parse', '--git-dir'])) {
    return { ok: true, filter: f.name, version: f.version, changed: [], covering: [], message: `${f.name}: not a git checkout; nothing to compare (pass)` };
  }
  const base = resolveBase(workspaceRoot, f.name, f.version, opts.base ?? (process.env.CHANGESET_CHECK_BASE || undefined));
  const pending = readPendingChangesets(workspaceRoot);
  const covering = changesetsReleasing(f.name, f.dependencies, pending, readChangesetConfig(workspaceRoot)).map((c) => c.id);
  if (!base) {
    return {
      ok: true, filter: f.name, version: f.version, changed: [], covering,
      message: `${f.name}@${f.version}: no release tag and no ${baseBranch(workspaceRoot)} branch to compare with; nothing to check (pass)`,
    };
  }
  const paths = artifactSourcePaths(workspaceRoot, f);
  const diff = git(workspaceRoot, ['diff', '--name-only', base.commit, '--', ...paths]);
  if (diff === undefined) throw new Error(`changeset check: git diff against ${base.ref} failed`);
  const untracked = git(workspaceRoot, ['ls-files', '--others', '--exclude-standard', '--', ...paths]) ?? '';
  const changed = [...new Set([...diff.split('\n'), ...untracked.split('\n')].filter(Boolean))].sort();
  if (changed.length === 0) {
    return { ok: true, filter: f.name, version: f.version, base, changed, covering, message: `${f.name}@${f.version}: sources unchanged since ${base.ref} (pass)` };
  }
  if (covering.length > 0) {
    return {
      ok: true, filter: f.name, version: f.version, base, changed, covering,
      message: `${f.name}@${f.version}: ${changed.length} source file(s) changed since ${base.ref}, released by pending changeset(s) ${covering.map((c) => `.changeset/${c}.md`).join(', ')} (pass)`,
    };
  }
  const shown = changed.slice(0, 10).map((c) => `  ${c}`).join('\n') + (changed.length > 10 ? `\n  … and ${changed.length - 10} more` : '');
  return {
    ok: false, filter: f.name, version: f.version, base, changed, covering,
    message:
      `${f.name}@${f.version}: error: the artifact sources changed since ${base.ref} but no pending changeset releases ${f.name}:\n${shown}\n` +
      `Add one with \`npx changeset\` (select ${f.name}, pick the bump, describe the change) and commit .changeset/*.md with the change.`,
  };
}
