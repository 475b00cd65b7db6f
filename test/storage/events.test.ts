import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, DELIVERY_CHANNEL, type NewEvent } from '../../src/storage/events.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';

describe.each(DATABASE_KINDS)('event outbox and fan-out on %s', (kind) => {
  let test: TestDatabase;
  const workspaceId = randomUUID();
  const otherWorkspaceId = randomUUID();

  async function addWebhook(workspace: string, operations: string[], status: 'ACTIVE' | 'DISABLED' = 'ACTIVE', deleted = false) {
    const id = randomUUID();
    const now = new Date();
    await test.database.db
      .insertInto('webhooks')
      .values({
        id,
        workspace_id: workspace,
        target_url: `http://127.0.0.1:9/${id}`,
        operations,
        secret: 'whsec_x',
        status,
        created_at: now,
        updated_at: now,
        deleted_at: deleted ? now : null,
      })
      .execute();
    await test.database.db
      .insertInto('webhook_operations')
      .values(operations.map((operation) => ({ webhook_id: id, workspace_id: workspace, operation })))
      .execute();
    return id;
  }

  function event(operation: string, workspace = workspaceId): NewEvent {
    const recordId = randomUUID();
    return {
      id: randomUUID(),
      workspaceId: workspace,
      operation,
      recordId,
      record: { id: recordId, firstName: 'Ada' },
      previousRecord: null,
      updatedFields: operation.endsWith('.updated') ? ['firstName'] : null,
      createdAt: new Date(),
    };
  }

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    await test.database.db.insertInto('workspaces').values([
      { id: workspaceId, name: 'a' },
      { id: otherWorkspaceId, name: 'b' },
    ]).execute();
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('creates one delivery per matching active webhook, in the same transaction', async () => {
    const exact = await addWebhook(workspaceId, ['person.created']);
    const objectWildcard = await addWebhook(workspaceId, ['person.*', 'company.created']);
    const actionWildcard = await addWebhook(workspaceId, ['*.created']);
    const everything = await addWebhook(workspaceId, ['*.*', 'person.created']);
    await addWebhook(workspaceId, ['person.updated']);
    await addWebhook(workspaceId, ['*.*'], 'DISABLED');
    await addWebhook(workspaceId, ['*.*'], 'ACTIVE', true);
    await addWebhook(otherWorkspaceId, ['*.*']);

    let notified = 0;
    const unlisten = await test.database.listen(DELIVERY_CHANNEL, () => notified++);
    const created = event('person.created');
    const count = await test.database.db.transaction().execute((trx) => appendEvents(trx, [created]));
    expect(count).toBe(4);
    const deliveries = await test.database.db
      .selectFrom('deliveries')
      .select(['webhook_id', 'status', 'operation', 'workspace_id'])
      .where('event_id', '=', created.id)
      .execute();
    expect(deliveries.map((row) => row.webhook_id).sort()).toEqual([exact, objectWildcard, actionWildcard, everything].sort());
    expect(deliveries.every((row) => row.status === 'PENDING' && row.operation === 'person.created')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(notified).toBeGreaterThan(0);
    await unlisten();

    const stored = await test.database.db.selectFrom('events').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(stored.record).toEqual(created.record);
    expect(stored.previous_record).toBeNull();
  });

  it('stores nothing when the transaction rolls back', async () => {
    const lost = event('person.created');
    await expect(
      test.database.db.transaction().execute(async (trx) => {
        await appendEvents(trx, [lost]);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    const events = await test.database.db.selectFrom('events').select('id').where('id', '=', lost.id).execute();
    const deliveries = await test.database.db.selectFrom('deliveries').select('id').where('event_id', '=', lost.id).execute();
    expect(events).toEqual([]);
    expect(deliveries).toEqual([]);
  });

  it('writes many events in one statement, with updatedFields', async () => {
    const batch = Array.from({ length: 50 }, () => event('company.updated'));
    await test.database.db.transaction().execute((trx) => appendEvents(trx, batch));
    const rows = await test.database.db
      .selectFrom('events')
      .select(['id', 'updated_fields'])
      .where('id', 'in', batch.map((item) => item.id))
      .execute();
    expect(rows).toHaveLength(50);
    expect(rows.every((row) => JSON.stringify(row.updated_fields) === '["firstName"]')).toBe(true);
  });
});
