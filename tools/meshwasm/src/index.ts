/** meshwasm: the CLI's pieces, for tests and scripts (the CLI itself is `bin/meshwasm.cjs`). */
export { main } from './cli';
export { wasmPlugin, readRelease, pinnedRelease, checkConfig, type WasmPluginOptions } from './wasmplugin';
export { wasmFilters, DEFAULT_ENVOY_CONFIG } from './serve';
export { rows as listRows, releaseState, type ListRow } from './list';
export { USAGE, HELP } from './usage';
