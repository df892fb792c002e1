import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeResult } from '@meshwasm/proxy-wasm-host';
import { checkExchange, labFiles } from '../src/index';

function result(over: Partial<ExchangeResult> = {}): ExchangeResult {
  return {
    configured: true,
    request: { headers: [[':path', '/'], ['x-training', 'envoy-wasm']], body: '' },
    response: { status: 200, headers: [['x-training', 'envoy-wasm'], ['x-a', '1'], ['x-a', '2']], body: 'ok' },
    localReply: null,
    httpCalls: [],
    metrics: { hits: 1, lat: { count: 2, sum: 30 } },
    logs: [],
    failed: false,
    ...over,
  } as ExchangeResult;
}

describe('checkExchange', () => {
  test('a matching outcome has no failures', () => {
    expect(
      checkExchange(
        {
          upstream: { headers: { 'X-Training': 'envoy-wasm', 'x-missing': null } },
          client: { status: 200, headers: { 'x-training': 'envoy-wasm' }, headerCount: { 'x-a': 2 }, body: 'ok' },
          metrics: { hits: 1, lat: { count: 2, sum: 30 } },
          localReply: false,
          httpCalls: 0,
        },
        result(),
      ),
    ).toEqual([]);
  });

  test('each kind of mismatch is reported', () => {
    const failures = checkExchange(
      {
        upstream: { headers: { 'x-training': 'other', ':path': null } },
        client: { status: 451, headerCount: { 'x-a': 1 }, body: 'no' },
        metrics: { hits: 2, lat: { count: 3 } },
        localReply: true,
        httpCalls: 1,
      },
      result(),
    );
    expect(failures).toEqual([
      'upstream header x-training: expected "other", got "envoy-wasm"',
      'upstream header :path: expected absent, got "/"',
      'client status: expected 451, got 200',
      'client header x-a: expected 1 entry, got 2',
      'client body: expected "no", got "ok"',
      'expected a local reply from the filter, got none',
      'expected 1 http call(s), got 0',
      'metric hits: expected 2, got 1',
      'metric lat: expected count 3, got 2',
    ]);
  });

  test('a request that must not reach the upstream', () => {
    expect(checkExchange({ upstream: null }, result())).toEqual([
      'the request reached the upstream, but the lab expects it to be stopped',
    ]);
    expect(checkExchange({ upstream: null }, result({ request: null }))).toEqual([]);
    expect(checkExchange({ upstream: {} }, result({ request: null }))).toEqual(['the request never reached the upstream']);
  });

  test('a failed VM is always a failure', () => {
    expect(checkExchange({}, result({ failed: true }))).toEqual(['the VM failed (trap) during the exchange']);
  });
});

describe('labFiles', () => {
  test('names the missing build output and how to make it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lab-')), 'demo');
    mkdirSync(join(dir, 'examples'), { recursive: true });
    writeFileSync(join(dir, 'examples', 'lab.json'), '{}');
    writeFileSync(join(dir, 'examples', 'lab.exchanges.json'), '{"lab":"x","exchanges":[]}');
    expect(() => labFiles(dir)).toThrow(/demo: missing .*dist\/demo\.wasm \(run `npx nx run demo:build`\)/);
  });
});

describe('the student-sized version (variant "student")', () => {
  function demo(lab: object): string {
    const dir = join(mkdtempSync(join(tmpdir(), 'lab-')), 'demo');
    mkdirSync(join(dir, 'examples'), { recursive: true });
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'demo.wasm'), '');
    writeFileSync(join(dir, 'dist', 'demo.lab.wasm'), '');
    writeFileSync(join(dir, 'examples', 'lab.json'), '{}');
    writeFileSync(join(dir, 'examples', 'lab.exchanges.json'), JSON.stringify({ lab: 'x', exchanges: [{ title: 't', request: {}, expect: {} }], ...lab }));
    return dir;
  }

  test('runs dist/<name>.lab.wasm, and names build-lab when it is missing', () => {
    const dir = demo({});
    expect(labFiles(dir, 'student').wasmPath).toBe(join(dir, 'dist', 'demo.lab.wasm'));
    expect(labFiles(dir).wasmPath).toBe(join(dir, 'dist', 'demo.wasm'));
    rmSync(join(dir, 'dist', 'demo.lab.wasm'));
    expect(() => labFiles(dir, 'student')).toThrow(/demo: missing .*dist\/demo\.lab\.wasm \(run `npx nx run demo:build-lab`\)/);
  });

  test('a difference must be one the runner knows how to leave out, and must say why', () => {
    expect(() => labFiles(demo({ student: { skip: ['metrics'], why: 'no metrics in the lab version' } }), 'student')).not.toThrow();
    expect(() => labFiles(demo({ student: { skip: ['client'], why: 'x' } }), 'student')).toThrow(/student\.skip: "client" cannot be skipped \(only metrics\)/);
    expect(() => labFiles(demo({ student: { skip: ['metrics'] } }), 'student')).toThrow(/student\.skip needs a "why"/);
  });
});
