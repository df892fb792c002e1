import { describe, expect, test } from '@jest/globals';
import { BenchUsageError, parseBenchArgs } from '../options';
import { chooseFilters } from '../baseline';

describe('npm run bench options', () => {
  test('no options: the normal full run', () => {
    expect(parseBenchArgs([])).toEqual({ smoke: false, json: false, only: null, rounds: null, baseline: null, filters: null, child: null, childWasm: null, compare: false });
  });

  test('the existing options keep their meaning', () => {
    const o = parseBenchArgs(['--smoke', '--json', '--only=header,noop']);
    expect([o.smoke, o.json, o.only]).toEqual([true, true, ['header', 'noop']]);
    expect(parseBenchArgs(['--child=redact', '--child-wasm=/tmp/x.wasm', '--compare'])).toMatchObject({ child: 'redact', childWasm: '/tmp/x.wasm', compare: true });
  });

  test('--baseline REF and --filter NAME, as separate or inline values, repeated or comma-separated', () => {
    expect(parseBenchArgs(['--baseline', 'main', '--filter', 'header', '--filter=redact,callout', '--rounds', '2'])).toMatchObject({
      baseline: 'main', filters: ['header', 'redact', 'callout'], rounds: 2,
    });
    expect(parseBenchArgs(['--baseline=HEAD~3', '--smoke'])).toMatchObject({ baseline: 'HEAD~3', filters: null, smoke: true, rounds: null });
  });

  test.each([
    [['--baseline'], '--baseline needs a value'],
    [['--baseline', '--smoke'], '--baseline needs a value'],
    [['--baseline='], '--baseline needs a value'],
    [['--filter', 'header'], '--filter selects filters of a side-by-side run: give --baseline REF too (use --only=NAME for the normal run)'],
    [['--baseline', 'main', '--only=header'], '--only is for the normal run; with --baseline, choose filters with --filter NAME'],
    [['--baseline', 'a', '--baseline', 'b'], '--baseline given twice'],
    [['--rounds', '0'], '--rounds must be a whole number from 1 to 50, got "0"'],
    [['--rounds=2.5'], '--rounds must be a whole number from 1 to 50, got "2.5"'],
    [['--smoke=yes'], '--smoke takes no value'],
    [['--fast'], /^unknown option --fast; usage: npm run bench -- /],
    [['main'], /^unexpected argument "main"; usage: /],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });

  test('--filter names must be filters of the working tree', () => {
    const all = ['blocklist', 'callout', 'header', 'http-timing', 'redact'];
    expect(chooseFilters(all, null)).toEqual(all);
    expect(chooseFilters(all, ['redact', 'header'])).toEqual(['header', 'redact']);
    expect(() => chooseFilters(all, ['header', 'nope'])).toThrow('--filter: no filter named "nope" (filters: blocklist, callout, header, http-timing, redact)');
  });
});
