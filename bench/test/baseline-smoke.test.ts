/**
 * One smoke pass of `npm run bench -- --baseline HEAD --filter header --smoke`: HEAD is built in a
 * clean checkout, both builds are measured in the same run, and the JSON has the side-by-side rows.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Comparison } from '../compare';

const root = join(__dirname, '..', '..');

describe('npm run bench -- --baseline', () => {
  test('against HEAD, for the header filter: a row per scenario, the .wasm sizes, HEAD resolved', () => {
    const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' };
    const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['bench/run.ts', '--baseline', 'HEAD', '--filter', 'header', '--smoke', '--json'], {
      cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20,
    });
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const out = JSON.parse(r.stdout) as Comparison & { ref: string; commit: string; rounds: number; smoke: boolean };
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
    expect([out.ref, out.commit, out.rounds, out.smoke]).toEqual(['HEAD', head, 1, true]);
    expect(out.failures).toEqual([]);
    expect(out.times.map((t) => `${t.filter} ${t.scenario}`)).toEqual(['header headers', 'header headers (minimal host)']);
    for (const t of out.times) expect(t.baselineNs > 0 && t.currentNs > 0).toBe(true);
    expect(out.sizes).toHaveLength(1);
    expect(out.sizes[0].currentBytes).toBe(statSync(join(root, 'packages', 'header', 'dist', 'header.wasm')).size);
    expect(out.sizes[0].baselineBytes).toBeGreaterThan(1000);

    const bad = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['bench/run.ts', '--baseline', 'no-such-ref-anywhere', '--smoke'], { cwd: root, env, encoding: 'utf8' });
    expect([bad.status, bad.stdout, bad.stderr.trim().split('\n').pop()]).toEqual([2, '', 'bench: --baseline: "no-such-ref-anywhere" is not a commit of this repository']);
  }, 900_000);
});
