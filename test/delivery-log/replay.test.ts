import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.ts';
import { createDeliveryLogService } from '../../src/delivery-log/service.ts';
import { createTestWebhookSender } from '../../src/delivery/test-webhook.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { appendEvents, type NewEvent } from '../../src/storage/events.ts';
import { loadConfig } from '../../src/config.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

const REPLAY = `mutation ($id: UUID!, $since: DateTime!, $until: DateTime) {
  replayWebhookEvents(id: $id, since: $since, until: $until) { webhookId since until queued }
}`;
const CREATE = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }';
const SET_STATUS = 'mutation ($id: UUID!, $status: WebhookStatus!) { updateWebhook(input: { id: $id, status: $status }) { status } }';

describe.each(DATABASE_KINDS)('replayWebhookEvents on %s', (kind) => {
  let app: TestApp;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    app = await startTestApp(kind, { env: { SWITCHBOARD_RETRY_SCHEDULE: '50ms', SWITCHBOARD_DELIVERY_TIMEOUT: '2s' } });
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  afterAll(async () => {
    await app?.close();
  });

  const db = () => app.server.database.db;
  const createPerson = async (city: string) => {
    const created = await app.graphql('mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }', { data: { firstName: 'Ada', city } });
    expect(created.errors).toBeUndefined();
    return created.data.createPerson.id as string;
  };
  const eventIdsOf = async (recordIds: string[]) =>
    (await db().selectFrom('events').select(['id', 'record_id']).where('record_id', 'in', recordIds).orderBy('created_at').orderBy('id').execute()).map((row) => row.id);

  it('delivers exactly the events written while the webhook was disabled that match it now, once each, oldest first, with their ids', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await app.graphql(CREATE, { input: { targetUrl: `${receiver.url}/sync`, operations: ['person.created', 'person.updated'], filter: { city: { eq: 'Paris' } } } });
    const id = created.data.createWebhook.id;
    await createPerson('Paris');
    await receiver.waitForCount(1);

    expect((await app.graphql(SET_STATUS, { id, status: 'DISABLED' })).data.updateWebhook.status).toBe('DISABLED');
    const since = new Date();
    const paris = [await createPerson('Paris'), await createPerson('Paris')];
    const rome = await createPerson('Rome');
    await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { jobTitle: "CTO" }) { id } }', { id: paris[0] });
    await app.graphql('mutation ($id: UUID!) { deletePerson(id: $id) { id } }', { id: paris[1] });
    const until = new Date(Date.now() + 1);
    expect((await app.graphql(SET_STATUS, { id, status: 'ACTIVE' })).data.updateWebhook.status).toBe('ACTIVE');
    // A write after the window, delivered as usual, and not replayed.
    await createPerson('Paris');
    await receiver.waitForCount(2);
    expect(await db().selectFrom('deliveries').select('id').where('webhook_id', '=', id).execute()).toHaveLength(2);

    const replay = await app.graphql(REPLAY, { id, since: since.toISOString(), until: until.toISOString() });
    expect(replay.errors).toBeUndefined();
    // Created Paris ×2 and the update of a Paris record; not Rome, not the deletion (the operations lack it).
    expect(replay.data.replayWebhookEvents).toEqual({ webhookId: id, since: since.toISOString(), until: until.toISOString(), queued: 3 });
    await receiver.waitForCount(5);
    const replayed = receiver.requests.slice(2).map((request) => JSON.parse(request.body));
    const expectedIds = (await eventIdsOf(paris)).filter((_, index) => index < 3);
    expect(replayed.map((body) => body.id)).toEqual(expectedIds);
    expect(replayed.map((body) => body.operation)).toEqual(['person.created', 'person.created', 'person.updated']);
    expect(replayed.every((body) => body.record.city === 'Paris' && body.record.id !== rome)).toBe(true);
    // Every delivery settled: nothing more will come.
    await eventually(
      () => db().selectFrom('deliveries').select('status').where('webhook_id', '=', id).execute(),
      (rows) => rows.length === 5 && rows.every((row) => row.status === 'SUCCEEDED'),
    );
    expect(receiver.requests).toHaveLength(5);

    // Over REST, with no until: up to now; the settled deliveries are queued again on their rows.
    const rest = await app.rest('POST', `/rest/webhooks/${id}/replay`, { since: since.toISOString() });
    expect(rest.status).toBe(200);
    expect(rest.body.data.replayWebhookEvents).toMatchObject({ webhookId: id, queued: 4 });
    await receiver.waitForCount(9);
  });

  it('refuses bad windows, a disabled webhook and another workspace, and queues nothing', async () => {
    const created = await app.graphql(CREATE, { input: { targetUrl: 'https://example.com/replay', operations: ['person.*'] } });
    const id = created.data.createWebhook.id;
    const since = new Date(Date.now() - 60_000).toISOString();
    const now = new Date().toISOString();

    const backwards = await app.graphql(REPLAY, { id, since: now, until: since });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
    const badDate = await app.graphql(REPLAY, { id, since: '2024-02-30T00:00:00Z' });
    expect(badDate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    for (const body of [{}, { since: 'yesterday' }, { since, until: 5 }, [since]]) {
      const rest = await app.rest('POST', `/rest/webhooks/${id}/replay`, body);
      expect(rest.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(rest.status).toBeLessThan(500);
    }

    const other = await app.createWorkspace(`replay-${randomUUID()}`);
    const foreign = await app.graphql(REPLAY, { id, since }, other.apiKey);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await app.rest('POST', `/rest/webhooks/${id}/replay`, { since }, other.apiKey)).status).toBe(404);
    expect((await app.rest('POST', `/rest/webhooks/${randomUUID()}/replay`, { since })).status).toBe(404);

    await app.graphql(SET_STATUS, { id, status: 'DISABLED' });
    const disabled = await app.rest('POST', `/rest/webhooks/${id}/replay`, { since });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.message).toMatch(/enable it/);
    expect(await db().selectFrom('deliveries').select('id').where('webhook_id', '=', id).execute()).toHaveLength(0);
  });

  it('states the oldest instant retention keeps when the window reaches past it (GraphQL and REST), and null otherwise', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await app.graphql(CREATE, { input: { targetUrl: `${receiver.url}/kept`, operations: ['person.created'] } });
    const id = created.data.createWebhook.id;
    const retentionMs = loadConfig({}).retentionMs;
    const longAgo = new Date(Date.now() - retentionMs - 86_400_000).toISOString();
    const before = Date.now();
    const past = await app.graphql(`mutation ($id: UUID!, $since: DateTime!) { replayWebhookEvents(id: $id, since: $since) { queued retainedSince } }`, { id, since: longAgo });
    expect(past.errors).toBeUndefined();
    const horizon = Date.parse(past.data.replayWebhookEvents.retainedSince);
    expect(horizon).toBeGreaterThanOrEqual(before - retentionMs);
    expect(horizon).toBeLessThanOrEqual(Date.now() - retentionMs);
    const rest = await app.rest('POST', `/rest/webhooks/${id}/replay`, { since: longAgo });
    expect(Date.parse(rest.body.data.replayWebhookEvents.retainedSince)).toBeGreaterThanOrEqual(horizon);
    const recent = await app.graphql(`mutation ($id: UUID!, $since: DateTime!) { replayWebhookEvents(id: $id, since: $since) { retainedSince } }`, {
      id,
      since: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(recent.data.replayWebhookEvents.retainedSince).toBeNull();
    expect((await app.rest('POST', `/rest/webhooks/${id}/replay`, { since: new Date(Date.now() - 60_000).toISOString() })).body.data.replayWebhookEvents.retainedSince).toBeNull();
  });

  it('stops at its bounds on an instant boundary, and a second call from there covers the rest exactly once', async () => {
    const workspaceId = app.server.bootstrap.workspaceId;
    const base = Date.now() - 10_000;
    const at = (offset: number) => new Date(base + offset);
    const events = (count: number, operation: string, createdAt: Date): NewEvent[] =>
      Array.from({ length: count }, () => {
        const recordId = randomUUID();
        return { id: randomUUID(), workspaceId, operation, recordId, record: { id: recordId, name: 'Acme' }, previousRecord: null, updatedFields: null, createdAt };
      });
    // Written before the webhook exists, so no fan-out makes deliveries of them: only the replays do.
    await db().transaction().execute((trx) =>
      appendEvents(trx, [...events(7, 'company.created', at(1)), ...events(4, 'company.updated', at(2)), ...events(5, 'company.created', at(3))]),
    );
    const webhook = await app.server.services.webhooks.create(workspaceId, { targetUrl: 'http://127.0.0.1:9/never', operations: ['company.created'] });
    await app.graphql(SET_STATUS, { id: webhook.id, status: 'DISABLED' });
    await app.graphql(SET_STATUS, { id: webhook.id, status: 'ACTIVE' });
    const log = createDeliveryLogService(db(), systemClock, createTestWebhookSender(loadConfig({}), systemClock), { maxQueued: 3, maxScanned: 100, batch: 2 });

    // Past 3 queued it finishes the 7 events of the first instant, and stops where the next instant starts.
    const first = await log.replay(workspaceId, webhook.id, at(0), at(10));
    expect(first).toMatchObject({ queued: 7, until: at(2) });
    const second = await log.replay(workspaceId, webhook.id, first.until, at(10));
    expect(second).toMatchObject({ queued: 5, until: at(10) });
    const rows = await db().selectFrom('deliveries').select('event_id').where('webhook_id', '=', webhook.id).execute();
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(12);
    // Scanning bound: past 5 events read (matching or not), it also stops where the next instant starts.
    const scanning = createDeliveryLogService(db(), systemClock, createTestWebhookSender(loadConfig({}), systemClock), { maxQueued: 100, maxScanned: 5, batch: 2 });
    expect((await scanning.replay(workspaceId, webhook.id, at(0), at(10))).until).toEqual(at(2));
    expect((await scanning.replay(workspaceId, webhook.id, at(1), at(10))).until).toEqual(at(2));
    expect((await scanning.replay(workspaceId, webhook.id, at(2), at(10))).until).toEqual(at(10));
    await Promise.all([log.close(), scanning.close()]);
  });

  it('sends a test event over REST (POST /rest/webhooks/:id/test), refusing bad input and other workspaces', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const created = await app.graphql(CREATE, { input: { targetUrl: `${receiver.url}/test`, operations: ['company.*'] } });
    const id = created.data.createWebhook.id;
    const sent = await app.rest('POST', `/rest/webhooks/${id}/test`, { operation: 'company.updated' });
    expect(sent.status).toBe(200);
    expect(sent.body.data.sendTestWebhook).toMatchObject({ statusCode: 200, operation: 'company.updated', error: null });
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0].body)).toMatchObject({ webhookId: id, operation: 'company.updated' });
    // No body: an operation from the webhook's own.
    const fallback = await app.rest('POST', `/rest/webhooks/${id}/test`);
    expect(fallback.body.data.sendTestWebhook.operation).toMatch(/^company\./);

    for (const body of [{ operation: 'person.exploded' }, { operation: 5 }, ['company.created']]) {
      const refused = await app.rest('POST', `/rest/webhooks/${id}/test`, body);
      expect(refused.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
    }
    const other = await app.createWorkspace(`test-send-${randomUUID()}`);
    expect((await app.rest('POST', `/rest/webhooks/${id}/test`, {}, other.apiKey)).status).toBe(404);
    expect(receiver.requests).toHaveLength(2);
  });
});
