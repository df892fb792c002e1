/**
 * `meshwasm list`: every filter, its version, the digest its wasmplugin.yaml pins, and whether the
 * working tree differs from that release.
 *
 * "The release" is the commit that wrote the pinned sha256 into the filter's wasmplugin.yaml
 * (`git log -S<sha256>`): release:version pins the digest of the artifact built from the sources of
 * that commit. The working tree differs from the release when one of the artifact's source paths
 * (tools/release's `artifactSourcePaths`: the filter's assembly/ and asconfig.json,
 * asconfig.base.json, the SDK's sources) differs from that commit, untracked files included.
 * `--rebuild` also builds and packages each filter and compares the digests themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactSourcePaths, git, packageFilter, type FilterInfo } from '@meshwasm/release';
import { failure, runNx, type Workspace } from './context';
import { readRelease } from './wasmplugin';

export interface ListRow {
  name: string;
  version: string;
  /** The pinned sha256 (manifest digest, hex), or null when the filter is not released. */
  sha256: string | null;
  url: string | null;
  /** The commit that wrote the pin. */
  releaseCommit: string | null;
  state: 'unchanged' | 'changed' | 'not released' | 'pin not committed' | 'unknown';
  /** Source files that differ from the release commit (workspace-relative). */
  changed: string[];
  /** --rebuild: the digest of the artifact built from the working tree (hex). */
  built?: string;
}

export function releaseState(root: string, f: FilterInfo, sha256: string | null): Pick<ListRow, 'releaseCommit' | 'state' | 'changed'> {
  if (!sha256) return { releaseCommit: null, state: 'not released', changed: [] };
  if (git(root, ['rev-parse', '--git-dir']) === undefined) return { releaseCommit: null, state: 'unknown', changed: [] };
  const commit = git(root, ['log', '-n1', '--format=%H', `-S${sha256}`, '--', `${f.root}/wasmplugin.yaml`]);
  if (!commit) return { releaseCommit: null, state: 'pin not committed', changed: [] };
  const paths = artifactSourcePaths(root, f);
  const diff = git(root, ['diff', '--name-only', commit, '--', ...paths]);
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '--', ...paths]);
  if (diff === undefined || untracked === undefined) return { releaseCommit: commit, state: 'unknown', changed: [] };
  const changed = [...new Set([...diff.split('\n'), ...untracked.split('\n')].filter(Boolean))].sort();
  return { releaseCommit: commit, state: changed.length ? 'changed' : 'unchanged', changed };
}

export function describeState(r: ListRow): string {
  switch (r.state) {
    case 'not released':
      return 'not released yet (wasmplugin.yaml pins no sha256)';
    case 'pin not committed':
      return 'the pin is not committed yet';
    case 'unknown':
      return 'unknown (not a git checkout)';
    case 'unchanged':
      return `unchanged since ${r.releaseCommit!.slice(0, 10)}`;
    case 'changed': {
      const n = r.changed.length;
      const shownFiles = r.changed.slice(0, 2).join(', ') + (n > 2 ? ', …' : '');
      return `changed since ${r.releaseCommit!.slice(0, 10)}: ${n} file${n > 1 ? 's' : ''} (${shownFiles})`;
    }
  }
}

export function rows(ws: Workspace): ListRow[] {
  return ws.filters().map((f) => {
    let sha256: string | null = null;
    let url: string | null = null;
    try {
      const r = readRelease(f);
      sha256 = r.sha256 ?? null;
      url = r.url ?? null;
    } catch {
      /* no manifest: not released */
    }
    return { name: f.name, version: f.version, sha256, url, ...releaseState(ws.root, f, sha256) };
  });
}

export function table(list: ListRow[], rebuilt: boolean): string {
  const head = ['FILTER', 'VERSION', 'PINNED SHA256', ...(rebuilt ? ['BUILT NOW'] : []), 'WORKING TREE'];
  const body = list.map((r) => [
    r.name,
    r.version,
    r.sha256 ?? '-',
    ...(rebuilt ? [r.built ? `${r.built.slice(0, 12)}… ${r.sha256 ? (r.built === r.sha256 ? '(same)' : '(differs)') : ''}`.trim() : '-'] : []),
    describeState(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

export async function listFilters(ws: Workspace, opts: { json: boolean; rebuild: boolean }): Promise<number> {
  const list = rows(ws);
  if (opts.rebuild && list.length) {
    const b = await runNx(ws, ['run-many', '-t', 'build', '-p', list.map((r) => r.name).join(',')], { stdoutToStderr: true });
    if (b.code !== 0) throw failure(`building the filters failed (nx exited ${b.code}); the compiler's message is above`);
    const tmp = mkdtempSync(join(tmpdir(), 'meshwasm-list-'));
    try {
      for (const r of list) {
        const f = ws.filters().find((x) => x.name === r.name)!;
        const p = await packageFilter(ws.root, f.dir, { outDir: join(tmp, f.name) });
        r.built = p.digest.slice('sha256:'.length);
      }
    } catch (e) {
      throw failure(`packaging failed: ${(e as Error).message}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  ws.io.out(opts.json ? JSON.stringify(list, null, 2) + '\n' : table(list, opts.rebuild));
  return 0;
}
