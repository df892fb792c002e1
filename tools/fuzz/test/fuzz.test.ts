// The fuzzer against deliberately broken filters: every invariant must fail on the build that
// breaks it, with the seed and a small JSON reproduction in the report. (Runs skip the 256 KiB
// opening exchanges unless a test is about them: they only cost time here.)
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzFilter, formatFailure, type Failure, type Report } from '../src/run';
import { PROFILES } from '../src/profiles';
import { Rng } from '../src/rng';
import { exchange, chunks, byteLength, MAX_BODY } from '../src/gen';
import { compileSchema, randomConfig } from '../src/configs';
import * as broken from './broken';

const pkg = (name: string, file: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'packages', name, file), 'utf8'));

async function fuzz(wasm: Uint8Array, filter: string, opts: { exchanges?: number; configs?: number; seed?: number; replay?: number; extremes?: number; profile?: boolean } = {}): Promise<Report> {
  return fuzzFilter({
    name: filter, wasm: await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>), schema: pkg(filter, 'schema.json'), lab: pkg(filter, 'examples/lab.json'),
    seed: opts.seed ?? 7, exchanges: opts.exchanges ?? 30, configs: opts.configs ?? 0, replay: opts.replay, extremes: opts.extremes ?? 0,
    profile: opts.profile === false ? undefined : PROFILES[filter],
  });
}
const only = (r: Report, inv: Failure['invariant']) => r.failures.filter((f) => f.invariant === inv);

describe('each invariant fails on a build that breaks it', () => {
  test('no trap: a filter trapping in on_request_headers', async () => {
    const r = await fuzz(broken.trapsOnRequest(), 'header');
    const [f] = only(r, 'no trap');
    expect(f.message).toMatch(/the VM trapped: Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
    expect(f.standalone).toBe(true);
    expect(r.counts.exchanges).toBe(1); // a trapped VM answers nothing more
  });

  test('memory flat: a filter growing its memory by a page per request', async () => {
    const r = await fuzz(broken.growsOnRequest(), 'header', { exchanges: 20, replay: 5, extremes: 4 });
    expect(only(r, 'memory flat')[0].message).toMatch(/^linear memory grew after warm-up: \d+ -> \d+ bytes: it grew on each of 4 replays of the run's first 5 exchanges \((\d+ -> ){4}\d+ bytes\)$/);
    expect(r.failures.map((f) => f.invariant)).toEqual(['memory flat']);
  });

  test('bad config refused: a filter accepting every config', async () => {
    const r = await fuzz(broken.acceptsAll(), 'blocklist', { exchanges: 0, configs: 40 });
    expect(only(r, 'bad config refused')[0].message).toMatch(/^the schema refuses this config but the filter accepted it \(schema: /);
  });

  test('bad config refused: a filter refusing with two error lines', async () => {
    const r = await fuzz(broken.refusesWithTwoLines(), 'header', { exchanges: 0, configs: 40 });
    const msgs = only(r, 'bad config refused').map((f) => f.message);
    expect(msgs.some((m) => /refused with 2 error lines \(want exactly 1\): "config: bad", "config: bad"|the schema accepts this config but the filter refused it/.test(m))).toBe(true);
  });

  test('bad config refused: a config the schema accepts must be configured', async () => {
    const r = await fuzz(broken.refusesEverything(), 'http-timing', { exchanges: 0, configs: 60 });
    expect(only(r, 'bad config refused')[0].message).toBe('the schema accepts this config but the filter refused it: config: bad');
  });

  test('redact: a filter that masks nothing lets a planted secret through, and the report is a small exchange', async () => {
    const r = await fuzz(broken.acceptsAll(), 'redact');
    const [f] = only(r, 'filter');
    expect(f.message).toMatch(/^the planted \w+ secret ".+" reached the (upstream|client)/);
    const rep = f.reproduction as { exchange: { headers: unknown[]; body: string; response: { body: string } }; planted: { secret: string } };
    expect(f.standalone).toBe(true);
    // shrunk: no stray headers, and the side without the secret is empty
    expect(rep.exchange.headers.length).toBeLessThanOrEqual(1);
    expect([rep.exchange.body, rep.exchange.response.body].filter((b) => b !== '').length).toBe(1);
    expect(JSON.stringify(rep)).toContain(rep.planted.secret);
    const text = formatFailure(f, 'redact');
    expect(text).toContain(`seed 7, exchange ${f.index}; rerun: npm run fuzz -- --seed 7`);
    expect(text).toContain('minimal reproduction (fails on a fresh VM): {"config":');
  });

  test('blocklist: a filter that blocks nothing lets a denied spelling through', async () => {
    const r = await fuzz(broken.acceptsAll(), 'blocklist');
    expect(only(r, 'filter')[0].message).toMatch(/^the denied host spelled ".+" \((wildcard|idn|ipv6|ipv4)\) was not refused: it reached the upstream$/);
  });

  test('callout (and every filter): a request paused and never resumed', async () => {
    const r = await fuzz(broken.neverResumes(), 'callout');
    expect(only(r, 'not hung')[0].message).toMatch(/^the request was left paused: only Envoy's stream idle timeout ended it/);
  });

  test('the same seed finds the same failure; another seed other exchanges', async () => {
    const a = await fuzz(broken.acceptsAll(), 'redact', { seed: 11 });
    const b = await fuzz(broken.acceptsAll(), 'redact', { seed: 11 });
    expect(a.failures).toEqual(b.failures);
    const c = await fuzz(broken.acceptsAll(), 'redact', { seed: 12 });
    expect(c.failures[0].reproduction).not.toEqual(a.failures[0].reproduction);
  });
});

describe('a filter that keeps every invariant passes', () => {
  test('the do-nothing filter under the header profile (no filter-specific invariant)', async () => {
    const r = await fuzz(broken.acceptsAll(), 'header', { exchanges: 40, configs: 0 });
    expect(r.failures).toEqual([]);
    expect(r.counts.exchanges).toBe(40);
    expect(r.counts.replayed).toBe(5);
    expect(r.counts.memoryPasses.length).toBe(2); // after the run, then one flat replay
  });
});

describe('generators', () => {
  test('the same seed gives the same exchange; bodies stay within 0–256 KiB in chunks that cover them', () => {
    const one = exchange(new Rng(5).fork(3));
    expect(exchange(new Rng(5).fork(3))).toEqual(one);
    const rng = new Rng(9);
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      const s = exchange(rng.fork(i));
      for (const [b, cs] of [[s.body, s.chunks], [s.response.body, s.response.chunks]] as const) {
        largest = Math.max(largest, byteLength(b));
        expect(cs.reduce((x, y) => x + y, 0)).toBe(byteLength(b));
      }
    }
    expect(largest).toBeLessThanOrEqual(MAX_BODY);
    expect(largest).toBeGreaterThan(32 * 1024);
    expect(chunks(new Rng(1), 0)).toEqual([]);
  });

  test('random configs: the schema sorts them into valid and invalid, both occur', () => {
    const schema = pkg('callout', 'schema.json');
    const validate = compileSchema(schema);
    const rng = new Rng(3);
    const cases = Array.from({ length: 200 }, (_, i) => randomConfig(rng.fork(i), schema, pkg('callout', 'examples/lab.json'), validate));
    expect(cases.filter((c) => c.valid).length).toBeGreaterThan(10);
    expect(cases.filter((c) => !c.valid).length).toBeGreaterThan(10);
    expect(cases.every((c) => c.text.trim() !== '')).toBe(true);
  });
});
