import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markWebhooksFailing } from '../../src/storage/queue/settle.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver, type ReceiverHandler } from '../helpers/receiver.ts';

const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }`;
const SET_STATUS = `mutation ($id: UUID!, $status: WebhookStatus!) { updateWebhook(input: { id: $id, status: $status }) { status disabledReason } }`;
const DELIVERIES = `query ($id: UUID!) { webhookDeliveries(webhookId: $id, first: 50) { edges { node { operation status attemptCount } } } }`;

const answer = (status: number): ReceiverHandler => (_request, response) => {
  response.statusCode = status;
  response.end();
};

describe.each(DATABASE_KINDS)("Switchboard's own events (webhook.disabled, delivery.failed) on %s", (kind) => {
  let app: TestApp;
  let workspaceId: string;
  const receivers: Receiver[] = [];
  const webhookIds: string[] = [];

  beforeAll(async () => {
    // Six attempts within half a second: a delivery's attempts run out while the test watches.
    app = await startTestApp(kind, {
      env: { SWITCHBOARD_RETRY_SCHEDULE: '30ms,30ms,30ms,30ms,30ms', SWITCHBOARD_DELIVERY_TIMEOUT: '1500ms', SWITCHBOARD_LEASE: '4s' },
    });
    workspaceId = app.server.bootstrap.workspaceId;
  });
  afterAll(async () => {
    await app?.close();
  });
  afterEach(async () => {
    // Each test's webhooks leave with it, so the next test's events reach only its own.
    for (const id of webhookIds.splice(0)) await app.graphql(`mutation ($id: UUID!) { deleteWebhook(id: $id) { id } }`, { id });
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });

  async function webhookTo(handler: ReceiverHandler, operations: string[]) {
    const receiver = await startReceiver(handler);
    receivers.push(receiver);
    const created = await app.graphql(CREATE, { input: { targetUrl: receiver.url, operations } });
    expect(created.errors).toBeUndefined();
    webhookIds.push(created.data.createWebhook.id);
    return { receiver, id: created.data.createWebhook.id as string, secret: created.data.createWebhook.secret as string };
  }

  /** Every event fanned out and every delivery settled: nothing more will be sent. */
  const idle = () =>
    eventually(
      async () => {
        const db = app.server.database.db;
        const fanouts = await db.selectFrom('pending_fanouts').select('event_id').execute();
        const pending = await db.selectFrom('deliveries').select('id').where('status', '=', 'PENDING').execute();
        return fanouts.length + pending.length;
      },
      (left) => left === 0,
    );

  const bodies = (receiver: Receiver) => receiver.requests.map((request) => JSON.parse(request.body));
  let testStart = new Date();
  beforeEach(() => {
    testStart = new Date();
  });
  /** This test's events of `operation`. */
  const operationalEvents = (operation: string) =>
    app.server.database.db
      .selectFrom('events')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('operation', '=', operation)
      .where('created_at', '>=', testStart)
      .execute();

  it('a 410 disables the webhook and a second webhook receives the signed webhook.disabled event; *.* does not', async () => {
    const gone = await webhookTo(answer(410), ['person.*']);
    const watcher = await webhookTo(answer(200), ['webhook.disabled']);
    const everything = await webhookTo(answer(200), ['*.*']);

    const [written] = await insertSampleEvents(app.server.database.db, workspaceId, 1);
    await watcher.receiver.waitForCount(1);
    await idle();

    const [request] = watcher.receiver.requests;
    // Signed like every delivery: the Standard Webhooks library verifies it with the watcher's secret.
    const verified = new Webhook(watcher.secret).verify(request!.body, {
      'webhook-id': String(request!.headers['webhook-id']),
      'webhook-timestamp': String(request!.headers['webhook-timestamp']),
      'webhook-signature': String(request!.headers['webhook-signature']),
    });
    const webhook = await app.graphql(`query ($id: UUID!) { webhook(id: $id) { status disabledReason disabledAt } }`, { id: gone.id });
    expect(webhook.data.webhook).toMatchObject({ status: 'DISABLED', disabledReason: 'GONE_410' });
    expect(verified).toEqual({
      id: request!.headers['webhook-id'],
      workspaceId,
      webhookId: watcher.id,
      operation: 'webhook.disabled',
      timestamp: webhook.data.webhook.disabledAt,
      record: {
        id: gone.id, targetUrl: `${gone.receiver.url}/`, description: null, operations: ['person.*'],
        status: 'DISABLED', disabledReason: 'GONE_410', disabledAt: webhook.data.webhook.disabledAt,
      },
      previousRecord: {
        id: gone.id, targetUrl: `${gone.receiver.url}/`, description: null, operations: ['person.*'],
        status: 'ACTIVE', disabledReason: null, disabledAt: null,
      },
      updatedFields: ['status', 'disabledReason', 'disabledAt'],
    });
    expect(request!.body).not.toContain(gone.secret);

    // `*.*` got the record event only: neither the webhook.disabled nor the delivery.failed of the 410.
    expect(bodies(everything.receiver).map((body) => [body.operation, body.id])).toEqual([['person.created', written!.id]]);
    expect(gone.receiver.requests).toHaveLength(1);
    // The event is stored like a record event (found in the watcher's delivery log, by the webhook's id as record id).
    const [stored] = await operationalEvents('webhook.disabled');
    expect(stored).toMatchObject({ id: request!.headers['webhook-id'], record_id: gone.id });
    const log = await app.graphql(DELIVERIES, { id: watcher.id });
    expect(log.data.webhookDeliveries.edges.map((edge: any) => edge.node)).toEqual([{ operation: 'webhook.disabled', status: 'SUCCEEDED', attemptCount: 1 }]);
  });

  it('exhausted attempts send delivery.failed to its subscriber; its own failures announce nothing (no cascade)', async () => {
    const failing = await webhookTo(answer(500), ['person.created']);
    // Two subscribers: one that fails too (its failure must not be announced), one that answers.
    const brokenWatcher = await webhookTo(answer(500), ['delivery.failed']);
    const watcher = await webhookTo(answer(200), ['delivery.failed']);
    const everything = await webhookTo(answer(200), ['*.*']);

    const [written] = await insertSampleEvents(app.server.database.db, workspaceId, 1);
    await failing.receiver.waitForCount(6);
    await watcher.receiver.waitForCount(1);
    await brokenWatcher.receiver.waitForCount(6);
    await idle();

    const failedDelivery = await app.server.database.db
      .selectFrom('deliveries').selectAll().where('webhook_id', '=', failing.id).executeTakeFirstOrThrow();
    expect(failedDelivery).toMatchObject({ status: 'FAILED', attempt_count: 6 });
    const [payload] = bodies(watcher.receiver);
    expect(payload).toMatchObject({
      workspaceId,
      webhookId: watcher.id,
      operation: 'delivery.failed',
      record: {
        id: failedDelivery.id,
        webhookId: failing.id,
        targetUrl: `${failing.receiver.url}/`,
        eventId: written!.id,
        operation: 'person.created',
        recordId: written!.recordId,
        status: 'FAILED',
        attemptCount: 6,
        lastStatusCode: 500,
        lastError: null,
      },
      previousRecord: null,
      updatedFields: null,
    });
    const lastAttempt = await app.server.database.db
      .selectFrom('delivery_attempts').select('started_at').where('delivery_id', '=', failedDelivery.id).where('number', '=', 6).executeTakeFirstOrThrow();
    expect(payload.record.lastAttemptAt).toBe(lastAttempt.started_at.toISOString());

    // The broken watcher's delivery of the delivery.failed event failed in turn: one event in all, and nothing more.
    expect((await app.server.database.db.selectFrom('deliveries').select('status').where('webhook_id', '=', brokenWatcher.id).execute())).toEqual([{ status: 'FAILED' }]);
    expect(await operationalEvents('delivery.failed')).toHaveLength(1);
    expect(watcher.receiver.requests).toHaveLength(1);
    expect(brokenWatcher.receiver.requests).toHaveLength(6);
    expect(bodies(everything.receiver).map((body) => body.operation)).toEqual(['person.created']);
  });

  it('disabling by hand announces BY_USER once; disabling what is disabled announces nothing', async () => {
    const watcher = await webhookTo(answer(200), ['webhook.disabled']);
    const target = await webhookTo(answer(200), ['company.*']);

    expect((await app.graphql(SET_STATUS, { id: target.id, status: 'DISABLED' })).data.updateWebhook).toEqual({ status: 'DISABLED', disabledReason: 'BY_USER' });
    expect((await app.graphql(SET_STATUS, { id: target.id, status: 'DISABLED' })).data.updateWebhook).toEqual({ status: 'DISABLED', disabledReason: 'BY_USER' });
    await watcher.receiver.waitForCount(1);
    await idle();
    expect(bodies(watcher.receiver).map((body) => [body.record.id, body.record.disabledReason])).toEqual([[target.id, 'BY_USER']]);

    // Enabled and disabled again: a second event.
    await app.graphql(SET_STATUS, { id: target.id, status: 'ACTIVE' });
    await app.graphql(SET_STATUS, { id: target.id, status: 'DISABLED' });
    await watcher.receiver.waitForCount(2);
    await idle();
    expect(watcher.receiver.requests).toHaveLength(2);
    // Another workspace's webhook.disabled subscriber hears nothing of this workspace.
    const other = await app.createWorkspace(`ops-${Date.now()}`);
    const otherReceiver = await startReceiver(answer(200));
    receivers.push(otherReceiver);
    await app.graphql(CREATE, { input: { targetUrl: otherReceiver.url, operations: ['webhook.disabled'] } }, other.apiKey);
    await app.graphql(SET_STATUS, { id: target.id, status: 'ACTIVE' });
    await app.graphql(SET_STATUS, { id: target.id, status: 'DISABLED' });
    await watcher.receiver.waitForCount(3);
    await idle();
    expect(otherReceiver.requests).toHaveLength(0);
  });

  it('five days of failures disable with FAILING_5_DAYS and the event, in the transaction that disables', async () => {
    const watcher = await webhookTo(answer(200), ['webhook.disabled']);
    const stale = await webhookTo(answer(200), ['opportunity.*']);
    const now = new Date();
    const longAgo = new Date(now.getTime() - 6 * 86_400_000);
    const disabled = await markWebhooksFailing(app.server.database.db, [{ webhookId: stale.id, at: longAgo }], new Date(now.getTime() - 5 * 86_400_000), now);
    expect(disabled).toEqual([stale.id]);
    await watcher.receiver.waitForCount(1);
    await idle();
    const [event] = await operationalEvents('webhook.disabled');
    const row = await app.server.database.db.selectFrom('webhooks').select(['status', 'disabled_reason', 'disabled_at']).where('id', '=', stale.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'DISABLED', disabled_reason: 'FAILING_5_DAYS' });
    expect(event!.created_at.getTime()).toBe(row.disabled_at!.getTime());
    expect(bodies(watcher.receiver)[0].record).toMatchObject({ id: stale.id, disabledReason: 'FAILING_5_DAYS' });
    // A failure that is not yet five days old disables nothing and writes no event.
    const fresh = await webhookTo(answer(200), ['opportunity.*']);
    expect(await markWebhooksFailing(app.server.database.db, [{ webhookId: fresh.id, at: now }], new Date(now.getTime() - 5 * 86_400_000), now)).toEqual([]);
    expect(await operationalEvents('webhook.disabled')).toHaveLength(1);
  });
});
