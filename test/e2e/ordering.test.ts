import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSwitchboard } from '../../src/server.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventually, startReceiver, type ReceivedRequest } from '../helpers/receiver.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

const CREATE = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id ordering } }';

/** An API process and two worker loops on one database, with a short retry schedule. */
async function startCluster(kind: (typeof DATABASE_KINDS)[number], retrySchedule: string): Promise<TestApp> {
  const env = { SWITCHBOARD_RETRY_SCHEDULE: retrySchedule, SWITCHBOARD_DELIVERY_TIMEOUT: '2s', SWITCHBOARD_LEASE: '5s' };
  const api = await startTestApp(kind, { role: 'api', env });
  cleanups.push(() => api.close());
  for (let index = 0; index < 2; index += 1) {
    const worker = await startSwitchboard({
      config: loadConfig({ SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true', DATA_DIR: api.dataDir, ...env }),
      role: 'worker',
      database: api.server.database,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => worker.stop());
  }
  return api;
}

/** A generator of numbers in [0, 1) from a seed, so a failing run can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const parse = (request: ReceivedRequest) => JSON.parse(request.body) as { id: string; operation: string; record: { id: string; jobTitle: string | null } };

describe.each(DATABASE_KINDS)('PER_RECORD ordering on %s', (kind) => {
  it('sends each record\'s deliveries in commit order across two workers and a receiver that fails at random', async () => {
    const api = await startCluster(kind, '20ms,20ms,20ms,20ms,20ms');
    const random = seededRandom(16);
    const failures = new Map<string, number>();
    const answers: Array<{ eventId: string; ok: boolean; recordId: string; version: string | null }> = [];
    const receiver = await startReceiver((request, response) => {
      const body = parse(request);
      // At most two failures per event, so each one succeeds within its six attempts.
      const failed = failures.get(body.id) ?? 0;
      const ok = failed >= 2 || random() < 0.6;
      if (!ok) failures.set(body.id, failed + 1);
      answers.push({ eventId: body.id, ok, recordId: body.record.id, version: body.record.jobTitle });
      // A random delay, so concurrent sends would overtake each other if they were allowed.
      setTimeout(() => {
        response.statusCode = ok ? 200 : 500;
        response.end();
      }, Math.floor(random() * 15));
    });
    cleanups.push(() => receiver.close());
    const ordered = await api.graphql(CREATE, { input: { targetUrl: `${receiver.url}/ordered`, operations: ['person.*'], ordering: 'PER_RECORD' } });
    expect(ordered.data.createWebhook.ordering).toBe('PER_RECORD');

    const records: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const created = await api.graphql('mutation { createPerson(data: { firstName: "Ada", jobTitle: "v0" }) { id } }');
      records.push(created.data.createPerson.id);
    }
    const versions = 6;
    for (let version = 1; version < versions; version += 1) {
      for (const id of records) {
        const updated = await api.graphql('mutation ($id: UUID!, $title: String!) { updatePerson(id: $id, data: { jobTitle: $title }) { id } }', { id, title: `v${version}` });
        expect(updated.errors).toBeUndefined();
      }
    }
    const total = records.length * versions;
    await eventually(
      () => api.server.database.db.selectFrom('deliveries').select('status').where('webhook_id', '=', ordered.data.createWebhook.id).execute(),
      (rows) => rows.length === total && rows.every((row) => row.status !== 'PENDING'),
      60_000,
    );
    // Per record, a request repeats the current version (a retry, or a resend at-least-once allows) or, once that
    // was accepted, carries the next one: never an older one, never one ahead of an unaccepted one.
    for (const id of records) {
      const seen = answers.filter((answer) => answer.recordId === id);
      const trace = seen.map((a) => `${a.version}${a.ok ? '' : '!'}`).join(' ');
      let current = -1;
      let accepted = true;
      for (const answer of seen) {
        const version = Number(answer.version?.slice(1));
        if (version !== current) {
          expect(accepted && version === current + 1, `record ${id}: ${trace}`).toBe(true);
          current = version;
          accepted = false;
        }
        if (answer.ok) accepted = true;
      }
      expect([current, accepted], `record ${id}: ${trace}`).toEqual([versions - 1, true]);
    }
    expect(answers.some((answer) => !answer.ok)).toBe(true);
  });

  it('holds back only the failing record, and lets the next delivery go when the held one finally fails', async () => {
    const api = await startCluster(kind, '1s,1s,1s,1s,1s');
    const receiver = await startReceiver((request, response) => {
      const body = parse(request) as ReturnType<typeof parse> & { record: { firstName: string } };
      response.statusCode = body.record.firstName === 'Stuck' && body.operation === 'person.created' ? 503 : 200;
      response.end();
    });
    cleanups.push(() => receiver.close());
    const created = await api.graphql(CREATE, { input: { targetUrl: `${receiver.url}/held`, operations: ['person.*'], ordering: 'PER_RECORD' } });
    const webhookId = created.data.createWebhook.id;

    // The first record's creation is refused on all six attempts; the second record's deliveries flow meanwhile.
    const [stuck, flowing] = await Promise.all(['Stuck', 'Flowing'].map(async (firstName) => {
      const answer = await api.graphql('mutation ($firstName: String!) { createPerson(data: { firstName: $firstName }) { id } }', { firstName });
      return answer.data.createPerson.id as string;
    }));
    for (const id of [stuck, flowing, stuck, flowing]) {
      await api.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { city: "Paris" }) { id } }', { id });
      await api.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { city: "Rome" }) { id } }', { id });
    }
    const bodies = () => receiver.requests.map(parse);
    // All five of the flowing record arrive while the stuck one is still being retried.
    await eventually(async () => bodies().filter((body) => body.record.id === flowing).length, (count) => count === 5);
    const stuckCreation = await api.server.database.db
      .selectFrom('deliveries').innerJoin('events', 'events.id', 'deliveries.event_id')
      .select(['deliveries.id', 'deliveries.status', 'deliveries.attempt_count'])
      .where('deliveries.webhook_id', '=', webhookId).where('events.record_id', '=', stuck).where('events.operation', '=', 'person.created')
      .executeTakeFirstOrThrow();
    expect(stuckCreation.status).toBe('PENDING');
    // The delivery log shows the stuck record's updates held behind its creation, and nothing else held.
    const log = await api.graphql(
      'query ($id: UUID!) { webhookDeliveries(webhookId: $id, first: 100) { edges { node { id operation status heldBehind } } } }',
      { id: webhookId },
    );
    const held = log.data.webhookDeliveries.edges.map((edge: { node: { heldBehind: string | null } }) => edge.node).filter((node: { heldBehind: string | null }) => node.heldBehind);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((node: { heldBehind: string; status: string; operation: string }) => node.heldBehind === stuckCreation.id && node.status === 'PENDING' && node.operation === 'person.updated')).toBe(true);
    expect(bodies().filter((body) => body.record.id === stuck).every((body) => body.operation === 'person.created')).toBe(true);

    // Once the first finally fails, the stuck record's four updates go, in order.
    const rows = await eventually(
      () => api.server.database.db.selectFrom('deliveries').select(['status', 'operation', 'ordering_seq']).where('webhook_id', '=', webhookId).execute(),
      (list) => list.length === 10 && list.every((row) => row.status !== 'PENDING'),
      30_000,
    );
    expect(rows.filter((row) => row.status === 'FAILED')).toHaveLength(1);
    const stuckBodies = bodies().filter((body) => body.record.id === stuck);
    expect(stuckBodies.map((body) => body.operation)).toEqual([...Array(6).fill('person.created'), ...Array(4).fill('person.updated')]);
  });

  it('refuses a bad ordering naming the field, defaults to NONE, and keeps other workspaces out', async () => {
    const api = await startTestApp(kind, { role: 'api' });
    cleanups.push(() => api.close());
    const created = await api.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/o' });
    expect(created.body.data.createWebhook.ordering).toBe('NONE');
    const id = created.body.data.createWebhook.id;
    const bad = await api.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/o', ordering: 'SOMETIMES' });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ field: 'ordering' });
    expect((await api.rest('PATCH', `/rest/webhooks/${id}`, { update: { ordering: 'per_record' } })).body.error).toMatchObject({ field: 'update.ordering' });
    expect((await api.rest('PATCH', `/rest/webhooks/${id}`, { ordering: 5 })).status).toBe(422);
    const graphqlBad = await api.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, ordering: SOMETIMES }) { id } }', { id });
    expect(graphqlBad.errors?.length).toBeGreaterThan(0);
    const other = await api.createWorkspace(`ordering-${Date.now()}`);
    const foreign = await api.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, ordering: PER_RECORD }) { id } }', { id }, other.apiKey);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const nested = await api.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, update: { ordering: PER_RECORD } }) { ordering } }', { id });
    expect(nested.data.updateWebhook.ordering).toBe('PER_RECORD');
    expect((await api.rest('GET', `/rest/webhooks/${id}`)).body.data.webhook.ordering).toBe('PER_RECORD');
  });
});
