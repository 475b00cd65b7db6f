import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';

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

    // The timer may have started a run before the updates: a second call covers them.
    const done = [...(await test.database.maintain()), ...(await test.database.maintain())];
    if (kind === 'postgres') {
      expect(done).toEqual([]);
      return;
    }
    const stats = await sql<{ relname: string; dead: number; analysed: boolean }>`
      SELECT relname, n_dead_tup::int AS dead, last_analyze IS NOT NULL AS analysed
      FROM pg_stat_user_tables WHERE relname IN ('deliveries', 'events') ORDER BY relname
    `.execute(db);
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
    // Nothing changed since: nothing to do.
    expect(await test.database.maintain()).toEqual([]);
  });
});
