#!/usr/bin/env -S npx tsx
/**
 * meshwasm-validate [--deploy] [--json] [--no-warnings] [--packages=DIR] <filterDir | deployDir | manifest>...
 *
 * Run by the inferred Nx `validate` target as `tsx ../../tools/validate/src/cli.ts .` from a
 * filter directory, or by hand: `npx tsx tools/validate/src/cli.ts deploy/`.
 * Exit status: 0 when every file is valid (warnings allowed), 1 on any error, 2 on bad usage.
 */
import { resolve } from 'node:path';
import { renderReport, validatePath } from './run';
import type { Report } from './filter';

function main(argv: string[]): number {
  const packagesArg = argv.find((a) => a.startsWith('--packages='));
  const flags = new Set(argv.filter((a) => a.startsWith('--') && a !== packagesArg));
  const targets = argv.filter((a) => !a.startsWith('--'));
  const known = new Set(['--deploy', '--json', '--no-warnings', '--help']);
  const unknown = [...flags].filter((f) => !known.has(f));
  if (flags.has('--help') || unknown.length || targets.length === 0) {
    const usage = 'usage: meshwasm-validate [--deploy] [--json] [--no-warnings] [--packages=DIR] <filterDir | deployDir | manifest.yaml>...';
    if (unknown.length) process.stderr.write(`unknown option(s): ${unknown.join(' ')}\n`);
    (flags.has('--help') ? process.stdout : process.stderr).write(usage + '\n');
    return flags.has('--help') ? 0 : 2;
  }
  const all: Report = { files: [], issues: [] };
  for (const t of targets) {
    const r = validatePath(t, { deploy: flags.has('--deploy'), packagesDir: packagesArg ? resolve(packagesArg.slice('--packages='.length)) : undefined });
    all.files.push(...r.files);
    all.issues.push(...r.issues);
  }
  const out = renderReport(all, { warnings: !flags.has('--no-warnings') });
  if (flags.has('--json')) {
    process.stdout.write(JSON.stringify({ ok: out.ok, ...all }, null, 2) + '\n');
    return out.ok ? 0 : 1;
  }
  if (out.stdout.length) process.stdout.write(out.stdout.join('\n') + '\n');
  if (out.stderr.length) process.stderr.write(out.stderr.join('\n') + '\n');
  if (!out.ok) {
    const n = all.issues.filter((i) => i.severity === 'error').length;
    process.stderr.write(`${n} error(s) in ${all.files.filter((f) => f.errors).length} file(s)\n`);
  }
  return out.ok ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
