import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, type NewEvent } from '../../src/storage/events.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

const WEBHOOK_FIELDS = 'id targetUrl operations filter fields status';
const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { ${WEBHOOK_FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateWebhookInput!) { updateWebhook(input: $input) { ${WEBHOOK_FIELDS} } }`;

describe.each(DATABASE_KINDS)('webhook filter and fields on %s', (kind) => {
  let app: TestApp;
  const receivers: Receiver[] = [];
  beforeAll(async () => {
    app = await startTestApp(kind, { env: { SWITCHBOARD_RETRY_SCHEDULE: '50ms,50ms', SWITCHBOARD_DELIVERY_TIMEOUT: '2s' } });
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  afterAll(async () => {
    await app?.close();
  });

  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };
  const bodies = (target: Receiver) => target.requests.map((request) => JSON.parse(request.body));

  it('stores filter and fields through GraphQL (flat and nested update) and REST, and clears them with null', async () => {
    const filter = { and: [{ amount: { gt: 10_000 } }, { stage: { in: ['WON', 'NEW'] } }] };
    const created = await app.graphql(CREATE, { input: { targetUrl: 'https://example.com/a', operations: ['opportunity.*'], filter, fields: ['amount'] } });
    expect(created.errors).toBeUndefined();
    expect(created.data.createWebhook).toMatchObject({ filter, fields: ['amount'] });
    const id = created.data.createWebhook.id;

    // A literal in the document, with Twenty's bare enum-like value.
    const literal = await app.graphql(
      `mutation { updateWebhook(input: { id: "${id}", filter: { name: { is: NULL } } }) { ${WEBHOOK_FIELDS} } }`,
    );
    expect(literal.data.updateWebhook.filter).toEqual({ name: { is: 'NULL' } });

    const nested = await app.graphql(UPDATE, { input: { id, update: { fields: ['stage', 'amount', 'stage'] } } });
    expect(nested.data.updateWebhook).toMatchObject({ fields: ['stage', 'amount'], filter: { name: { is: 'NULL' } } });

    const cleared = await app.graphql(UPDATE, { input: { id, filter: null, update: { fields: null } } });
    expect(cleared.data.updateWebhook).toMatchObject({ filter: null, fields: null });

    const rest = await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/r', operations: ['person.updated'], fields: ['email'], filter: { city: { ilike: 'par%' } } });
    expect(rest.status).toBe(201);
    expect(rest.body.data.createWebhook).toMatchObject({ fields: ['email'], filter: { city: { ilike: 'par%' } } });
    const patched = await app.rest('PATCH', `/rest/webhooks/${rest.body.data.createWebhook.id}`, { update: { filter: { email: { like: '%@x.org' } } } });
    expect(patched.status).toBe(200);
    expect(patched.body.data.updateWebhook.filter).toEqual({ email: { like: '%@x.org' } });
    expect((await app.rest('GET', `/rest/webhooks/${rest.body.data.createWebhook.id}`)).body.data.webhook.fields).toEqual(['email']);
  });

  it('refuses a bad filter or fields list naming the bad part, and changes nothing', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ operations: ['opportunity.*'], filter: { and: [{}, { amount: { gt: 'big' } }] } }, 'filter.and[1].amount.gt', /finite number/],
      [{ operations: ['person.*'], filter: { amount: { gt: 1 } } }, 'filter.amount', /unknown field "amount"/],
      [{ operations: ['person.*'], filter: { email: { gt: 1 } } }, 'filter.email.gt', /finite number|must be a string/],
      [{ operations: ['company.*'], filter: { employees: { like: '1%' } } }, 'filter.employees.like', /not an operator for a NUMBER field/],
      [{ operations: ['person.*'], filter: [1] }, 'filter', /filter object/],
      [{ operations: ['person.*'], fields: ['amount'] }, 'fields[0]', /not a field of person/],
      [{ operations: ['person.*'], fields: [] }, 'fields', /at least one field/],
    ];
    const before = (await app.rest('GET', '/rest/webhooks')).body.totalCount;
    for (const [input, field, message] of cases) {
      const result = await app.graphql(CREATE, { input: { targetUrl: 'https://example.com/bad', ...input } });
      expect(result.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0]?.message).toMatch(message);
      const rest = await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/bad', ...input });
      expect(rest.status).toBe(422);
      expect(rest.body.error.field).toBe(field);
    }
    expect((await app.rest('GET', '/rest/webhooks')).body.totalCount).toBe(before);

    // Narrowing the operations re-checks the stored filter against the objects left.
    const created = await app.graphql(CREATE, { input: { targetUrl: 'https://example.com/narrow', operations: ['*.*'], filter: { amount: { gt: 1 } } } });
    const id = created.data.createWebhook.id;
    const narrowed = await app.graphql(UPDATE, { input: { id, update: { operations: ['person.*'] } } });
    expect(narrowed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.amount' });
    const nestedBad = await app.graphql(UPDATE, { input: { id, update: { filter: { or: [{ amount: { in: ['x'] } }] } } } });
    expect(nestedBad.errors?.[0]?.extensions).toMatchObject({ field: 'update.filter.or[0].amount.in[0]' });
    const rest = await app.rest('PATCH', `/rest/webhooks/${id}`, { fields: 'email' });
    expect(rest).toMatchObject({ status: 422, body: { error: { code: 'BAD_USER_INPUT', field: 'fields' } } });
    const unchanged = await app.rest('GET', `/rest/webhooks/${id}`);
    expect(unchanged.body.data.webhook).toMatchObject({ operations: ['*.*'], filter: { amount: { gt: 1 } }, fields: null });
  });

  it("does not let another workspace read or change a webhook's filter", async () => {
    const other = await app.createWorkspace(`screens-${randomUUID()}`);
    const created = await app.graphql(CREATE, { input: { targetUrl: 'https://example.com/t', operations: ['person.*'], filter: { city: { eq: 'Paris' } } } });
    const id = created.data.createWebhook.id;
    const update = await app.graphql(UPDATE, { input: { id, filter: null } }, other.apiKey);
    expect(update.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await app.rest('PATCH', `/rest/webhooks/${id}`, { fields: ['email'] }, other.apiKey)).status).toBe(404);
    const seen = await app.graphql(`query ($id: UUID!) { webhook(id: $id) { filter } }`, { id }, other.apiKey);
    expect(seen.data.webhook).toBeNull();
    expect((await app.rest('GET', `/rest/webhooks/${id}`)).body.data.webhook).toMatchObject({ filter: { city: { eq: 'Paris' } }, fields: null });
  });

  it('delivers exactly the email changes to a fields webhook and exactly the matching records to a filter webhook', async () => {
    const emails = await receiver();
    const big = await receiver();
    const everything = await receiver();
    const ids: string[] = [];
    for (const input of [
      { targetUrl: `${emails.url}/emails`, operations: ['person.updated'], fields: ['email'] },
      { targetUrl: `${big.url}/big`, operations: ['opportunity.*'], filter: { amount: { gt: 10_000 } } },
      { targetUrl: `${everything.url}/all`, operations: ['person.updated', 'opportunity.*'] },
    ]) {
      const created = await app.graphql(CREATE, { input });
      expect(created.errors).toBeUndefined();
      ids.push(created.data.createWebhook.id);
    }

    const person = await app.graphql('mutation { createPerson(data: { firstName: "Ada", email: "ada@a.org" }) { id } }');
    const personId = person.data.createPerson.id;
    const changes = [{ jobTitle: 'Engineer' }, { email: 'ada@b.org' }, { city: 'London', email: 'ada@c.org' }, { city: 'Paris' }];
    for (const data of changes) {
      const updated = await app.graphql('mutation ($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }', { id: personId, data });
      expect(updated.errors).toBeUndefined();
    }
    const amounts = [5_000, 10_000, 10_001, 250_000, null];
    const opportunities: string[] = [];
    for (const amount of amounts) {
      const created = await app.graphql('mutation ($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }', { data: { name: `deal ${amount}`, amount } });
      expect(created.errors).toBeUndefined();
      opportunities.push(created.data.createOpportunity.id);
    }
    // Lowering a big deal's amount: the filter is tested on the state after the update, so this one is not sent.
    await app.graphql('mutation ($id: UUID!) { updateOpportunity(id: $id, data: { amount: 1 }) { id } }', { id: opportunities[3] });
    // A deleted big deal is sent: its last state matches.
    await app.graphql('mutation ($id: UUID!) { deleteOpportunity(id: $id) { id } }', { id: opportunities[2] });

    // Every event has reached the unscreened webhook: 4 updates + 5 creates + 1 update + 1 delete.
    await everything.waitForCount(11);
    await emails.waitForCount(2);
    await big.waitForCount(3);
    expect(bodies(emails).map((body) => body.record.email)).toEqual(['ada@b.org', 'ada@c.org']);
    expect(bodies(emails).every((body) => body.updatedFields.includes('email'))).toBe(true);
    expect(bodies(big).map((body) => `${body.operation} ${body.record.amount}`).sort()).toEqual([
      'opportunity.created 10001',
      'opportunity.created 250000',
      'opportunity.deleted 10001',
    ]);

    const stats = async (id: string) => (await app.graphql('query ($id: UUID!) { webhookStats(id: $id) { filtered sent } }', { id })).data.webhookStats;
    expect(await eventually(() => stats(ids[0]), (value) => value.filtered === 2)).toMatchObject({ filtered: 2, sent: 2 });
    expect(await eventually(() => stats(ids[1]), (value) => value.filtered === 4)).toMatchObject({ filtered: 4, sent: 3 });
    expect(await stats(ids[2])).toMatchObject({ filtered: 0, sent: 11 });
    // Every fan-out is tallied, so every delivery exists: once none is pending, nothing more can arrive.
    const settled = await eventually(
      () => app.server.database.db.selectFrom('deliveries').select(['webhook_id', 'status']).where('webhook_id', 'in', ids.slice(0, 2)).execute(),
      (rows) => rows.every((row) => row.status === 'SUCCEEDED'),
    );
    expect(settled.filter((row) => row.webhook_id === ids[0])).toHaveLength(2);
    expect(settled.filter((row) => row.webhook_id === ids[1])).toHaveLength(3);
    expect(emails.requests).toHaveLength(2);
    expect(big.requests).toHaveLength(3);
  });
});

describe.each(DATABASE_KINDS)('screening cost on %s', (kind) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('delivers only what passes 100 filtered webhooks, printing the write and fan-out times', async () => {
    const db = app.server.database.db;
    const plain = await app.createWorkspace(`plain-${randomUUID()}`);
    const screened = await app.createWorkspace(`screened-${randomUUID()}`);
    for (let index = 0; index < 100; index += 1) {
      await app.server.services.webhooks.create(plain.workspaceId, { targetUrl: `https://example.com/p${index}`, operations: ['person.*'] });
      await app.server.services.webhooks.create(screened.workspaceId, {
        targetUrl: `https://example.com/s${index}`,
        operations: ['person.*'],
        // Half pass, half screen the event out; each filter differs, so none is parsed from another's cache.
        filter: { or: [{ city: { eq: index % 2 === 0 ? 'Paris' : 'Rome' } }, { firstName: { ilike: `%zz${index}%` } }] },
      });
    }
    const write = async (workspaceId: string) => {
      const recordId = randomUUID();
      const event: NewEvent = {
        id: randomUUID(), workspaceId, operation: 'person.created', recordId,
        record: { id: recordId, firstName: 'Ada', city: 'Paris' }, previousRecord: null, updatedFields: null, createdAt: new Date(),
      };
      const started = performance.now();
      await db.transaction().execute((trx) => appendEvents(trx, [event]));
      return performance.now() - started;
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const plainTimes: number[] = [];
    const screenedTimes: number[] = [];
    // Alternating, so a busy moment of the machine weighs on both alike.
    for (let round = 0; round < 60; round += 1) {
      plainTimes.push(await write(plain.workspaceId));
      screenedTimes.push(await write(screened.workspaceId));
    }
    expect(await dispatchAllFanouts(db)).toBe(60 * 100 + 60 * 50);
    const tally = await db.selectFrom('webhook_filtered_counts').select((eb) => eb.fn.sum<string>('filtered').as('total')).executeTakeFirstOrThrow();
    expect(Number(tally.total)).toBe(60 * 50);
    // One more round trip and 100 filters in memory: well under twice a plain write, plus a little.

    // The fan-out: 50 screened rounds (2,500 deliveries, 2,500 tallied) cost less than 50 plain ones (5,000 deliveries).
    const timedDispatch = async (workspaceId: string) => {
      for (let round = 0; round < 50; round += 1) await write(workspaceId);
      const started = performance.now();
      await dispatchAllFanouts(db);
      return performance.now() - started;
    };
    const plainDispatchMs = await timedDispatch(plain.workspaceId);
    const screenedDispatchMs = await timedDispatch(screened.workspaceId);
    console.log(`write median: plain ${median(plainTimes).toFixed(2)} ms, 100 filtered ${median(screenedTimes).toFixed(2)} ms; fan-out of 50 writes: plain ${plainDispatchMs.toFixed(0)} ms, filtered ${screenedDispatchMs.toFixed(0)} ms`);
  });
});
