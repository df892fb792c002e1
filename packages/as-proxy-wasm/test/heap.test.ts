// The SDK's heap (assembly/alloc.ts, behind the minimal runtime's collector):
// buffers of every size class, growing arrays and strings stay intact while
// the collector frees and reuses blocks, and linear memory reaches a plateau.
import { describe, expect, it, jest } from '@jest/globals';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

// The first test compiles the fixture with asc (tens of seconds on a loaded 2-core CI machine).
jest.setTimeout(120_000);

describe('heap', () => {
  it('keeps live blocks intact and memory flat under mixed sizes', async () => {
    const p = await loadPlugin(fixtures('heap').heap, { config: {} });
    // warm-up: the heap does not coalesce, so its footprint is the peak of each size class; the random
    // sizes reach that plateau within ~1,600 exchanges
    for (let i = 0; i < 2400; i++) await p.exchange({});
    const warm = p.memoryBytes();
    for (let i = 0; i < 800; i++) await p.exchange({});
    expect(p.failed).toBe(false);
    expect(p.logs.filter((l) => l.level === 'error')).toEqual([]);
    expect(p.memoryBytes()).toBe(warm);
    // 16 live buffers of at most 16 KB, plus the garbage of up to 32 streams between collections
    expect(warm).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('collects during one long stream whose filter allocates without host buffers (every allocation is debt)', async () => {
    const p = await loadPlugin(fixtures('heap').heap, { config: {} });
    const s = p.newStream();
    s.sendRequestHeaders([[':method', 'POST'], [':path', '/'], [':authority', 'h']], false);
    // 1,000 chunks x ~130 KB of garbage each (string concatenation) = ~140 MB without a collection
    for (let i = 0; i < 1000; i++) s.sendRequestBody('x', false);
    s.sendRequestBody('x', true);
    expect(p.failed).toBe(false);
    expect(p.logs.filter((l) => l.level === 'error')).toEqual([]);
    expect(p.memoryBytes()).toBeLessThanOrEqual(1024 * 1024);
    s.complete();
  });
});
