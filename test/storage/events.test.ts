import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, type NewEvent } from '../../src/storage/events.ts';
import { DELIVERY_CHANNEL, dispatchFanouts, NEW_DELIVERIES_ONLY, NEW_EVENTS } from '../../src/storage/queue/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertWorkspaceRow } from '../helpers/fixtures.ts';
import { recordNotifications } from '../helpers/notifications.ts';

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

  function event(operation: string, workspace: string = workspaceId): NewEvent {
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

  it('stores the event with the webhooks matching at the write, and creates one delivery per webhook when dispatched', async () => {
    const exact = await addWebhook(workspaceId, ['person.created']);
    const objectWildcard = await addWebhook(workspaceId, ['person.*', 'company.created']);
    const actionWildcard = await addWebhook(workspaceId, ['*.created']);
    const everything = await addWebhook(workspaceId, ['*.*', 'person.created']);
    await addWebhook(workspaceId, ['person.updated']);
    await addWebhook(workspaceId, ['*.*'], 'DISABLED');
    await addWebhook(workspaceId, ['*.*'], 'ACTIVE', true);
    await addWebhook(otherWorkspaceId, ['*.*']);

    const notifications = await recordNotifications(test.database, DELIVERY_CHANNEL);
    const created = event('person.created');
    const count = await test.database.db.transaction().execute((trx) => appendEvents(trx, [created]));
    expect(count).toBe(4);
    await notifications.caughtUp();
    expect(notifications.payloads).toEqual([NEW_EVENTS]);
    await notifications.stop();

    // The write stored the event and one fan-out row naming the four webhooks; no delivery row yet.
    const deliveriesOf = () =>
      test.database.db.selectFrom('deliveries').select(['webhook_id', 'status', 'operation']).where('event_id', '=', created.id).execute();
    expect(await deliveriesOf()).toEqual([]);
    const fanout = await test.database.db.selectFrom('pending_fanouts').selectAll().where('event_id', '=', created.id).executeTakeFirstOrThrow();
    expect([...fanout.webhook_ids].sort()).toEqual([exact, objectWildcard, actionWildcard, everything].sort());

    // A webhook created after the write gets nothing from it.
    await addWebhook(workspaceId, ['*.*']);
    expect(await dispatchFanouts(test.database.db, 100)).toEqual({ fanouts: 1, deliveries: 4, claimed: [] });
    const deliveries = await deliveriesOf();
    expect(deliveries.map((row) => row.webhook_id).sort()).toEqual([exact, objectWildcard, actionWildcard, everything].sort());
    expect(deliveries.every((row) => row.status === 'PENDING' && row.operation === 'person.created')).toBe(true);
    // Dispatched once: the fan-out row went in the statement that created the deliveries.
    expect(await dispatchFanouts(test.database.db, 100)).toEqual({ fanouts: 0, deliveries: 0, claimed: [] });

    const stored = await test.database.db.selectFrom('events').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(stored.record).toEqual(created.record);
    expect(stored.previous_record).toBeNull();
  });

  it('stores no fan-out for an event no webhook matches', async () => {
    const unmatched = event('opportunity.destroyed', await insertWorkspaceRow(test.database.db));
    expect(await test.database.db.transaction().execute((trx) => appendEvents(trx, [unmatched]))).toBe(0);
    expect(await test.database.db.selectFrom('pending_fanouts').select('event_id').where('event_id', '=', unmatched.id).execute()).toEqual([]);
  });

  it('skips a webhook whose row is gone by the time the fan-out runs, and fans out in batches, oldest first', async () => {
    const workspace = await insertWorkspaceRow(test.database.db);
    const kept = await addWebhook(workspace, ['company.deleted']);
    const removed = await addWebhook(workspace, ['company.deleted']);
    const batch = Array.from({ length: 5 }, (_, index) => ({ ...event('company.deleted', workspace), createdAt: new Date(Date.now() - 10_000 + index) }));
    await test.database.db.transaction().execute((trx) => appendEvents(trx, batch));
    await test.database.db.deleteFrom('webhook_operations').where('webhook_id', '=', removed).execute();
    await test.database.db.deleteFrom('webhooks').where('id', '=', removed).execute();
    expect(await dispatchFanouts(test.database.db, 2)).toEqual({ fanouts: 2, deliveries: 2, claimed: [] });
    const first = await test.database.db.selectFrom('deliveries').select(['event_id', 'webhook_id']).where('event_id', 'in', batch.map((e) => e.id)).execute();
    expect(first.map((row) => row.event_id).sort()).toEqual([batch[0]!.id, batch[1]!.id].sort());
    expect(first.every((row) => row.webhook_id === kept)).toBe(true);
    expect(await dispatchFanouts(test.database.db, 100)).toEqual({ fanouts: 3, deliveries: 3, claimed: [] });
  });

  it('hands up to the free slots of the new rows straight to the worker, leased, and leaves the rest to claims', async () => {
    const workspace = await insertWorkspaceRow(test.database.db);
    const busy = await addWebhook(workspace, ['person.updated']);
    const full = await addWebhook(workspace, ['person.updated']);
    const quiet = await addWebhook(workspace, ['person.updated']);
    const batch = Array.from({ length: 4 }, (_, index) => ({ ...event('person.updated', workspace), createdAt: new Date(Date.now() - 10_000 + index) }));
    const notifications = await recordNotifications(test.database, DELIVERY_CHANNEL);
    await test.database.db.transaction().execute((trx) => appendEvents(trx, batch));

    const leaseUntil = new Date(Date.now() + 60_000);
    const leaseToken = randomUUID();
    // 12 new rows: `full` is excluded (its endpoint has no slot), at most 3 per webhook, 5 in all.
    const done = await dispatchFanouts(test.database.db, 100, { leaseToken, workerId: randomUUID(), leaseUntil, limit: 5, perWebhookLimit: 3, excludeWebhookIds: [full] });
    expect(done.fanouts).toBe(4);
    expect(done.deliveries).toBe(12);
    expect(done.claimed).toHaveLength(5);
    const perWebhook = (id: string) => done.claimed.filter((delivery) => delivery.webhookId === id).length;
    expect([perWebhook(busy) + perWebhook(quiet), perWebhook(full)]).toEqual([5, 0]);
    expect(Math.max(perWebhook(busy), perWebhook(quiet))).toBe(3);
    const [one] = done.claimed;
    const source = batch.find((e) => e.id === one!.eventId)!;
    expect(one).toMatchObject({ leaseToken, leaseUntil, attemptCount: 0, operation: 'person.updated', workspaceId: workspace });
    expect(one!.event).toEqual({ record: source.record, previousRecord: null, updatedFields: ['firstName'], createdAt: source.createdAt });
    expect(one!.webhook).toMatchObject({ status: 'ACTIVE', deleted: false, secret: 'whsec_x', targetUrl: `http://127.0.0.1:9/${one!.webhookId}` });

    // Leased rows are not due until the lease ends; the other seven are due now and wake the workers.
    const rows = await test.database.db.selectFrom('deliveries').selectAll().where('event_id', 'in', batch.map((e) => e.id)).execute();
    const leased = rows.filter((row) => row.lease_token === leaseToken);
    expect(leased.map((row) => row.id).sort()).toEqual(done.claimed.map((delivery) => delivery.id).sort());
    expect(leased.every((row) => new Date(row.next_attempt_at!).getTime() === leaseUntil.getTime())).toBe(true);
    const unleased = rows.filter((row) => row.lease_token === null);
    expect(unleased).toHaveLength(7);
    expect(unleased.every((row) => row.status === 'PENDING' && new Date(row.next_attempt_at!) <= new Date())).toBe(true);
    await notifications.caughtUp();
    expect(notifications.payloads).toEqual([NEW_EVENTS, NEW_DELIVERIES_ONLY]);
    await notifications.stop();
  });

  it('wakes no other worker when it takes every new row itself', async () => {
    const workspace = await insertWorkspaceRow(test.database.db);
    await addWebhook(workspace, ['company.created']);
    const created = event('company.created', workspace);
    const notifications = await recordNotifications(test.database, DELIVERY_CHANNEL);
    await test.database.db.transaction().execute((trx) => appendEvents(trx, [created]));
    const claim = { leaseToken: randomUUID(), workerId: randomUUID(), leaseUntil: new Date(Date.now() + 60_000), limit: 10, perWebhookLimit: 10, excludeWebhookIds: [] };
    const done = await dispatchFanouts(test.database.db, 100, claim);
    expect(done.claimed.map((delivery) => delivery.eventId)).toEqual([created.id]);
    await notifications.caughtUp();
    // The write's own wake-up for the fan-out, and none for the rows: this worker took them all.
    expect(notifications.payloads).toEqual([NEW_EVENTS]);
    await notifications.stop();
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
    const fanouts = await test.database.db.selectFrom('pending_fanouts').select('event_id').where('event_id', '=', lost.id).execute();
    expect(events).toEqual([]);
    expect(fanouts).toEqual([]);
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
