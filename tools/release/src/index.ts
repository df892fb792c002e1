export * from './workspace';
export * from './manifests';
export * from './changesets';
export * from './check';
export * from './artifact';
export * from './release';
export * from './verify';
export * from './docs';
