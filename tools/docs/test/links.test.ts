import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLinks } from '../src/links';

describe('checkLinks', () => {
  const root = mkdtempSync(join(tmpdir(), 'links-'));
  mkdirSync(join(root, 'pkg'));
  writeFileSync(join(root, 'pkg', 'README.md'), '');
  writeFileSync(join(root, 'top.md'), '');
  const file = join(root, 'pkg', 'README.md');

  test('links inside the repository that exist, URLs and anchors pass', () => {
    expect(checkLinks(file, '[a](../top.md) [b](README.md#x) [c](https://envoyproxy.io) [d](#here) [e](/pkg)', root)).toEqual([]);
  });

  test('a missing file, a path above the repository and the notes beside it are named', () => {
    const text = ['[a](../missing.md)', '[b](../../elsewhere.md)', 'see `shared/reference/host-semantics.md`', '```sh', '[c](nope.md)', '```'].join('\n');
    expect(checkLinks(file, text, root)).toEqual([
      { file: 'pkg/README.md', line: 1, problem: 'link ../missing.md names a path that does not exist' },
      { file: 'pkg/README.md', line: 2, problem: 'link ../../elsewhere.md points outside the repository' },
      { file: 'pkg/README.md', line: 3, problem: 'names notes outside the repository (shared/…)' },
    ]);
  });

  test('a block without a language must be a transcript', () => {
    const text = ['```', 'typed output', '```', '<!-- transcript: ls -->', '```', 'x', '```', '```text', 'a diagram', '```'].join('\n');
    expect(checkLinks(file, text, root)).toEqual([
      { file: 'pkg/README.md', line: 1, problem: 'output typed by hand: mark the block as a transcript, or name its language (text, sh…)' },
    ]);
  });
});
