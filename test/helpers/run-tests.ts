import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './processes.ts';

/**
 * `npm test`: the main vitest run (files in parallel), then the exclusive run (tests that restart PostgreSQL and
 * must run alone). Each run's summary reporter writes its counts to SWITCHBOARD_SUMMARY_FILE; the last line
 * printed here is the total of both runs, the line CI reads. Extra arguments (file filters) go to both runs.
 */
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const args = process.argv.slice(2);
const summaryFile = path.join(os.tmpdir(), `switchboard-summary-${process.pid}.json`);
const vitest = path.join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
const runs: string[][] = [
  ['run', ...args],
  ['run', '--config', 'vitest.exclusive.config.ts', '--passWithNoTests', ...args],
];

function readCounts(status: number | null): Counts {
  try {
    return JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as Counts;
  } catch {
    // The run ended before its reporter wrote (crash, bad config): count it as one failure.
    return { passed: 0, failed: status === 0 ? 0 : 1, skipped: 0 };
  }
}

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
let failedRuns = 0;
for (const runArgs of runs) {
  fs.rmSync(summaryFile, { force: true });
  const result = spawnSync(process.execPath, [vitest, ...runArgs], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, SWITCHBOARD_SUMMARY_FILE: summaryFile },
  });
  if (result.status !== 0) failedRuns++;
  const counts = readCounts(result.status);
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}
fs.rmSync(summaryFile, { force: true });
process.stdout.write(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
process.exit(failedRuns > 0 ? 1 : 0);
