/**
 * The course's exercises have tested solutions: each docs/course/solutions/*.ts is compiled with
 * asc (the default runtime, asconfig.base.json, as a student's project has it) and sent through
 * the proxy-wasm host with the requests its exercise names. Each test also checks the unsolved
 * case (the lab's own filter, or a config without the exercise's field), so it fails when the
 * solution does nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';

const REPO = join(__dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'meshwasm-course-'));
const built = new Map<string, Uint8Array>();
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** asc <solution> with the workspace's base config, release target; the bytes, or the compiler's message. */
function compile(name: string): Uint8Array {
  const file = join(out, `${name}.wasm`);
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/assemblyscript/bin/asc.js'), `docs/course/solutions/${name}.ts`,
    '--config', 'asconfig.base.json', '--target', 'release', '--outFile', file], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`asc docs/course/solutions/${name}.ts failed:\n${r.stdout}${r.stderr}`);
  return new Uint8Array(readFileSync(file));
}

beforeAll(() => {
  for (const name of ['tinygo-header', 'lab-1-remove', 'lab-2-allow']) built.set(name, compile(name));
}, 600_000);

const header = (list: Array<[string, string]> | undefined, name: string): string | undefined => list?.find(([k]) => k === name)?.[1];

describe('appendix: the Go-shaped filter in AssemblyScript', () => {
  test('adds x-training: envoy-wasm to the response, and leaves the request alone', async () => {
    const p = await loadPlugin(built.get('tinygo-header')!);
    const r = await p.exchange({ method: 'GET', path: '/get', authority: '127.0.0.1:10000', response: { status: 200, headers: [['server', 'upstream']] } });
    p.close();
    expect(r.failed).toBe(false);
    expect(header(r.response.headers, 'x-training')).toBe('envoy-wasm');
    expect(header(r.request?.headers, 'x-training')).toBeUndefined();
  });
});

describe('Lab 1 exercise: remove headers named in the configuration', () => {
  const config = { response: { set: [{ name: 'x-training', value: 'envoy-wasm' }], remove: ['Server'] } };

  test('the upstream\'s server header is gone, x-training is set', async () => {
    const p = await loadPlugin(built.get('lab-1-remove')!, { config });
    const r = await p.exchange({ method: 'GET', path: '/get', authority: '127.0.0.1:10000', response: { status: 200, headers: [['server', 'upstream']] } });
    p.close();
    expect(p.configured).toBe(true);
    expect(header(r.response.headers, 'server')).toBeUndefined();
    expect(header(r.response.headers, 'x-training')).toBe('envoy-wasm');
  });

  test('without "remove" the server header stays (the lab\'s behaviour)', async () => {
    const p = await loadPlugin(built.get('lab-1-remove')!, { config: { response: { set: config.response.set } } });
    const r = await p.exchange({ method: 'GET', path: '/get', authority: '127.0.0.1:10000', response: { status: 200, headers: [['server', 'upstream']] } });
    p.close();
    expect(header(r.response.headers, 'server')).toBe('upstream');
  });
});

describe('Lab 2 exercise: exceptions to the deny list', () => {
  const config = { deny: ['*.example.com'], allow: ['status.example.com'] };
  const send = async (cfg: object, authority: string) => {
    const p = await loadPlugin(built.get('lab-2-allow')!, { config: cfg });
    const r = await p.exchange({ method: 'GET', path: '/', authority, response: { status: 200 } });
    p.close();
    return r;
  };

  test('status.example.com passes although *.example.com is denied', async () => {
    const r = await send(config, 'status.example.com');
    expect(r.localReply).toBeNull();
    expect(r.request).not.toBeNull();
    expect(r.response.status).toBe(200);
  });

  test('api.example.com is still refused with 451', async () => {
    const r = await send(config, 'API.example.com:443');
    expect(r.request).toBeNull();
    expect(r.localReply?.status).toBe(451);
    expect(r.localReply?.details).toBe('blocklist_denied');
  });

  test('without the allow list, status.example.com is refused too', async () => {
    const r = await send({ deny: ['*.example.com'] }, 'status.example.com');
    expect(r.localReply?.status).toBe(451);
  });
});
