/**
 * The lockfile must hold every platform's optional packages. A lockfile written where the
 * registry served only one platform's builds is completed by the next `npm install` elsewhere;
 * that rewrite is a root change, and `nx affected` then lists every project. (.ci/run also
 * checks that `npm install` leaves the lockfile unchanged; this test needs no registry.)
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  link?: boolean;
}

const root = join(__dirname, '..', '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };

/** Where npm would find `dep` from the package at `path` (its own node_modules, then up). */
function resolves(path: string, dep: string): boolean {
  let base = path;
  for (;;) {
    if (lock.packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) return true;
    const i = base.lastIndexOf('/node_modules/');
    if (base === '') return false;
    base = i < 0 ? '' : base.slice(0, i);
  }
}

describe('package-lock.json', () => {
  test('is a v3 lockfile', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  test('every optional dependency of every package is in it (all platforms)', () => {
    const missing: string[] = [];
    let optional = 0;
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        optional++;
        if (!resolves(path, dep)) missing.push(`${path || '(root)'} -> ${dep}`);
      }
    }
    expect(optional).toBeGreaterThan(10); // nx and @swc/core each name a package per platform
    expect(missing).toEqual([]);
  });
});
