import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PKG = join(__dirname, '..');

/** Builds the named fixtures (test/fixtures/<name>.ts -> build/<name>.wasm) and returns their bytes. */
export function fixtures(...names: string[]): Record<string, Uint8Array<ArrayBuffer>> {
  execFileSync(process.execPath, [join(PKG, 'scripts', 'build-fixtures.mjs'), '--only', names.join(',')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const n of names) out[n] = new Uint8Array(readFileSync(join(PKG, "build", `${n}.wasm`)));
  return out;
}

/** Envoy's import surface for a 0.2.1 module: proxy_* from env and the WASI preview1 functions it implements. */
export const ENVOY_WASI = new Set([
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'environ_get', 'environ_sizes_get', 'args_get',
  'args_sizes_get', 'clock_time_get', 'random_get', 'proc_exit', 'path_open', 'fd_prestat_get', 'fd_prestat_dir_name',
]);

export function importsOf(wasm: Uint8Array<ArrayBuffer>): string[] {
  return WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => `${i.module}.${i.name}`);
}
