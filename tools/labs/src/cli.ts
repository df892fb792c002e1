/**
 * meshwasm-labs [--verbose] [FILTER…]
 *   Runs each named filter's course lab (all filters when none is named) through the proxy-wasm
 *   host, prints what the filter did and whether it is what the lab documents. It does not
 *   build: run `npx nx run-many -t build` (or `npm start`, which builds and runs every lab).
 * Exit codes: 0 as documented, 1 a lab differs or a filter is not built, 2 usage.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLabReport, runLab } from './index';

const ROOT = join(__dirname, '..', '..', '..');

export function labFilters(root: string = ROOT): string[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'asconfig.json')) && existsSync(join(dir, n, 'examples', 'lab.exchanges.json')))
    .sort();
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--verbose');
  const all = labFilters();
  const names = argv.filter((a) => !a.startsWith('-'));
  const missing = names.find((n) => !all.includes(n));
  if (unknown || missing) {
    process.stderr.write(`meshwasm-labs: ${unknown ? `unknown option ${unknown}` : `no lab for "${missing}" (filters with a lab: ${all.join(', ')})`}\n`);
    return 2;
  }
  let failures = 0;
  for (const name of names.length ? names : all) {
    const dir = join(ROOT, 'packages', name);
    if (!existsSync(join(dir, 'dist', `${name}.wasm`))) {
      process.stderr.write(`meshwasm-labs: packages/${name}/dist/${name}.wasm is missing: build it with npx nx run ${name}:build\n`);
      return 1;
    }
    const report = await runLab(dir);
    console.log(formatLabReport(report, { verbose }));
    failures += report.results.filter((r) => r.failures.length > 0).length + (report.configured ? 0 : 1);
  }
  if (failures > 0) console.log(`✗ ${failures} lab exchange(s) differ from the documented outcome`);
  return failures === 0 ? 0 : 1;
}
