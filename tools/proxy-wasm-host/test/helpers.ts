// Test helpers: compile AssemblyScript fixtures once (cached by content hash) and load them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const PKG = resolve(__dirname, '..');
const CACHE = join(PKG, '.cache', 'fixtures');

function ascBin(): string { return require.resolve('assemblyscript/bin/asc.js'); }

/** Files under a path (recursively, sorted), for cache keys. */
function filesOf(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).sort().flatMap((f) => filesOf(join(p, f)));
}

/** Compile test/fixtures/<name>.ts (raw ABI fixtures, stub runtime) or with custom asc args; `deps` (files or
 *  directories, e.g. the SDK sources and asconfig) are part of the cache key. */
export function compileFixture(name: string, args?: string[], deps: string[] = []): Uint8Array {
  const src = join(PKG, 'test', 'fixtures', `${name}.ts`);
  const ascArgs = args ?? ['--runtime', 'stub', '--use', 'abort=test/fixtures/lib/host/myAbort', '--exportStart', '_initialize'];
  const h = createHash('sha256');
  h.update(readFileSync(src)); h.update(readFileSync(join(PKG, 'test', 'fixtures', 'lib', 'host.ts'))); h.update(ascArgs.join(' '));
  h.update(readFileSync(require.resolve('assemblyscript/package.json')));
  for (const d of deps) for (const f of filesOf(d)) { h.update(f); h.update(readFileSync(f)); }
  const out = join(CACHE, `${name}-${h.digest('hex').slice(0, 16)}.wasm`);
  if (existsSync(out)) return readFileSync(out);
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync(process.execPath, [ascBin(), `test/fixtures/${name}.ts`, '-o', tmp, ...ascArgs], { cwd: PKG, stdio: 'pipe' });
  renameSync(tmp, out);
  return readFileSync(out);
}

/** The wasi-shim config needed by @gcoredev/proxy-wasm-sdk-as; null when the package is missing. */
export function wasiShimConfig(): string | null {
  // relative to the package: asc resolves the config's "lib" wrongly for absolute config paths
  try { return relative(PKG, require.resolve('@assemblyscript/wasi-shim/asconfig.json')); } catch { return null; }
}

export const ROOT = resolve(PKG, '..', '..');

/** Compile test/fixtures/<name>.ts on OUR SDK (as-proxy-wasm) with the root asconfig.base.json, release target
 *  (or debug: what `build-debug` uses, with the name section). */
export function compileSdkFixture(name: string, target: 'release' | 'debug' = 'release'): Uint8Array {
  const sdk = join(ROOT, 'packages', 'as-proxy-wasm');
  return compileFixture(name, ['--config', relative(PKG, join(ROOT, 'asconfig.base.json')), '--target', target],
    [join(ROOT, 'asconfig.base.json'), join(sdk, 'assembly'), join(sdk, 'index.ts')]);
}

export const RUST_HEADERS: Array<[string, string]> = [
  [':authority', 'localhost:10000'], [':path', '/hello'], [':method', 'GET'], [':scheme', 'http'],
  ['user-agent', 'curl/7.81.0'], ['accept', '*/*'], ['x-forwarded-proto', 'http'], ['x-request-id', '3ed6e5d4-1f2c-4b5e-8d6e-0c6f0a1b2c3d'],
];
