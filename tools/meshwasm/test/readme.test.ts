// The README's transcripts are what the bin prints now (scripts/transcripts.ts regenerates them).
import { describe, expect, test } from '@jest/globals';
import { readmeBlocks, render, TRANSCRIPTS } from '../scripts/transcripts';

const blocks = readmeBlocks();
// `list` depends on the working tree (a source edit shows as "changed"): regenerated, not compared.
const CHECKED = Object.keys(TRANSCRIPTS).filter((id) => id !== 'list');

describe('tools/meshwasm/README.md transcripts', () => {
  test('the README has a block for every transcript, and no other', () => {
    expect([...blocks.keys()].sort()).toEqual(Object.keys(TRANSCRIPTS).sort());
  });

  test.each(CHECKED)('%s is what the bin prints (else: npx tsx tools/meshwasm/scripts/transcripts.ts)', (id) => {
    expect(blocks.get(id)).toBe(render(id));
  });

  test('the list block has the shape the bin prints: a header and one row per filter', () => {
    const fresh = render('list').split('\n');
    const shown = blocks.get('list')!.split('\n');
    expect(shown[0]).toBe('$ npx meshwasm list');
    expect(shown.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(fresh.slice(1).map((l) => l.split(/\s{2,}/)[0]));
  });
});
