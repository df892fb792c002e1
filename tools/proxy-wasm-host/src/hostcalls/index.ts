// The import object Envoy gives a proxy-wasm module: `env` (the proxy-wasm ABI, grouped by area like
// proxy-wasm-cpp-host's exports.cc) and the WASI functions under both WASI module names.
import type { Host } from './types';
import { logHostcalls } from './log';
import { contextHostcalls } from './context';
import { streamHostcalls } from './stream';
import { bufferHostcalls } from './buffers';
import { headerHostcalls } from './headers';
import { httpCallHostcalls } from './http-call';
import { grpcHostcalls } from './grpc';
import { sharedHostcalls } from './shared';
import { metricHostcalls } from './metrics';
import { propertyHostcalls } from './properties';
import { wasiHostcalls } from './wasi';

export type { Host } from './types';

export function buildImports(h: Host, abiVersion: '0.2.1' | '0.2.0'): WebAssembly.Imports {
  const env = {
    ...logHostcalls(h), ...contextHostcalls(h), ...streamHostcalls(h), ...bufferHostcalls(h), ...headerHostcalls(h),
    ...httpCallHostcalls(h), ...grpcHostcalls(h), ...sharedHostcalls(h), ...metricHostcalls(h), ...propertyHostcalls(h),
  };
  // proxy_get_log_level is ABI 0.2.1
  if (abiVersion !== '0.2.1') delete env.proxy_get_log_level;
  const wasi = wasiHostcalls(h) as WebAssembly.ModuleImports;
  return { env: env as WebAssembly.ModuleImports, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
}
