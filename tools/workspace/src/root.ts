/** Where the workspace is, and its paths as the tools print them. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** Finds the workspace root (the directory whose package.json has `workspaces`) above `from`. */
export function findWorkspaceRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        if (JSON.parse(readFileSync(p, 'utf8')).workspaces) return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = resolve(dir, '..');
    if (up === dir) throw new Error(`no npm workspace root (package.json with "workspaces") above ${from}`);
    dir = up;
  }
}

/** A path with forward slashes, as git pathspecs and Nx inputs want it. */
export function toPosix(p: string): string {
  return p.split(sep).join('/');
}
