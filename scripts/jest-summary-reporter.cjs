// Jest reporter: records each project's counts so `npm test` can print one
// workspace-wide "N passed, N failed" line (scripts/run-tests.ts).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    // Only runs started by Nx (npm test) count; a developer's direct `jest` run writes nothing.
    const project = process.env.NX_TASK_TARGET_PROJECT;
    if (!project) return;
    const dir = join(__dirname, '..', '.nx', 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${project.replace(/[^a-zA-Z0-9_.-]/g, '_')}.json`),
      JSON.stringify({
        project,
        passed: results.numPassedTests,
        failed: results.numFailedTests,
        skipped: results.numPendingTests + results.numTodoTests,
        suitesFailed: results.numFailedTestSuites + (results.numRuntimeErrorTestSuites || 0),
      }),
    );
  }
}
module.exports = SummaryReporter;
