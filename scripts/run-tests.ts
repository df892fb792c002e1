/**
 * `npm test`: lints, type-checks, tests and validates every project through Nx, then prints one
 * workspace-wide summary line ("N passed, N failed, N skipped"). Skipped tests fail the run
 * under CI=true: every test must run in CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const resultsDir = join(root, '.nx', 'test-results');
rmSync(resultsDir, { recursive: true, force: true });

const extra = process.argv.slice(2);
const run = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', 'validate', '--outputStyle=stream', '--skipNxCache', ...extra],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_TUI: 'false' } },
);

let passed = 0, failed = 0, skipped = 0, suitesFailed = 0;
const projects: string[] = [];
if (existsSync(resultsDir)) {
  for (const f of readdirSync(resultsDir)) {
    const r = JSON.parse(readFileSync(join(resultsDir, f), 'utf8'));
    projects.push(`${r.project}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
    passed += r.passed; failed += r.failed; skipped += r.skipped; suitesFailed += r.suitesFailed;
  }
}
console.log('\nTest results by project:');
for (const p of projects.sort()) console.log(`  ${p}`);
let code = run.status ?? 1;
if (process.env.CI === 'true' && skipped > 0) {
  console.error(`error: ${skipped} skipped test(s): every test must run in CI`);
  code = code || 1;
}
if (suitesFailed > 0) code = code || 1;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
