// meshwasm lab <n> through the real bin: the course's labs, the student-sized filter then the
// production one, and a non-zero exit when anything differs from the documented outcome.
import { describe, expect, test } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshwasm, REPO } from './helpers';

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('meshwasm lab: bad input is one line on stderr, exit 2', () => {
  test.each([
    [[], 'meshwasm lab: name a lab: 1 hello filter, 2 transformations, 3 callouts, 4 observability and safety, 5 deploy to istio with a wasmplugin, 6 http timing'],
    [['7'], 'meshwasm lab: no lab "7": the labs are 1 hello filter, 2 transformations, 3 callouts, 4 observability and safety, 5 deploy to istio with a wasmplugin, 6 http timing'],
    [['one'], 'meshwasm lab: no lab "one": the labs are 1 hello filter, 2 transformations, 3 callouts, 4 observability and safety, 5 deploy to istio with a wasmplugin, 6 http timing'],
    [['1', '--bogus'], 'meshwasm lab: unknown option --bogus (meshwasm lab --help lists the options)'],
    [['1', '2'], 'meshwasm lab: unexpected argument "2" (meshwasm lab --help shows the usage)'],
  ])('meshwasm lab %j', (args, message) => {
    const r = meshwasm(['lab', ...args]);
    expect([r.code, r.out, lines(r.err)]).toEqual([2, '', [message]]);
  });
});

describe('meshwasm lab 1', () => {
  test('builds, runs the student-sized header then the production one through the lab, prints the curl commands', () => {
    const r = meshwasm(['lab', '1']);
    expect(r.code).toBe(0);
    const out = r.out;
    const order = [
      '▶ Lab 1 — Hello filter: a header on the request and on the response',
      '── the student-sized version: packages/header/assembly/lab.ts',
      'header — Lab 1: add a header in both directions  (dist/header.lab.wasm,',
      '── the production filter: packages/header/assembly/index.ts',
      'header — Lab 1: add a header in both directions  (dist/header.wasm,',
      'Try it with the local proxy (npm run lab -- 1 --serve keeps it up on http://127.0.0.1:10000):',
      "    $ curl -si -H 'user-agent: curl/8.5.0' -H 'accept: */*' http://127.0.0.1:10000/headers",
      '✓ Lab 1 behaves as documented',
    ];
    let at = 0;
    for (const l of order) {
      const i = out.indexOf(l, at);
      expect({ line: l, found: i >= 0 }).toEqual({ line: l, found: true });
      at = i + l.length;
    }
    expect(out.match(/✓ as the lab expects/g)).toHaveLength(4);
    expect(out).not.toContain('✗');
  }, 600_000);

  test('exits 1, naming what differs, when an exchange no longer gives the documented outcome', () => {
    // a workspace with the header filter whose lab now documents another value
    const ws = mkdtempSync(join(tmpdir(), 'meshwasm-lab-'));
    try {
      writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'w', private: true, workspaces: ['packages/*'] }));
      for (const p of ['package.json', 'asconfig.json', 'examples', 'dist', 'assembly']) {
        cpSync(join(REPO, 'packages/header', p), join(ws, 'packages/header', p), { recursive: true });
      }
      const file = join(ws, 'packages/header/examples/lab.exchanges.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"x-training": "envoy-wasm", "user-agent"', '"x-training": "envoy-wasm-2", "user-agent"'));
      const r = meshwasm(['lab', '1', '--no-build'], { cwd: ws });
      expect(r.code).toBe(1);
      expect(r.out).toContain('upstream header x-training: expected "envoy-wasm-2", got "envoy-wasm"');
      expect(r.out).not.toContain('✓ Lab 1 behaves as documented');
      expect(lines(r.err)).toEqual(['meshwasm lab: Lab 1 differs from its documented outcome: header (student): 1 exchange(s); header (production): 1 exchange(s)']);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('meshwasm lab 4 and 5: beyond the exchanges', () => {
  test('Lab 4 shows the trap on demand, fail closed then fail open', () => {
    const r = meshwasm(['lab', '4', '--no-build']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('      request with x-lab-trap: 1 → 503 (wasm_fail_stream), never reached the upstream\n      the next request → 503 (wasm_fail_stream), never reached the upstream\n      ✓ as the lab expects');
    expect(r.out).toContain('      request with x-lab-trap: 1 → 200, reached the upstream without the filter\n');
    expect(r.out).toContain("    $ curl -s -X POST 'http://127.0.0.1:9901/logging?wasm=debug'");
  }, 120_000);

  test('Lab 5 packages the artifact Istio accepts and shows what it refuses, with no registry', () => {
    const r = meshwasm(['lab', '5', '--no-build']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ Istio's acceptance check: accepted; WasmPlugin sha256 \(the manifest digest\) [0-9a-f]{64}\n/);
    expect(r.out).toContain('✓ refused, as istio-agent refuses it: could not parse as oci variant: number of layers must be 2 but got 1');
    expect(r.out).toContain('✓ refused by the Istio schema: spec.failOpen: unknown field "failOpen": a WasmPlugin has no failOpen; write failStrategy: FAIL_OPEN (the default is FAIL_CLOSE)\n');
  }, 120_000);
});
