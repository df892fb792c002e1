/** Picks the right validator for a path and renders reports as text. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateDeployDir, validateFile, validateFilterDir, type Report, type RunOptions } from './filter';
import { formatIssue } from './issues';
import { isFilterDir } from '@meshwasm/workspace';

/**
 * A directory with `asconfig.json` or `schema.json` is a filter; any other directory is a deploy
 * tree (`--deploy` forces that); a file is one manifest.
 */
export function validatePath(target: string, opts: RunOptions & { deploy?: boolean } = {}): Report {
  if (!existsSync(target)) {
    return { files: [], issues: [{ severity: 'error', file: target, path: [], message: 'no such file or directory' }] };
  }
  if (!statSync(target).isDirectory()) return validateFile(target, opts);
  const isFilter = isFilterDir(target) || existsSync(join(target, 'schema.json'));
  return isFilter && !opts.deploy ? validateFilterDir(target, opts) : validateDeployDir(target, opts);
}

/** One line per file (`ok`/`FAIL`), then each problem on its own line. */
export function renderReport(report: Report, opts: { warnings?: boolean } = {}): { stdout: string[]; stderr: string[]; ok: boolean } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const width = Math.max(0, ...report.files.map((f) => f.file.length));
  for (const f of report.files) {
    const status = f.errors ? 'FAIL' : 'ok  ';
    const counts = f.errors || f.warnings ? ` [${f.errors} error(s), ${f.warnings} warning(s)]` : '';
    const line = `${status} ${f.file.padEnd(width)}  ${f.errors ? '' : f.summary}${counts}`.trimEnd();
    (f.errors ? stderr : stdout).push(line);
  }
  for (const i of report.issues) {
    if (i.severity === 'warning' && opts.warnings === false) continue;
    (i.severity === 'error' ? stderr : stdout).push(`  ${formatIssue(i)}`);
  }
  const errors = report.issues.filter((i) => i.severity === 'error').length;
  return { stdout, stderr, ok: errors === 0 };
}
