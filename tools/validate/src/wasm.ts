/**
 * Portability of built modules: every `dist/*.wasm` must load on each runtime Envoy can be built
 * with. Envoy's WAMR build has no wasm SIMD, so a module with a `v128` anywhere is rejected at
 * load ("v128 value type requires simd feature") and, under FAIL_CLOSE, all traffic is denied.
 * The check runs wabt's `wasm-validate` (Debian package `wabt`) with those features disabled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Issue } from './issues';

/** A wasm feature some Envoy runtime lacks, and the wasm-validate flag that turns it off. */
export interface MissingFeature {
  flag: string;
  feature: string;
  why: string;
}

export const DISABLED_FEATURES: readonly MissingFeature[] = [
  {
    flag: '--disable-simd',
    feature: 'wasm SIMD (v128)',
    why: 'Envoy builds WAMR without SIMD and rejects the module at load ("v128 value type requires simd feature")',
  },
];

/** `wasm-validate` on PATH, or undefined. */
export function findWasmValidate(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'wasm-validate');
    try {
      if (existsSync(p) && statSync(p).isFile()) return p;
    } catch {
      /* unreadable PATH entry */
    }
  }
  return undefined;
}

export interface WasmCheckOptions {
  /** Path of wasm-validate; null = absent (default: looked up on PATH). */
  wasmValidate?: string | null;
  /** Under CI a missing wasm-validate is an error, elsewhere a warning (default: CI=true). */
  ci?: boolean;
}

function run(bin: string, args: string[]): { ok: boolean; text: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, text: `could not run ${bin}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  const text = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n')[0] ?? '';
  return { ok: r.status === 0, text: text || `exit status ${r.status}` };
}

/**
 * Checks one module. No issue when it validates with every feature of DISABLED_FEATURES off;
 * otherwise one error naming the file and each feature it needs (or saying it is not valid wasm
 * at all), with wasm-validate's first line of diagnosis.
 */
export function checkWasmPortability(file: string, shown: string, opts: WasmCheckOptions = {}): Issue[] {
  const bin = opts.wasmValidate === undefined ? findWasmValidate() : opts.wasmValidate ?? undefined;
  const ci = opts.ci ?? process.env.CI === 'true';
  if (!bin) {
    const message =
      `wasm-validate not found (Debian package wabt; run scripts/setup-system.sh): ${shown} was not checked for ` +
      `${DISABLED_FEATURES.map((f) => f.feature).join(', ')}${ci ? '' : ' (under CI=true this is an error)'}`;
    return [{ severity: ci ? 'error' : 'warning', file: shown, path: [], message }];
  }
  const strict = run(bin, [...DISABLED_FEATURES.map((f) => f.flag), file]);
  if (strict.ok) return [];
  if (!run(bin, [file]).ok) {
    return [{ severity: 'error', file: shown, path: [], message: `not a valid WebAssembly module: wasm-validate: ${strict.text}` }];
  }
  // Valid with wabt's defaults: find which disabled feature it needs.
  const needed = DISABLED_FEATURES.filter((f) => !run(bin, [f.flag, file]).ok);
  const found = needed.length ? needed : DISABLED_FEATURES;
  return found.map((f) => ({
    severity: 'error' as const,
    file: shown,
    path: [],
    message: `uses ${f.feature}: ${f.why}. wasm-validate ${f.flag}: ${strict.text}`,
  }));
}
