import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.ts';
import { createDeliveryLogService, type DeliveryLogService } from '../../src/delivery-log/service.ts';
import { createTestWebhookSender } from '../../src/delivery/test-webhook.ts';
import { loadConfig } from '../../src/config.ts';
import { startRetention } from '../../src/delivery-log/retention.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { queueFigures } from '../../src/storage/delivery-log.ts';
import { DELIVERY_CHANNEL, NEW_DELIVERIES_ONLY } from '../../src/storage/queue/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { recordNotifications } from '../helpers/notifications.ts';

const HOUR = 3_600_000;

describe.each(DATABASE_KINDS)('delivery log, redeliver, recover, stats, retention on %s', (kind) => {
  let test: TestDatabase;
  let log: DeliveryLogService;
  let workspaceId: string;
  let otherWorkspaceId: string;
  // Fixtures stamp rows with the real time, so the injected clock starts there and stays put.
  const now = new Date();
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    log = createDeliveryLogService(test.database.db, clock, createTestWebhookSender(loadConfig({}), clock));
    workspaceId = await insertWorkspaceRow(test.database.db);
    otherWorkspaceId = await insertWorkspaceRow(test.database.db);
  });
  afterAll(async () => {
    await log?.close();
    await test?.dispose();
  });

  async function settle(deliveryId: string, status: 'SUCCEEDED' | 'FAILED', attempts: Array<{ statusCode: number | null; durationMs: number; at: Date }>) {
    const db = test.database.db;
    const delivery = await db.selectFrom('deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow();
    await db
      .insertInto('delivery_attempts')
      .values(
        attempts.map((attempt, index) => ({
          id: randomUUID(),
          delivery_id: deliveryId,
          workspace_id: delivery.workspace_id,
          webhook_id: delivery.webhook_id,
          number: index + 1,
          started_at: attempt.at,
          duration_ms: attempt.durationMs,
          status_code: attempt.statusCode,
          response_body: attempt.statusCode ? `answer ${attempt.statusCode}` : null,
          error: attempt.statusCode ? null : 'connect ECONNREFUSED',
          request_headers: JSON.stringify({ 'content-type': 'application/json' }),
        })),
      )
      .execute();
    await db
      .updateTable('deliveries')
      .set({ status, attempt_count: attempts.length, next_attempt_at: null, last_attempt_at: attempts.at(-1)!.at })
      .where('id', '=', deliveryId)
      .execute();
  }

  async function deliveriesOf(webhookId: string) {
    return test.database.db.selectFrom('deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('created_at').execute();
  }

  it('lists one webhook\'s deliveries newest first, with attempts, filters and cursor pages', async () => {
    const webhook = await insertWebhookRow(test.database.db, { workspaceId, targetUrl: 'http://127.0.0.1:9/a' });
    for (let index = 0; index < 5; index++) await insertSampleEvents(test.database.db, workspaceId, 1);
    const rows = await deliveriesOf(webhook.id);
    expect(rows).toHaveLength(5);
    await settle(rows[0].id, 'SUCCEEDED', [{ statusCode: 200, durationMs: 12, at: now }]);
    await settle(rows[1].id, 'FAILED', [
      { statusCode: 500, durationMs: 20, at: now },
      { statusCode: null, durationMs: 30, at: now },
    ]);

    const first = await log.list(workspaceId, { webhookId: webhook.id, first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((edge) => edge.node.id)).toEqual([rows[4].id, rows[3].id]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await log.list(workspaceId, { webhookId: webhook.id, first: 10, after: first.pageInfo.endCursor });
    expect(rest.edges.map((edge) => edge.node.id)).toEqual([rows[2].id, rows[1].id, rows[0].id]);
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const failed = await log.list(workspaceId, { webhookId: webhook.id, status: 'FAILED' });
    expect(failed.totalCount).toBe(1);
    const [node] = failed.edges.map((edge) => edge.node);
    expect(node.attempts.map((attempt) => [attempt.number, attempt.statusCode, attempt.error])).toEqual([
      [1, 500, null],
      [2, null, 'connect ECONNREFUSED'],
    ]);
    expect(node.attempts[0].responseBody).toBe('answer 500');
    expect(node.event?.operation).toBe('person.created');

    await expect(log.list(workspaceId, { webhookId: webhook.id, first: 0 })).rejects.toThrow(/first/);
    await expect(log.list(workspaceId, { webhookId: webhook.id, after: 'garbage' })).rejects.toThrow(/after/);
    await expect(log.list(otherWorkspaceId, { webhookId: webhook.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(log.get(otherWorkspaceId, node.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('redelivers any delivery now and wakes the workers; not across workspaces', async () => {
    const webhook = await insertWebhookRow(test.database.db, { workspaceId, targetUrl: 'http://127.0.0.1:9/b' });
    await insertSampleEvents(test.database.db, workspaceId, 1);
    const [row] = await deliveriesOf(webhook.id);
    await settle(row.id, 'SUCCEEDED', [{ statusCode: 204, durationMs: 5, at: now }]);

    const notifications = await recordNotifications(test.database, DELIVERY_CHANNEL);
    await expect(log.redeliver(otherWorkspaceId, row.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const again = await log.redeliver(workspaceId, row.id);
    expect(again.status).toBe('PENDING');
    expect(again.nextAttemptAt?.toISOString()).toBe(now.toISOString());
    expect(again.attempts).toHaveLength(1);
    await notifications.caughtUp();
    // The workers are woken to send it again.
    expect(notifications.payloads).toContain(NEW_DELIVERIES_ONLY);
    await notifications.stop();
  });

  it('recovers exactly the failed deliveries created since the given time', async () => {
    const webhook = await insertWebhookRow(test.database.db, { workspaceId, targetUrl: 'http://127.0.0.1:9/c' });
    await insertSampleEvents(test.database.db, workspaceId, 4);
    const rows = await deliveriesOf(webhook.id);
    const old = new Date(now.getTime() - 10 * HOUR);
    await test.database.db.updateTable('deliveries').set({ created_at: old }).where('id', '=', rows[0].id).execute();
    await settle(rows[0].id, 'FAILED', [{ statusCode: 500, durationMs: 1, at: old }]);
    await settle(rows[1].id, 'FAILED', [{ statusCode: 500, durationMs: 1, at: now }]);
    await settle(rows[2].id, 'FAILED', [{ statusCode: 503, durationMs: 1, at: now }]);
    await settle(rows[3].id, 'SUCCEEDED', [{ statusCode: 200, durationMs: 1, at: now }]);

    const queued = await log.recover(workspaceId, webhook.id, new Date(now.getTime() - HOUR));
    expect(queued).toBe(2);
    const after = new Map((await deliveriesOf(webhook.id)).map((row) => [row.id, row.status]));
    expect(after.get(rows[0].id)).toBe('FAILED');
    expect(after.get(rows[1].id)).toBe('PENDING');
    expect(after.get(rows[2].id)).toBe('PENDING');
    expect(after.get(rows[3].id)).toBe('SUCCEEDED');
    await expect(log.recover(otherWorkspaceId, webhook.id, old)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('computes the last 24 hours of figures', async () => {
    const webhook = await insertWebhookRow(test.database.db, { workspaceId, targetUrl: 'http://127.0.0.1:9/d' });
    await insertSampleEvents(test.database.db, workspaceId, 3);
    const rows = await deliveriesOf(webhook.id);
    const earlier = new Date(now.getTime() - 2 * HOUR);
    await settle(rows[0].id, 'SUCCEEDED', [{ statusCode: 200, durationMs: 10, at: earlier }]);
    await settle(rows[1].id, 'SUCCEEDED', [
      { statusCode: 500, durationMs: 100, at: earlier },
      { statusCode: 200, durationMs: 20, at: now },
    ]);
    await settle(rows[2].id, 'FAILED', [{ statusCode: null, durationMs: 40, at: new Date(now.getTime() - 30 * HOUR) }]);

    const stats = await log.stats(workspaceId, webhook.id);
    expect(stats).toMatchObject({ sent: 3, succeeded: 2, failed: 1, p50LatencyMs: 20 });
    // 20 + 0.9 × 80 is 91.99999999999999 in floating point: answered as 92.
    expect(stats.p95LatencyMs).toBe(92);
    expect(stats.lastSuccessAt?.toISOString()).toBe(now.toISOString());
    expect(stats.lastFailureAt?.toISOString()).toBe(earlier.toISOString());
  });

  it('retention removes only old, settled events with their deliveries and attempts', async () => {
    const db = test.database.db;
    // A workspace of its own: the other tests' webhooks would also receive (and keep pending) these events.
    const isolated = await insertWorkspaceRow(db);
    const webhook = await insertWebhookRow(db, { workspaceId: isolated, targetUrl: 'http://127.0.0.1:9/e' });
    const events = await insertSampleEvents(db, isolated, 6);
    const rows = await deliveriesOf(webhook.id);
    const ancient = new Date(now.getTime() - 40 * 24 * HOUR);
    // Four old events: two settled, one still pending, one with no delivery at all.
    await db.updateTable('events').set({ created_at: ancient }).where('id', 'in', events.slice(0, 3).map((event) => event.id)).execute();
    await db.deleteFrom('deliveries').where('event_id', '=', events[3].id).execute();
    await db.updateTable('events').set({ created_at: ancient }).where('id', '=', events[3].id).execute();
    const byEvent = new Map(rows.map((row) => [row.event_id, row.id]));
    await settle(byEvent.get(events[0].id)!, 'SUCCEEDED', [{ statusCode: 200, durationMs: 1, at: ancient }]);
    await settle(byEvent.get(events[1].id)!, 'FAILED', [{ statusCode: 500, durationMs: 1, at: ancient }]);
    await settle(byEvent.get(events[4].id)!, 'SUCCEEDED', [{ statusCode: 200, durationMs: 1, at: now }]);

    const before = await db.selectFrom('events').select('id').execute();
    const retention = startRetention({ db, clock, logger: pino({ level: 'silent' }), retentionMs: 30 * 24 * HOUR, batchSize: 1 });
    const removed = await retention.sweep();
    await retention.stop();
    expect(removed).toBe(3);
    const remaining = new Set((await db.selectFrom('events').select('id').execute()).map((row) => row.id));
    expect(remaining.size).toBe(before.length - 3);
    expect(remaining.has(events[0].id)).toBe(false);
    expect(remaining.has(events[1].id)).toBe(false);
    expect(remaining.has(events[3].id)).toBe(false);
    expect(remaining.has(events[2].id)).toBe(true); // old but still pending
    expect(remaining.has(events[4].id)).toBe(true); // recent
    const orphanAttempts = await db
      .selectFrom('delivery_attempts')
      .select('id')
      .where('delivery_id', 'in', [byEvent.get(events[0].id)!, byEvent.get(events[1].id)!])
      .execute();
    expect(orphanAttempts).toEqual([]);
    // Their delivery rows went with them (by the retention statement itself: migration 013 dropped the cascade).
    const orphanDeliveries = await db.selectFrom('deliveries').select('id').where('event_id', 'in', [events[0].id, events[1].id]).execute();
    expect(orphanDeliveries).toEqual([]);
  });

  it('metrics expose attempts, outcomes, latency, events and the shared queue', async () => {
    const metrics = createMetrics(() => queueFigures(test.database.db), clock);
    metrics.attemptFinished(true, 12);
    metrics.attemptFinished(false, 3_000);
    metrics.deliverySettled('succeeded');
    metrics.deliverySettled('retrying');
    metrics.eventsEmitted(3);
    const text = await metrics.render();
    expect(text).toMatch(/switchboard_delivery_attempts_total\{result="success"\} 1/);
    expect(text).toMatch(/switchboard_delivery_attempts_total\{result="failure"\} 1/);
    expect(text).toMatch(/switchboard_deliveries_total\{outcome="retrying"\} 1/);
    expect(text).toMatch(/switchboard_delivery_attempt_duration_seconds_bucket\{le="0.025"\} 1/);
    expect(text).toMatch(/switchboard_events_emitted_total 3/);
    const pending = (await queueFigures(test.database.db)).pending;
    expect(pending).toBeGreaterThan(0);
    expect(text).toContain(`switchboard_delivery_queue_depth ${pending}`);
    expect(text).toMatch(/switchboard_delivery_oldest_pending_age_seconds \d/);
    const awaiting = (await queueFigures(test.database.db)).awaitingFanout;
    expect(text).toContain(`switchboard_events_awaiting_fanout ${awaiting}`);
  });
});
