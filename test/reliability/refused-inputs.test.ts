import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';

const base64url = (text: string) => Buffer.from(text).toString('base64url');

/** Cursors a client may craft: each decodes to something that is not a position of a list. */
const CRAFTED_CURSORS = [
  base64url('2024-03-04T11:00:00.000Z|not-a-uuid'),
  base64url(`2024-03-04T11:00:00.000Z|${randomUUID()}'--`),
  base64url(JSON.stringify(['2024-03-04T11:00:00.000Z', 'not-a-uuid'])),
  base64url(JSON.stringify(['0000-01-01T00:00:00.000Z', randomUUID()])),
  base64url(JSON.stringify(['+275760-09-13T00:00:00.000Z', randomUUID()])),
  base64url(JSON.stringify(['2024-03-04', randomUUID(), 'extra'])),
  base64url(JSON.stringify({ createdAt: '2024-03-04', id: randomUUID() })),
  base64url(`["2024-03-04T11:00:00Z","${randomUUID()}\u0000"]`),
  '%%%',
  'A'.repeat(5_000),
];

/** Instants that parse in JavaScript but that PostgreSQL cannot hold or read back. */
const OUT_OF_RANGE_DATES = ['0000-01-01', '0001-01-01T00:00:00+01:00', '-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', '10000-01-01'];

