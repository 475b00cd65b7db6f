import { sql, CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDeliveries, deliveryPageQuery, listDeliveries, type DeliveryFilter } from '../../src/storage/delivery-log.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';

const DELIVERIES = 100_000;
const PAGE = 21;

// One webhook with 100,000 deliveries, a hundred operations, mostly succeeded, one record's events rare:
// every filter of the log must read a page through an index, not the webhook's whole history.
describe.each(DATABASE_KINDS)('the delivery log filters over 100,000 deliveries on %s', (kind) => {
  let test: TestDatabase;
  let workspaceId: string;
  let webhookId: string;
  const recordId = '00000000-0000-4000-8000-00000000beef';

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    const db = test.database.db;
    workspaceId = await insertWorkspaceRow(db);
    webhookId = (await insertWebhookRow(db, { workspaceId, targetUrl: 'http://127.0.0.1:9/busy' })).id;
    // Event n is for record n, except every 10,000th, which is for the one record searched below.
    await sql`
      INSERT INTO events (id, workspace_id, operation, record_id, record, created_at)
      SELECT md5('event' || n)::uuid, ${workspaceId}, 'object' || (n % 100) || '.updated',
             CASE WHEN n % 10000 = 0 THEN ${recordId}::uuid ELSE md5('record' || n)::uuid END,
             '{}'::json, now() - (n || ' seconds')::interval
      FROM generate_series(1, ${DELIVERIES}) AS n
    `.execute(db);
    await sql`
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, attempt_count, created_at, updated_at)
      SELECT md5('delivery' || n)::uuid, ${workspaceId}, ${webhookId}, md5('event' || n)::uuid, 'object' || (n % 100) || '.updated',
             CASE WHEN n % 1000 = 0 THEN 'FAILED' WHEN n % 997 = 0 THEN 'PENDING' ELSE 'SUCCEEDED' END, 1,
             now() - (n || ' seconds')::interval, now()
      FROM generate_series(1, ${DELIVERIES}) AS n
    `.execute(db);
    await sql`ANALYZE events`.execute(db);
    await sql`ANALYZE deliveries`.execute(db);
  }, 300_000);

  afterAll(async () => {
    await test?.dispose();
  });

  const filters: Array<[string, Partial<DeliveryFilter>]> = [
    ['no filter', {}],
    ['status', { status: 'FAILED' }],
    ['operation', { operation: 'object7.updated' }],
    ['record id', { recordId }],
    ['event id', { eventId: '' }],
    ['time range', { createdAfter: new Date(Date.now() - 30 * 86_400_000), createdBefore: new Date(Date.now() - 3_600_000) }],
  ];

  it.each(filters)('reads a page filtered by %s through an index, in well under a second', async (_name, partial) => {
    const db = test.database.db;
    const filter: DeliveryFilter = { workspaceId, webhookId, ...partial };
    if (partial.eventId === '') {
      const row = await db.selectFrom('deliveries').select('event_id').where('id', '=', sql<string>`md5('delivery' || 54321)::uuid`).executeTakeFirstOrThrow();
      filter.eventId = row.event_id;
    }
    const compiled = deliveryPageQuery(db, { ...filter, limit: PAGE }).compile();
    const plan = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]));
    const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).not.toMatch(/Seq Scan on deliveries/);
    expect(text).not.toMatch(/Seq Scan on events/);

    const started = performance.now();
    const first = await listDeliveries(db, { ...filter, limit: PAGE });
    const last = first.at(-1);
    const second = last ? await listDeliveries(db, { ...filter, after: { createdAt: last.createdAt, id: last.id }, limit: PAGE }) : [];
    const elapsed = performance.now() - started;
    expect(first.length).toBeGreaterThan(0);
    for (const row of [...first, ...second]) {
      if (filter.status) expect(row.status).toBe(filter.status);
      if (filter.operation) expect(row.operation).toBe(filter.operation);
      if (filter.eventId) expect(row.eventId).toBe(filter.eventId);
    }
    if (filter.recordId) expect(first).toHaveLength(DELIVERIES / 10_000);
    expect(new Set([...first, ...second].map((row) => row.id)).size).toBe(first.length + second.length);
    expect(elapsed).toBeLessThan(1000);
  });

  it('counts what a filter matches', async () => {
    const db = test.database.db;
    expect(await countDeliveries(db, { workspaceId, webhookId, status: 'FAILED' })).toBe(DELIVERIES / 1000);
    expect(await countDeliveries(db, { workspaceId, webhookId, recordId })).toBe(DELIVERIES / 10_000);
    expect(await countDeliveries(db, { workspaceId: await insertWorkspaceRow(db), webhookId })).toBe(0);
  });
});
