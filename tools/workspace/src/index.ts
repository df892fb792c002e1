export { findWorkspaceRoot, toPosix } from './root';
export { FILTERS_DIR, isFilterDir, labPaths, linkedPackageDirs, listFilters, listLabFilters, readFilter, workspacePackageDirs, type FilterInfo } from './filters';
export { LAB_SOURCE, RELEASE_EDITED_FILES, artifactSourceGlobs, artifactSourcePaths, artifactSources, type SourceEntry } from './sources';
