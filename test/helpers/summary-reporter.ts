import fs from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with the plain line CI reads: `N passed, N failed` (skipped counted apart). */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load, or in a beforeAll/afterAll hook, has no failed test but must still count as a failure.
      if (module.state() === 'failed' && ![...module.children.allTests()].some((test) => test.result().state === 'failed')) failed++;
    }
    // npm test runs vitest twice (test/helpers/run-tests.ts) and prints the total from these files.
    if (process.env.SWITCHBOARD_SUMMARY_FILE) {
      fs.writeFileSync(process.env.SWITCHBOARD_SUMMARY_FILE, JSON.stringify({ passed, failed, skipped }));
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
