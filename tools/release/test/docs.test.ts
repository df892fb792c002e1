/**
 * The documents agree on the release: one registry path (ghcr.io/meshwasm) in the READMEs and the
 * manifests, and the table of releases in docs/publishing.md is the one the workspace generates.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { releasesTable, withReleasesTable } from '../src/docs';
import { readPins } from '../src/manifests';
import { listFilters } from '../src/workspace';
import { workspaceRoot as root } from './workspace-copy';

const read = (p: string) => readFileSync(join(root, p), 'utf8');

describe('release documents', () => {
  test('docs/publishing.md carries the current table of releases', () => {
    const text = read('docs/publishing.md');
    expect(withReleasesTable(root, text)).toBe(text);
    for (const f of listFilters(root)) {
      const pin = readPins(join(f.dir, 'wasmplugin.yaml'))[0];
      expect(releasesTable(root)).toContain(`| ${f.name} | ${f.version} | \`${pin.url}\` | \`${pin.sha256}\` |`);
    }
  });

  test('one registry path, ghcr.io/meshwasm: READMEs name no other ghcr.io namespace', () => {
    const docs = ['README.md', 'docs/publishing.md', 'deploy/README.md', ...readdirSync(join(root, 'packages')).map((d) => `packages/${d}/README.md`)];
    for (const doc of docs) {
      const text = read(doc);
      // A fork's override is described as such in docs/publishing.md; nothing else names another namespace.
      const others = [...text.matchAll(/ghcr\.io\/([^\s`'")/]+)/g)].map((m) => m[1]).filter((ns) => ns !== 'meshwasm' && !(doc === 'docs/publishing.md' && ns === '<org>'));
      expect({ doc, others }).toEqual({ doc, others: [] });
    }
    expect(read('README.md')).toContain('The registry path is\n**`ghcr.io/meshwasm`**');
    expect(read('docs/publishing.md')).toContain('The registry path is **`ghcr.io/meshwasm`**');
  });
});
