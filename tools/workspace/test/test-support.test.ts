import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyWorkspace, gitIn, removeDir, runIn, workspaceFiles, workspaceRoot } from '../src/test-support';

let origin: string;
const copies: string[] = [];

beforeAll(() => {
  origin = mkdtempSync(join(tmpdir(), 'workspace-origin-'));
  const files: Record<string, string> = {
    'package.json': '{"workspaces":["packages/*"]}',
    '.gitignore': 'ignored.txt\nnode_modules\n',
    'packages/a/index.ts': 'export {};\n',
    'ignored.txt': 'not copied',
    '.changeset/README.md': 'kept',
    '.changeset/config.json': '{}',
    '.changeset/pending.md': '---\n"a": patch\n---\n\npending\n',
    'node_modules/.keep': '',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(origin, f)), { recursive: true });
    writeFileSync(join(origin, f), text);
  }
  gitIn(origin, 'init', '-q', '-b', 'main');
  gitIn(origin, 'add', 'package.json', '.gitignore', 'packages');
  writeFileSync(join(origin, 'untracked.ts'), 'export {};\n'); // untracked, not ignored: copied
});
afterAll(() => {
  for (const c of copies) removeDir(c);
  removeDir(origin);
});

describe('a throwaway copy of a workspace', () => {
  it('holds the tracked and untracked files, not the ignored ones nor pending changesets, and links node_modules', () => {
    const copy = copyWorkspace('workspace-copy-', { from: origin });
    copies.push(copy);
    expect(readFileSync(join(copy, 'packages/a/index.ts'), 'utf8')).toBe('export {};\n');
    expect(existsSync(join(copy, 'untracked.ts'))).toBe(true);
    expect(existsSync(join(copy, 'ignored.txt'))).toBe(false);
    expect(existsSync(join(copy, '.changeset/README.md'))).toBe(true);
    expect(existsSync(join(copy, '.changeset/config.json'))).toBe(true);
    expect(existsSync(join(copy, '.changeset/pending.md'))).toBe(false);
    expect(lstatSync(join(copy, 'node_modules')).isSymbolicLink()).toBe(true);
    // a repository on main with one commit holding everything
    expect(gitIn(copy, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(gitIn(copy, 'log', '--format=%s')).toBe('base');
    expect(gitIn(copy, 'status', '--porcelain')).toBe('');
  });

  it('keeps pending changesets and skips git when asked', () => {
    const copy = copyWorkspace('workspace-copy-', { from: origin, keepChangesets: true, git: false });
    copies.push(copy);
    expect(existsSync(join(copy, '.changeset/pending.md'))).toBe(true);
    expect(existsSync(join(copy, '.git'))).toBe(false);
    expect(workspaceFiles(origin, { keepChangesets: true })).toContain('.changeset/pending.md');
  });

  it('knows this workspace and runs commands in it without the outer npm and Nx settings', () => {
    expect(existsSync(join(workspaceRoot, 'tools', 'workspace', 'package.json'))).toBe(true);
    const r = runIn(workspaceRoot, process.execPath, ['-e', 'console.log(process.env.NX_DAEMON, process.env.npm_lifecycle_event ?? "none")'], undefined);
    expect(r.status).toBe(0);
    expect(r.out.trim()).toBe('false none');
  });
});
