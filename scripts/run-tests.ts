/**
 * `npm test`: lints, type-checks, tests, validates and fuzzes (the short seeded pass) every project through Nx, then prints one
 * workspace-wide summary line ("N passed, N failed, N skipped"). Skipped tests fail the run
 * under CI=true: every test must run in CI.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failureLines, runNx } from '@meshwasm/nx-plugin/failures';

const root = join(__dirname, '..');
const resultsDir = join(root, '.nx', 'test-results');
rmSync(resultsDir, { recursive: true, force: true });

async function main(): Promise<number> {
  const extra = process.argv.slice(2);
  const run = await runNx(['run-many', '-t', 'lint', 'typecheck', 'test', 'validate', 'fuzz', '--outputStyle=stream', '--skipNxCache', ...extra], { cwd: root });

  let passed = 0, failed = 0, skipped = 0, suitesFailed = 0;
  const projects: string[] = [];
  const failedTests = new Map<string, Array<{ file: string; name: string }>>();
  if (existsSync(resultsDir)) {
    for (const f of readdirSync(resultsDir)) {
      const r = JSON.parse(readFileSync(join(resultsDir, f), 'utf8'));
      projects.push(`${r.project}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
      passed += r.passed; failed += r.failed; skipped += r.skipped; suitesFailed += r.suitesFailed;
      if (r.failures?.length) failedTests.set(r.project, r.failures);
    }
  }
  console.log('\nTest results by project:');
  for (const p of projects.sort()) console.log(`  ${p}`);
  let code = run.code;
  const reasons: string[] = [];
  if (process.env.CI === 'true' && skipped > 0) {
    reasons.push(`✗ ${skipped} skipped test(s): every test must run in CI`);
    code = code || 1;
  }
  if (suitesFailed > 0) code = code || 1;
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  // A failure ends the output with what failed and why: a test task's failed tests, any other
  // task's own last line, then the command that shows one task's whole output.
  if (code !== 0) {
    const lines = failureLines(run.failed.map((t) => {
      const tests = t.task.endsWith(':test') ? failedTests.get(t.task.slice(0, -':test'.length)) : undefined;
      if (!tests?.length) return t;
      const shown = tests.slice(0, 3).map((x) => `"${x.name}" (${x.file})`).join(', ');
      return { ...t, lastLine: `${tests.length} failed: ${shown}${tests.length > 3 ? ', …' : ''}` };
    }));
    reasons.push(...lines);
    if (!reasons.length) reasons.push('✗ the run failed: its output above says why');
    for (const l of reasons) console.error(l);
  }
  return code;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(`✗ ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
