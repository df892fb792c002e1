export * from './transcripts';
export * from './links';
export { markdownFiles, ROOT } from './workspace';
