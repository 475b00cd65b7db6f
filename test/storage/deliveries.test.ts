import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueDeliveries, nextDueAt, pendingWebhooks, pickDuePerWebhook, type ClaimedDelivery } from '../../src/storage/queue/index.ts';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';

describe.each(DATABASE_KINDS)('claiming due deliveries around full endpoints on %s', (kind) => {
  let test: TestDatabase;
  let stuckId: string;
  let healthyIds: string[];

  beforeAll(async () => {
    test = await createTestDatabase(kind);
    const db = test.database.db;
    // The stuck webhook's pile is older than everything else, so it fills the front of the due index.
    const stuckWorkspace = await insertWorkspaceRow(db);
    stuckId = (await insertWebhookRow(db, { workspaceId: stuckWorkspace, targetUrl: 'http://127.0.0.1:9/stuck' })).id;
    await insertSampleEvents(db, stuckWorkspace, 500);
    const workspace = await insertWorkspaceRow(db);
    healthyIds = [];
    for (let i = 0; i < 3; i++) {
      healthyIds.push((await insertWebhookRow(db, { workspaceId: workspace, targetUrl: `http://127.0.0.1:9/healthy-${i}` })).id);
    }
    await insertSampleEvents(db, workspace, 5);
  });

  afterAll(async () => {
    await test?.dispose();
  });

  function claim(limit: number, afterWebhookId: string | null, now = new Date()): Promise<ClaimedDelivery[]> {
    return claimDueDeliveries(test.database.db, {
      leaseToken: randomUUID(),
      workerId: randomUUID(),
      now,
      leaseUntil: new Date(now.getTime() + 60_000),
      limit,
      excludeWebhookIds: [stuckId],
      afterWebhookId,
    });
  }

  it('reads the per-webhook index, never the due index where the excluded pile sits', async () => {
    const db = test.database.db;
    await sql`ANALYZE deliveries`.execute(db);
    const now = new Date();
    const plans = [
      await sql<Record<string, string>>`EXPLAIN ${pickDuePerWebhook({ now, leaseUntil: now, leaseToken: randomUUID(), workerId: randomUUID(), limit: 200 }, [stuckId])}`.execute(db),
      await sql<Record<string, string>>`EXPLAIN ${pendingWebhooks()} SELECT min(first_due) FROM pending_webhooks`.execute(db),
    ].map((plan) => plan.rows.map((row) => Object.values(row)[0]).join('\n'));
    for (const plan of plans) {
      expect(plan).toContain('deliveries_pending_by_webhook');
      expect(plan).not.toContain('deliveries_due');
      expect(plan).not.toContain('Seq Scan on deliveries');
    }
  });

  it('claims only the other webhooks, each oldest first, and goes round them in id order', async () => {
    const claims: ClaimedDelivery[][] = [];
    let after: string | null = null;
    for (let round = 0; round < 10; round++) {
      const claimed = await claim(4, after);
      claims.push(claimed);
      if (claimed.length < 4) break;
      after = claimed.map((delivery) => delivery.webhookId).sort().at(-1)!;
    }
    const all = claims.flat();
    expect(all.some((delivery) => delivery.webhookId === stuckId)).toBe(false);
    expect(new Set(all.map((delivery) => delivery.id)).size).toBe(all.length);
    // Each claim starts after the webhook where the previous one stopped: the lowest id comes first.
    const ordered = [...healthyIds].sort();
    expect(claims[0]!.every((delivery) => delivery.webhookId === ordered[0])).toBe(true);
    expect(claims[1]!.some((delivery) => delivery.webhookId === ordered[1])).toBe(true);
    // A round that reached the end leaves the rest of the webhooks it skipped for the next round from the start.
    const left = await claim(100, null);
    expect([...all, ...left].length).toBe(15);
    expect(left.some((delivery) => delivery.webhookId === stuckId)).toBe(false);
    for (const webhookId of healthyIds) {
      const created = [...all, ...left]
        .filter((delivery) => delivery.webhookId === webhookId)
        .map((delivery) => delivery.event.createdAt.getTime());
      expect(created).toHaveLength(5);
    }
    // Nothing else is due for the other webhooks: the earliest due time is when their leases end.
    const due = await nextDueAt(test.database.db, [stuckId]);
    expect(due!.getTime()).toBeGreaterThan(Date.now() + 30_000);
    // Without the exclusion the stuck webhook's pile is due now.
    expect((await nextDueAt(test.database.db))!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('claims the oldest due deliveries of all webhooks when none is excluded', async () => {
    const now = new Date();
    const claimed = await claimDueDeliveries(test.database.db, {
      leaseToken: randomUUID(),
      workerId: randomUUID(),
      now,
      leaseUntil: new Date(now.getTime() + 60_000),
      limit: 10,
    });
    expect(claimed).toHaveLength(10);
    expect(claimed.every((delivery) => delivery.webhookId === stuckId)).toBe(true);
  });
});

describe.each(DATABASE_KINDS)('claiming a delivery whose event or webhook row is gone on %s', (kind) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await test?.dispose();
  });

  it('comes back orphaned (to be ended), not dropped from the claim and leased again forever', async () => {
    const db = test.database.db;
    const workspace = await insertWorkspaceRow(db);
    const webhook = await insertWebhookRow(db, { workspaceId: workspace, targetUrl: 'http://127.0.0.1:9/orphans' });
    const [kept, eventGone, webhookGoneEvent] = await insertSampleEvents(db, workspace, 3);
    // The queue's tables carry no foreign keys (migration 013): removing the event leaves its delivery row.
    await db.deleteFrom('events').where('id', '=', eventGone!.id).execute();
    const now = new Date(Date.now() + 1_000);
    const claimed = await claimDueDeliveries(db, {
      leaseToken: randomUUID(), workerId: randomUUID(), now, leaseUntil: new Date(now.getTime() + 60_000), limit: 10,
    });
    const byEvent = new Map(claimed.map((delivery) => [delivery.eventId, delivery]));
    expect(claimed).toHaveLength(3);
    expect(byEvent.get(kept!.id)?.orphaned).toBe(false);
    expect(byEvent.get(eventGone!.id)?.orphaned).toBe(true);
    expect(byEvent.get(webhookGoneEvent!.id)?.orphaned).toBe(false);

    await db.deleteFrom('webhook_operations').where('webhook_id', '=', webhook.id).execute();
    await db.deleteFrom('webhooks').where('id', '=', webhook.id).execute();
    await sql`UPDATE deliveries SET lease_token = NULL, next_attempt_at = ${now.toISOString()}::timestamptz WHERE webhook_id = ${webhook.id}::uuid`.execute(db);
    const again = await claimDueDeliveries(db, {
      leaseToken: randomUUID(), workerId: randomUUID(), now, leaseUntil: new Date(now.getTime() + 60_000), limit: 10,
    });
    expect(again).toHaveLength(3);
    expect(again.every((delivery) => delivery.orphaned)).toBe(true);
  });
});
