import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.ts';
import { SMOKE_SCALE } from '../../bench/harness.ts';

// Keeps the benchmark harness from rotting: every scenario at a tiny size on PGlite. The figures mean nothing
// here; each scenario checks its own counts (no delivery lost or sent twice) and throws otherwise.
describe('npm run bench (smoke)', () => {
  it('runs every scenario at a tiny size and reports a figure for each', async () => {
    // Each scenario on its own database: on PGlite, a worker started after another scenario's has twice
    // delivered nothing for a minute (open question, BENCHMARKS.md); here the harness is under test, not that.
    const runs = [];
    for (const scenario of ['1', '2', '3', '4', '5', '6', '7', '8']) {
      runs.push(await runBench({ databaseUrl: undefined, scale: SMOKE_SCALE, only: [scenario] }));
    }
    const figures = runs.flatMap((run) => run.figures);
    expect(runs.every((run) => run.kind === 'pglite')).toBe(true);
    expect(new Set(figures.map((figure) => figure.scenario))).toEqual(
      new Set(['1. Throughput', '2. Latency', '3. Fan-out', '4. Isolation', '5. Backlog', '6. Write path', '7. Custom objects', '8. Scaling']),
    );
    for (const figure of figures) expect(Number.isFinite(figure.value), figure.metric).toBe(true);
  }, 240_000);
});
