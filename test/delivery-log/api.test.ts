import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';

const DELIVERY_FIELDS = `id webhookId eventId operation status attemptCount nextAttemptAt createdAt payload
  attempts { number startedAt durationMs statusCode responseBody error requestHeaders { name value } }`;

// The API role only: no worker runs, so the test decides every delivery's state.
describe.each(DATABASE_KINDS)('delivery log over GraphQL and REST on %s', (kind) => {
  let app: TestApp;
  let webhookId: string;
  let workspaceId: string;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    const created = await app.graphql(
      'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
      { input: { targetUrl: 'http://127.0.0.1:9/hook', operations: ['person.*'] } },
    );
    webhookId = created.data.createWebhook.id;
    workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    await insertSampleEvents(app.server.database.db, workspaceId, 3);
    const [first] = await app.server.database.db.selectFrom('deliveries').select('id').where('webhook_id', '=', webhookId).orderBy('created_at').execute();
    await app.server.database.db
      .insertInto('delivery_attempts')
      .values({
        id: randomUUID(),
        delivery_id: first.id,
        workspace_id: workspaceId,
        webhook_id: webhookId,
        number: 1,
        started_at: new Date(),
        duration_ms: 42,
        status_code: 500,
        response_body: 'boom',
        error: null,
        request_headers: JSON.stringify({ 'webhook-id': 'x', 'content-type': 'application/json' }),
      })
      .execute();
    await app.server.database.db
      .updateTable('deliveries')
      .set({ status: 'FAILED', attempt_count: 1, next_attempt_at: null })
      .where('id', '=', first.id)
      .execute();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('pages through webhookDeliveries with attempts, headers and the exact payload', async () => {
    const page = await app.graphql(
      `query ($id: UUID!) { webhookDeliveries(webhookId: $id, first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${DELIVERY_FIELDS} } } } }`,
      { id: webhookId },
    );
    expect(page.errors).toBeUndefined();
    const connection = page.data.webhookDeliveries;
    expect(connection.totalCount).toBe(3);
    expect(connection.edges).toHaveLength(2);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    const next = await app.graphql(
      `query ($id: UUID!, $after: String) { webhookDeliveries(webhookId: $id, first: 2, after: $after) { edges { node { ${DELIVERY_FIELDS} } } pageInfo { hasNextPage } } }`,
      { id: webhookId, after: connection.pageInfo.endCursor },
    );
    expect(next.data.webhookDeliveries.pageInfo.hasNextPage).toBe(false);
    const all = [...connection.edges, ...next.data.webhookDeliveries.edges].map((edge: { node: any }) => edge.node);
    expect(new Set(all.map((node: { id: string }) => node.id)).size).toBe(3);
    const oldest = all.find((node: { status: string }) => node.status === 'FAILED');
    expect(oldest.attempts).toEqual([
      expect.objectContaining({ number: 1, durationMs: 42, statusCode: 500, responseBody: 'boom', error: null }),
    ]);
    expect(oldest.attempts[0].requestHeaders).toContainEqual({ name: 'content-type', value: 'application/json' });
    const payload = JSON.parse(oldest.payload);
    expect(Object.keys(payload)).toEqual(['id', 'workspaceId', 'webhookId', 'operation', 'timestamp', 'record', 'previousRecord', 'updatedFields']);
    expect(payload).toMatchObject({ id: oldest.eventId, workspaceId, webhookId, operation: 'person.created' });

    const failedOnly = await app.graphql(
      'query ($id: UUID!) { webhookDeliveries(webhookId: $id, status: FAILED) { totalCount } }',
      { id: webhookId },
    );
    expect(failedOnly.data.webhookDeliveries.totalCount).toBe(1);
  });

  it('redelivers, recovers and reports figures; the webhook shows its last delivery', async () => {
    const failed = await app.graphql(
      'query ($id: UUID!) { webhookDeliveries(webhookId: $id, status: FAILED) { edges { node { id } } } }',
      { id: webhookId },
    );
    const deliveryId = failed.data.webhookDeliveries.edges[0].node.id;
    const redelivered = await app.graphql('mutation ($id: UUID!) { redeliver(deliveryId: $id) { id status nextAttemptAt } }', { id: deliveryId });
    expect(redelivered.data.redeliver).toMatchObject({ id: deliveryId, status: 'PENDING' });

    await app.server.database.db.updateTable('deliveries').set({ status: 'FAILED' }).where('id', '=', deliveryId).execute();
    const recovered = await app.graphql(
      'mutation ($id: UUID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) { webhookId queued } }',
      { id: webhookId, since: new Date(Date.now() - 3_600_000).toISOString() },
    );
    expect(recovered.data.recoverWebhook).toEqual({ webhookId, queued: 1 });

    const figures = await app.graphql(
      'query ($id: UUID!) { webhookStats(id: $id) { sent succeeded failed p50LatencyMs lastFailureAt } webhook(id: $id) { stats { sent } lastDelivery { id } } }',
      { id: webhookId },
    );
    expect(figures.data.webhookStats).toMatchObject({ sent: 1, succeeded: 0, failed: 1, p50LatencyMs: 42 });
    expect(figures.data.webhook.stats.sent).toBe(1);
    expect(figures.data.webhook.lastDelivery.id).toBeTruthy();
  });

  it('answers the same over REST, with 404 and 422 where due', async () => {
    const list = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?limit=10`);
    expect(list.status).toBe(200);
    expect(list.body.totalCount).toBe(3);
    const one = list.body.data.webhookDeliveries[0];
    const get = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries/${one.id}`);
    expect(get.body.data.webhookDelivery.id).toBe(one.id);
    const redeliver = await app.rest('POST', `/rest/webhooks/${webhookId}/deliveries/${one.id}/redeliver`);
    expect(redeliver.body.data.redeliver.status).toBe('PENDING');
    const recover = await app.rest('POST', `/rest/webhooks/${webhookId}/recover`, { since: 'yesterday' });
    expect(recover.status).toBe(422);
    expect(recover.body.error.field).toBe('since');
    const badLimit = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?limit=1000`);
    expect(badLimit.status).toBe(422);
    const unknown = await app.rest('GET', `/rest/webhooks/${randomUUID()}/deliveries`);
    expect(unknown.status).toBe(404);
  });

  it('never shows another workspace the deliveries', async () => {
    const other = await app.createWorkspace(`deliveries-other-${kind}`);
    const list = await app.graphql(
      'query ($id: UUID!) { webhookDeliveries(webhookId: $id) { totalCount } }',
      { id: webhookId },
      other.apiKey,
    );
    expect(list.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const anyDelivery = await app.server.database.db.selectFrom('deliveries').select('id').where('webhook_id', '=', webhookId).executeTakeFirstOrThrow();
    const single = await app.graphql('query ($id: UUID!) { webhookDelivery(id: $id) { id } }', { id: anyDelivery.id }, other.apiKey);
    expect(single.data.webhookDelivery).toBeNull();
    const redeliver = await app.graphql('mutation ($id: UUID!) { redeliver(deliveryId: $id) { id } }', { id: anyDelivery.id }, other.apiKey);
    expect(redeliver.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const rest = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries`, undefined, other.apiKey);
    expect(rest.status).toBe(404);
  });
});
