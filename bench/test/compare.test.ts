import { describe, expect, test } from '@jest/globals';
import { changePct, compareRuns, median, renderComparison, type FilterRuns } from '../compare';
import type { TargetResult } from '../measure';

/** A result of one process: `ns` per scenario name, the .wasm size. */
function result(id: string, wasmBytes: number, ns: Record<string, number>, extra: Partial<TargetResult> = {}): TargetResult {
  return {
    id, label: id, sdk: 'as-proxy-wasm', wasmBytes, coldStartMs: 1,
    scenarios: Object.entries(ns).map(([name, v]) => ({ name, exchanges: 1000, runs: 5, nsPerExchange: v, nsAll: [v] })),
    memory: { afterWarmup: 65536, afterN: 65536, n: 10_000, flat: true },
    ...extra,
  };
}

describe('the side-by-side comparison', () => {
  test('median and % change', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(changePct(1000, 1050)).toBeCloseTo(5);
    expect(changePct(2000, 1500)).toBeCloseTo(-25);
  });

  test('each scenario: the median of the rounds on each side, the change, and the 5% budget', () => {
    const runs: FilterRuns[] = [
      {
        filter: 'header',
        baseline: [result('header', 7962, { headers: 1000 }), result('header', 7962, { headers: 1200 }), result('header', 7962, { headers: 900 })],
        current: [result('header', 8100, { headers: 1040 }), result('header', 8100, { headers: 2000 }), result('header', 8100, { headers: 1000 })],
      },
      {
        filter: 'redact',
        baseline: [result('redact', 30638, { headers: 2000, 'body 64 KiB': 100_000 }, { minimalBody: [{ bytes: 65536, nsPerExchange: 50_000, mbPerSec: 1 }] })],
        current: [result('redact', 30000, { headers: 2200, 'body 64 KiB': 90_000, 'a new scenario': 5 }, { minimalBody: [{ bytes: 65536, nsPerExchange: 51_000, mbPerSec: 1 }] })],
      },
    ];
    const c = compareRuns(runs);
    expect(c.failures).toEqual([]);
    expect(c.times.map((t) => [t.filter, t.scenario, t.baselineNs, t.currentNs, Number(t.changePct.toFixed(1)), t.withinBudget])).toEqual([
      ['header', 'headers', 1000, 1040, 4, true],
      ['redact', 'headers', 2000, 2200, 10, false],
      ['redact', 'body 64 KiB', 100_000, 90_000, -10, true],
      ['redact', 'body 64 KiB (minimal host)', 50_000, 51_000, 2, true],
    ]);
    expect(c.sizes.map((s) => [s.filter, s.baselineBytes, s.currentBytes, Number(s.changePct.toFixed(2)), s.withinBudget])).toEqual([
      ['header', 7962, 8100, 1.73, true],
      ['redact', 30638, 30000, -2.08, true],
    ]);
  });

  test('a .wasm more than 3% larger is over budget; a side with no successful round is a failure, not a row', () => {
    const c = compareRuns([
      { filter: 'callout', baseline: [result('callout', 20000, { x: 1 })], current: [result('callout', 20700, { x: 1 })] },
      { filter: 'blocklist', baseline: [result('blocklist', 0, {}, { error: 'no packages/blocklist/dist/blocklist.wasm at v0' })], current: [result('blocklist', 19664, { x: 1 })] },
    ]);
    expect(c.sizes).toEqual([{ filter: 'callout', baselineBytes: 20000, currentBytes: 20700, changePct: 3.5000000000000004, withinBudget: false }]);
    expect(c.failures).toEqual([{ filter: 'blocklist', side: 'baseline', error: 'no packages/blocklist/dist/blocklist.wasm at v0' }]);
  });

  test('the table: one row per scenario and per .wasm, the change signed, the verdict last', () => {
    const c = compareRuns([
      { filter: 'header', baseline: [result('header', 7962, { headers: 1694 }, { minimalHost: { nsPerExchange: 500, nsAll: [500], exchanges: 1 } })], current: [result('header', 8200, { headers: 1650 }, { minimalHost: { nsPerExchange: 530, nsAll: [530], exchanges: 1 } })] },
    ]);
    expect(renderComparison(c, { ref: 'main', commit: '130bf61aabbccddeeff', rounds: 3, smoke: false }).split('\n')).toEqual([
      '## Side by side: main (130bf61aabbc) vs the working tree',
      '',
      "ns per exchange, median over 3 interleaved round(s) (each round measures every filter's baseline and current build in fresh processes, one after the other). Budget: at most 5% slower, a .wasm at most 3% larger.",
      '',
      '| filter | scenario | main | working tree | change | |',
      '|---|---|---|---|---|---|',
      '| header | headers | 1694 ns | 1650 ns | −2.6% | ✅ |',
      '| header | headers (minimal host) | 500 ns | 530 ns | +6.0% | ❌ |',
      '',
      '| filter | .wasm at main | working tree | change | |',
      '|---|---|---|---|---|',
      '| header | 7,962 B | 8,200 B | +3.0% | ✅ |',
      '',
      '❌ over budget: header headers (minimal host) +6.0%',
      '',
    ]);
  });
});
