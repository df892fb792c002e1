/**
 * @meshwasm/validate — offline validation of the filters' manifests.
 *
 * - `validateFilterDir(dir)`: package.json, schema.json, examples/lab.json, envoy.yaml (Envoy's own
 *   protos), wasmplugin.yaml (Istio schema + CEL rules), pluginConfig against schema.json, and
 *   filter-level consistency (root_id / pluginName, code path, image tag / version).
 * - `validateDeployDir(dir)`: deploy/envoy/*.yaml, deploy/istio/*.yaml, deploy/docker-compose*.yaml.
 * - `validateFile(file)`: one manifest, recognised by its content.
 * - The building blocks: `validateEnvoyBootstrap`, `validateIstioDocs`, `loadFilterSchema`,
 *   `validateCompose`, `loadEnvoyProtos`, `ProtoJsonChecker`.
 */
export { validateFilterDir, validateDeployDir, validateFile, packageOfPlugin, packageOfWasmFilter, CONTAINER_WASM_DIRS } from './filter';
export type { FileResult, Report, RunOptions } from './filter';
export { validateEnvoyBootstrap, BOOTSTRAP } from './envoy';
export type { EnvoyReport, WasmFilterInfo } from './envoy';
export { validateIstioDocs, celPlacementRules, celWasmRules, ISTIO_EXTENSIONS } from './istio';
export type { IstioReport, PluginInfo, IstioOptions } from './istio';
export { loadFilterSchema, DRAFT_07, DRAFT_2020_12 } from './schema';
export type { FilterSchema } from './schema';
export { validateCompose } from './compose';
export type { ComposeReport } from './compose';
export { loadEnvoyProtos } from './proto';
export type { EnvoyProtos } from './proto';
export { ProtoJsonChecker, parseDuration } from './protojson';
export { parseYaml } from './yaml';
export { formatIssue, formatPath, jsonPointer } from './issues';
export { checkWasmPortability, findWasmValidate, DISABLED_FEATURES } from './wasm';
export type { MissingFeature, WasmCheckOptions } from './wasm';
export type { Issue, PathSeg, Severity } from './issues';
export { renderReport, validatePath } from './run';
