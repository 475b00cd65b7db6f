import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { eventually } from '../helpers/receiver.ts';

describe.each(DATABASE_KINDS)('vacuum and analyse where the database does not on %s', (kind) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await test?.dispose();
  });

  it('analyses new tables and vacuums churned ones on PGlite; leaves PostgreSQL to autovacuum', async () => {
    const db = test.database.db;
    const workspaceId = await insertWorkspaceRow(db);
    await insertWebhookRow(db, { workspaceId, targetUrl: 'http://127.0.0.1:9/hook' });
    await insertSampleEvents(db, workspaceId, 3_000);
    // Two updates of every delivery, as a claim and a settle make (of an indexed column, so not pruned as HOT).
    await sql`UPDATE deliveries SET next_attempt_at = next_attempt_at + interval '1 second'`.execute(db);
    await sql`UPDATE deliveries SET next_attempt_at = next_attempt_at + interval '1 second'`.execute(db);

    if (kind === 'postgres') {
      expect(await test.database.maintain()).toEqual([]);
      return;
    }
    // Table statistics reach pg_stat_user_tables up to a second after the writes, and the timer may be running
    // already: call again until the work shows (or the wait runs out and the expectation below says what is left).
    const readStats = () =>
      sql<{ relname: string; dead: number; analysed: boolean }>`
        SELECT relname, n_dead_tup::int AS dead, last_analyze IS NOT NULL AS analysed
        FROM pg_stat_user_tables WHERE relname IN ('deliveries', 'events') ORDER BY relname
      `.execute(db);
    const stats = await eventually(
      async () => {
        await test.database.maintain();
        return readStats();
      },
      (result) => result.rows.every((row) => row.dead === 0 && row.analysed),
      10_000,
    ).catch(readStats);
    expect(stats.rows).toEqual([
      { relname: 'deliveries', dead: 0, analysed: true },
      { relname: 'events', dead: 0, analysed: true },
    ]);
    // The planner now knows the tables' sizes instead of guessing them from their pages.
    const sizes = await sql<{ relname: string; reltuples: number }>`
      SELECT relname, reltuples::int AS reltuples FROM pg_class WHERE relname IN ('deliveries', 'events') ORDER BY relname
    `.execute(db);
    expect(sizes.rows).toEqual([
      { relname: 'deliveries', reltuples: 3_000 },
      { relname: 'events', reltuples: 3_000 },
    ]);
    // Nothing changed in them since: nothing to do for them.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const again = await test.database.maintain();
    expect(again.filter((done) => / (deliveries|events)$/.test(done))).toEqual([]);
  });
});
