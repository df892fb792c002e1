// Jest reporter: records each project's counts so `npm test` can print one
// workspace-wide "N passed, N failed" line (scripts/run-tests.ts).
const { mkdirSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

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
        // what failed, for npm test's closing lines: each failed test, or a suite that did not run
        failures: results.testResults.flatMap((file) => {
          const where = relative(process.cwd(), file.testFilePath);
          if (file.testExecError) return [{ file: where, name: `the suite did not run: ${String(file.testExecError.message).split('\n')[0]}` }];
          return file.testResults.filter((t) => t.status === 'failed').map((t) => ({ file: where, name: t.fullName }));
        }),
      }),
    );
  }
}
module.exports = SummaryReporter;
