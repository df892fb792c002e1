/**
 * The portability check of built modules: wabt's wasm-validate with SIMD disabled. The modules are
 * assembled byte by byte here: one that uses SIMD (a v128 constant and a lane read) and the same
 * function without it.
 */
import { afterAll, describe, expect, it, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFilterDir, type Report } from '../src/filter';
import { formatIssue } from '../src/issues';
import { renderReport } from '../src/run';
import { checkWasmPortability, findWasmValidate } from '../src/wasm';
import { copyFixture } from './helpers';

/** A module with one function `() -> i32` whose body is `code` (no locals). */
function moduleWith(code: number[]): Buffer {
  const body = [0x00, ...code, 0x0b]; // no local declarations, code, end
  const section = (id: number, bytes: number[]) => [id, bytes.length, ...bytes];
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(0x01, [0x01, 0x60, 0x00, 0x01, 0x7f]), // type: () -> i32
    ...section(0x03, [0x01, 0x00]), // function 0 has type 0
    ...section(0x07, [0x01, 0x01, 0x66, 0x00, 0x00]), // export "f"
    ...section(0x0a, [0x01, body.length, ...body]),
  ]);
}
/** v128.const i32x4 7 0 0 0; i32x4.extract_lane 0 */
const SIMD = moduleWith([0xfd, 0x0c, 7, ...new Array(15).fill(0), 0xfd, 0x1b, 0x00]);
/** i32.const 7 */
const PLAIN = moduleWith([0x41, 0x07]);

const tmp = mkdtempSync(join(tmpdir(), 'meshwasm-wasm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function file(name: string, bytes: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}
const errorsOf = (r: Report) => r.issues.filter((i) => i.severity === 'error').map(formatIssue);

const bin = findWasmValidate();

describe('a missing wasm-validate', () => {
  it('is a warning on a laptop and an error under CI=true, naming the file and the package', () => {
    const p = file('any.wasm', PLAIN);
    const laptop = checkWasmPortability(p, 'dist/any.wasm', { wasmValidate: null, ci: false });
    expect(laptop).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: 'wasm-validate not found (Debian package wabt; run scripts/setup-system.sh): dist/any.wasm was not checked for wasm SIMD (v128) (under CI=true this is an error)',
      }),
    ]);
    const ci = checkWasmPortability(p, 'dist/any.wasm', { wasmValidate: null, ci: true });
    expect(ci).toEqual([expect.objectContaining({ severity: 'error', message: expect.stringContaining('wasm-validate not found') })]);
  });
});

if (!bin) {
  test('needs wasm-validate (Debian package wabt)', () => {
    const msg = 'MISSING COMPONENT: wasm-validate (Debian package wabt). Install with: ./scripts/setup-system.sh';
    console.warn(msg);
    expect(process.env.CI === 'true' ? msg : 'not in CI').toBe('not in CI');
  });
} else {
  describe('wasm-validate --disable-simd', () => {
    it('passes a module without SIMD', () => {
      expect(checkWasmPortability(file('plain.wasm', PLAIN), 'dist/plain.wasm', { wasmValidate: bin })).toEqual([]);
    });

    it('fails a SIMD module, naming the file and the feature', () => {
      const issues = checkWasmPortability(file('simd.wasm', SIMD), 'dist/simd.wasm', { wasmValidate: bin });
      expect(issues).toHaveLength(1);
      expect(formatIssue(issues[0])).toMatch(
        /^error dist\/simd\.wasm uses wasm SIMD \(v128\): Envoy builds WAMR without SIMD and rejects the module at load \("v128 value type requires simd feature"\)\. wasm-validate --disable-simd: [0-9a-f]+: error: /,
      );
    });

    it('says when the file is not a valid module at all', () => {
      const broken = Buffer.concat([PLAIN.subarray(0, PLAIN.length - 3)]);
      const issues = checkWasmPortability(file('broken.wasm', broken), 'dist/broken.wasm', { wasmValidate: bin });
      expect(issues.map(formatIssue)).toEqual([expect.stringMatching(/^error dist\/broken\.wasm not a valid WebAssembly module: wasm-validate: /)]);
    });
  });

  describe('validateFilterDir checks every dist/*.wasm', () => {
    it('lists each module, passes plain ones and fails SIMD ones', () => {
      const f = copyFixture('demo');
      try {
        mkdirSync(join(f.dir, 'dist'));
        writeFileSync(join(f.dir, 'dist', 'demo.wasm'), PLAIN);
        const display = (p: string) => p.slice(f.dir.length + 1);
        const ok = validateFilterDir(f.dir, { display, wasmValidate: bin });
        expect(errorsOf(ok)).toEqual([]);
        expect(ok.files.map((x) => `${x.file}: ${x.summary}`)).toContain('dist/demo.wasm: valid with wasm-validate --disable-simd');
        writeFileSync(join(f.dir, 'dist', 'demo.simd.wasm'), SIMD);
        const bad = validateFilterDir(f.dir, { display, wasmValidate: bin });
        expect(errorsOf(bad)).toEqual([expect.stringMatching(/^error dist\/demo\.simd\.wasm uses wasm SIMD \(v128\)/)]);
        // the README shows exactly this report
        const printed = renderReport(bad);
        expect(printed.ok).toBe(false);
        expect(readFileSync(join(__dirname, '..', 'README.md'), 'utf8')).toContain(`\n${printed.stderr.join('\n')}\n`);
      } finally {
        f.cleanup();
      }
    });

    it('a filter with a build config but no dist/*.wasm is an error', () => {
      const f = copyFixture('demo');
      try {
        f.write('asconfig.json', '{}');
        const r = validateFilterDir(f.dir, { display: (p) => p.slice(f.dir.length + 1), wasmValidate: bin });
        expect(errorsOf(r)).toEqual(['error dist/demo.wasm missing: build the filter first (the validate target depends on build)']);
      } finally {
        f.cleanup();
      }
    });
  });
}
