import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';

const PAGE = `query ($webhookId: UUID!, $operation: String, $recordId: UUID, $eventId: UUID, $createdAfter: DateTime, $createdBefore: DateTime) {
  webhookDeliveries(webhookId: $webhookId, operation: $operation, recordId: $recordId, eventId: $eventId, createdAfter: $createdAfter, createdBefore: $createdBefore) {
    totalCount edges { node { id eventId operation } } } }`;

// The API role only: no worker runs; deliveries stay as the fan-out made them.
describe.each(DATABASE_KINDS)('finding deliveries by operation, record, event and time on %s', (kind) => {
  let app: TestApp;
  let webhookId: string;
  let events: Array<{ id: string; recordId: string; operation: string }>;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: 'http://127.0.0.1:9/hook', operations: ['person.*'] },
    });
    webhookId = created.data.createWebhook.id;
    const workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    const created3 = await insertSampleEvents(app.server.database.db, workspaceId, 3);
    const updated2 = await insertSampleEvents(app.server.database.db, workspaceId, 2, 'person.updated');
    events = [...created3, ...updated2].map((event) => ({ id: event.id, recordId: event.recordId, operation: event.operation }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('narrows by each filter over GraphQL and REST alike', async () => {
    const byOperation = await app.graphql(PAGE, { webhookId, operation: 'person.updated' });
    expect(byOperation.errors).toBeUndefined();
    expect(byOperation.data.webhookDeliveries.totalCount).toBe(2);
    const target = events[1];
    const byRecord = await app.graphql(PAGE, { webhookId, recordId: target.recordId });
    expect(byRecord.data.webhookDeliveries.edges.map((edge: { node: { eventId: string } }) => edge.node.eventId)).toEqual([target.id]);
    const byEvent = await app.graphql(PAGE, { webhookId, eventId: target.id.toUpperCase() });
    expect(byEvent.data.webhookDeliveries.totalCount).toBe(1);
    const future = await app.graphql(PAGE, { webhookId, createdAfter: new Date(Date.now() + 60_000).toISOString() });
    expect(future.data.webhookDeliveries.totalCount).toBe(0);
    const past = await app.graphql(PAGE, { webhookId, createdBefore: new Date(Date.now() + 60_000).toISOString(), createdAfter: '2000-01-01T00:00:00Z' });
    expect(past.data.webhookDeliveries.totalCount).toBe(5);

    const rest = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?operation=person.updated&recordId=${events[3].recordId}`);
    expect(rest.status).toBe(200);
    expect(rest.body.totalCount).toBe(1);
    expect(rest.body.data.webhookDeliveries[0].eventId).toBe(events[3].id);
  });

  it('refuses bad filters with an error naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ operation: 'person' }, 'operation'],
      [{ operation: 'x'.repeat(300) + '.created' }, 'operation'],
      [{ createdAfter: '2024-02-01T00:00:00Z', createdBefore: '2024-01-01T00:00:00Z' }, 'createdBefore'],
    ];
    for (const [filter, field] of cases) {
      const result = await app.graphql(PAGE, { webhookId, ...filter });
      expect(result.errors?.[0].extensions?.field).toBe(field);
    }
    const restCases: Array<[string, string]> = [
      ['recordId=not-a-uuid', 'recordId'],
      ['eventId=123', 'eventId'],
      ['createdAfter=yesterday', 'createdAfter'],
      ['createdBefore=2024-13-45', 'createdBefore'],
      ['operation=a&operation=b', 'operation'],
      ['operation=DROP%20TABLE', 'operation'],
    ];
    for (const [query, field] of restCases) {
      const response = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?${query}`);
      expect(response.status, query).toBe(422);
      expect(response.body.error.field, query).toBe(field);
    }
  });

  it("finds nothing of another workspace's", async () => {
    const other = await app.createWorkspace('filters-other');
    const result = await app.graphql(PAGE, { webhookId, recordId: events[0].recordId }, other.apiKey);
    expect(result.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});
