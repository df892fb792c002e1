import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli';
import { readIndex } from '../src/layout';
import { fakeWasm } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'oras-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const wasmPath = join(tmp, 'redact.wasm');
writeFileSync(wasmPath, fakeWasm('redact'));

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdin: () => '', env: {} });
  return { code, out, err };
}

describe('meshwasm-oras CLI', () => {
  it('runs through the bin shim (tsx) and writes an OCI layout without a registry', () => {
    const layout = join(tmp, 'layout');
    const bin = join(__dirname, '..', 'bin', 'meshwasm-oras.cjs');
    const r = spawnSync(process.execPath, [bin, 'push-wasm', wasmPath, `${layout}:1.0.0`, '--oci-layout', '--format', 'json', '--created', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ format: 'oci', pushed: true, tags: ['1.0.0'] });
    expect(readIndex(layout).manifests[0].digest).toBe(out.digest);
    expect(existsSync(join(layout, 'oci-layout'))).toBe(true);
  });

  it('checks, resolves, tags and pulls from a layout', async () => {
    const layout = join(tmp, 'layout2');
    expect((await run(['push-wasm', wasmPath, `${layout}:2.0.0`, '--oci-layout', '--format', 'compat'])).code).toBe(0);
    const check = await run(['istio-check', `${layout}:2.0.0`, '--oci-layout']);
    expect(check.code).toBe(0);
    const resolved = (await run(['resolve', `${layout}:2.0.0`, '--oci-layout'])).out.trim();
    expect(check.out).toContain(resolved.slice(7));
    expect((await run(['tag', `${layout}:2.0.0`, 'stable', '--oci-layout'])).code).toBe(0);
    expect((await run(['resolve', `${layout}:stable`, '--oci-layout'])).out.trim()).toBe(resolved);
    const wrong = await run(['istio-check', `${layout}:2.0.0`, '--oci-layout', '--sha256', '0'.repeat(64)]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`has checksum ${resolved.slice(7)}, which does not match: ${'0'.repeat(64)}`);
    const oci = join(tmp, 'layout3');
    await run(['push-wasm', wasmPath, `${oci}:1`, '--oci-layout']);
    const outDir = join(tmp, 'pulled');
    expect((await run(['pull', `${oci}:1`, '--oci-layout', '-o', outDir])).code).toBe(0);
    expect(readFileSync(join(outDir, 'plugin.wasm'))).toEqual(readFileSync(wasmPath));
  });

  it('reports usage errors with exit code 2 and bad input with exit code 1', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['push-wasm', wasmPath])).code).toBe(2);
    expect((await run(['push-wasm', wasmPath, 'x:1', '--format', 'tarball'])).err).toContain('--format must be oci, compat or json');
    expect((await run(['push-wasm', wasmPath, 'x:1', '--bogus'])).code).toBe(2);
    const notWasm = join(tmp, 'bad.wasm');
    writeFileSync(notWasm, 'text');
    const r = await run(['push-wasm', notWasm, `${join(tmp, 'l4')}:1`, '--oci-layout']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a WebAssembly module');
    const login = await run(['login', '127.0.0.1:9', '-p', 'hunter2-secret']);
    expect(login.code).toBe(2);
    expect(login.err).not.toContain('hunter2-secret');
  });
});