describe.each(DATABASE_KINDS)('inputs that once answered 500, on %s: 4xx naming the field, nothing written', (kind) => {
  let app: TestApp;
  let webhookId: string;
  let personId: string;
  let opportunityId: string;
  /** Deliveries of the seed webhook (the sample events' and the seed records'), all FAILED. */
  let deliveries: number;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    webhookId = (await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://hooks.example.com/seed', description: 'seed' })).body.data.createWebhook.id;
    personId = (await app.rest('POST', '/rest/people', { firstName: 'Seed' })).body.data.createPerson.id;
    opportunityId = (await app.rest('POST', '/rest/opportunities', { name: 'Seed', closeDate: '2024-03-04' })).body.data.createOpportunity.id;
    const workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    await insertSampleEvents(app.server.database.db, workspaceId, 3);
    // Failed deliveries, which a recover would queue again.
    const failed = await app.server.database.db.updateTable('deliveries').set({ status: 'FAILED', next_attempt_at: null }).executeTakeFirst();
    deliveries = Number(failed.numUpdatedRows);
    expect(deliveries).toBeGreaterThanOrEqual(3);
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Everything these requests could write. */
  async function snapshot() {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT (SELECT count(*) FROM webhooks) AS webhooks, (SELECT count(*) FROM api_keys) AS api_keys,
             (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM opportunities) AS opportunities,
             (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM deliveries WHERE status = 'FAILED') AS failed,
             (SELECT string_agg(coalesce(description, '') || secret || updated_at::text, ',') FROM webhooks) AS webhook_state,
             (SELECT string_agg(coalesce(close_date::text, '') || updated_at::text || coalesce(deleted_at::text, ''), ',') FROM opportunities) AS opportunity_state,
             (SELECT string_agg(coalesce(deleted_at::text, '') || updated_at::text, ',') FROM people) AS people_state
    `.execute(app.server.database.db);
    return rows[0];
  }

  /** A GraphQL call refused as bad input naming `field` (in extensions.field or, for variables, the message). */
  async function expectGraphQLRefusal(query: string, variables: Record<string, unknown>, field: string) {
    const before = await snapshot();
    const result = await app.graphql(query, variables);
    const context = JSON.stringify({ query, variables }).slice(0, 300);
    expect(result.status, context).toBeLessThan(500);
    expect(result.status, context).toBeGreaterThanOrEqual(200);
    expect(result.errors, context).toHaveLength(1);
    const [error] = result.errors!;
    expect(error.extensions?.code, context).toBe('BAD_USER_INPUT');
    if (error.extensions?.field) expect(error.extensions.field, context).toBe(field);
    else expect(error.message, context).toContain(field);
    expect(await snapshot(), context).toEqual(before);
  }

  /** A REST call answered 4xx whose error names `field`. */
  async function expectRestRefusal(method: string, path: string, body: unknown, field: string) {
    const before = await snapshot();
    const response = await app.rest(method, path, body);
    const context = `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)}`;
    expect(response.status, context).toBeGreaterThanOrEqual(400);
    expect(response.status, context).toBeLessThan(500);
    expect(response.body.error.field, context).toBe(field);
    expect(await snapshot(), context).toEqual(before);
  }

  it('refuses a NUL or a lone surrogate in any text a caller stores', async () => {
    for (const bad of ['a\u0000b', 'a\ud800b']) {
      await expectGraphQLRefusal(
        'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
        { input: { targetUrl: 'https://hooks.example.com/x', description: bad } },
        'description',
      );
      await expectGraphQLRefusal(
        'mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }',
        { input: { id: webhookId, description: bad } },
        'description',
      );
      await expectGraphQLRefusal(
        'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
        { input: { targetUrl: 'https://hooks.example.com/x', secret: `abcdefghijklmnop${bad}` } },
        'secret',
      );
      await expectGraphQLRefusal('mutation($name: String) { createApiKey(name: $name) { id } }', { name: bad }, 'name');
      await expectGraphQLRefusal('mutation($data: PersonCreateInput!) { createPerson(data: $data) { id } }', { data: { city: bad } }, 'data.city');
      await expectRestRefusal('POST', '/rest/webhooks', { targetUrl: 'https://hooks.example.com/x', description: bad }, 'description');
      await expectRestRefusal('PATCH', `/rest/webhooks/${webhookId}`, { description: bad }, 'description');
      await expectRestRefusal('PATCH', `/rest/people/${personId}`, { jobTitle: bad }, 'body.jobTitle');
    }
  });

  it('refuses dates outside what PostgreSQL holds, in records and in recoverWebhook', async () => {
    for (const date of OUT_OF_RANGE_DATES) {
      await expectGraphQLRefusal(
        'mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }',
        { data: { name: 'x', closeDate: date } },
        'closeDate',
      );
      await expectGraphQLRefusal(
        'mutation($id: UUID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id } }',
        { id: opportunityId, data: { closeDate: date } },
        'closeDate',
      );
      await expectGraphQLRefusal('mutation($id: UUID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) { queued } }', { id: webhookId, since: date }, 'since');
      await expectRestRefusal('POST', '/rest/opportunities', { name: 'x', closeDate: date }, 'body.closeDate');
      await expectRestRefusal('PATCH', `/rest/opportunities/${opportunityId}`, { closeDate: date }, 'body.closeDate');
      await expectRestRefusal('POST', `/rest/webhooks/${webhookId}/recover`, { since: date }, 'since');
    }
    // Written inline, the literal is refused as well.
    const inline = await app.graphql(`mutation { recoverWebhook(id: "${webhookId}", since: "-271821-04-20T00:00:00Z") { queued } }`);
    expect(inline.status).toBeLessThan(500);
    expect(inline.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(inline.errors?.[0].message).toContain('DateTime');
    // The edges of the range are accepted and read back as given.
    const edges = await app.rest('POST', '/rest/opportunities', { name: 'edge', closeDate: '0001-01-01T00:00:00Z' });
    expect(edges.body.data.createOpportunity.closeDate).toBe('0001-01-01T00:00:00.000Z');
    const latest = await app.rest('PATCH', `/rest/opportunities/${edges.body.data.createOpportunity.id}`, { closeDate: '9999-12-31T23:59:59.999Z' });
    expect(latest.body.data.updateOpportunity.closeDate).toBe('9999-12-31T23:59:59.999Z');
    const recovered = await app.rest('POST', `/rest/webhooks/${webhookId}/recover`, { since: '0001-01-01T00:00:00Z' });
    expect(recovered.body.data.recoverWebhook.queued).toBe(deliveries);
    await app.server.database.db.updateTable('deliveries').set({ status: 'FAILED', next_attempt_at: null }).execute();
  });

  it('refuses a repeated query parameter anywhere in REST, naming it', async () => {
    await expectRestRefusal('GET', `/rest/webhooks/${webhookId}/deliveries?status=FAILED&status=PENDING`, undefined, 'status');
    await expectRestRefusal('GET', `/rest/webhooks/${webhookId}/deliveries?limit=1&limit=2`, undefined, 'limit');
    await expectRestRefusal('GET', '/rest/people?cursor=a&cursor=b', undefined, 'cursor');
    await expectRestRefusal('GET', '/rest/opportunities?includeDeleted=true&includeDeleted=false', undefined, 'includeDeleted');
    await expectRestRefusal('DELETE', `/rest/people/${personId}?hard=true&hard=true`, undefined, 'hard');
    await expectRestRefusal('POST', `/rest/webhooks/${webhookId}/recover?x=1&x=2`, { since: '2024-01-01T00:00:00Z' }, 'x');
    // Given once, the same parameters work.
    const listed = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?status=FAILED&limit=2`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.webhookDeliveries).toHaveLength(2);
  });

  it('refuses crafted cursors in both lists, naming the argument', async () => {
    for (const cursor of CRAFTED_CURSORS) {
      await expectGraphQLRefusal(
        'query($id: UUID!, $after: String) { webhookDeliveries(webhookId: $id, after: $after) { totalCount } }',
        { id: webhookId, after: cursor },
        'after',
      );
      await expectGraphQLRefusal('query($after: String) { people(after: $after) { totalCount } }', { after: cursor }, 'after');
      await expectRestRefusal('GET', `/rest/webhooks/${webhookId}/deliveries?cursor=${encodeURIComponent(cursor)}`, undefined, 'cursor');
      await expectRestRefusal('GET', `/rest/people?cursor=${encodeURIComponent(cursor)}`, undefined, 'cursor');
    }
    // The cursors the lists hand out still page through them.
    const first = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?limit=2`);
    const next = await app.rest('GET', `/rest/webhooks/${webhookId}/deliveries?limit=2&cursor=${first.body.pageInfo.endCursor}`);
    expect(next.status).toBe(200);
    const ids = [...first.body.data.webhookDeliveries, ...next.body.data.webhookDeliveries].map((delivery: { id: string }) => delivery.id);
    expect(new Set(ids).size).toBe(Math.min(4, deliveries));
  });
});
