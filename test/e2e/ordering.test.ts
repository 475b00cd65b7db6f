import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSwitchboard } from '../../src/server.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { runCli } from '../helpers/processes.ts';
import { eventually, startReceiver, type ReceivedRequest, type ReceiverHandler } from '../helpers/receiver.ts';

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

interface Answer {
  path: string;
  eventId: string;
  ok: boolean;
  recordId: string;
  version: string | null;
}

/** A receiver that fails at random (at most twice per event and path, so each succeeds within six attempts), answering after a random delay. */
function randomlyFailing(seed: number, answers: Answer[]): ReceiverHandler {
  const random = seededRandom(seed);
  const failures = new Map<string, number>();
  return (request, response) => {
    const body = parse(request);
    const key = `${request.path} ${body.id}`;
    const failed = failures.get(key) ?? 0;
    const ok = failed >= 2 || random() < 0.6;
    if (!ok) failures.set(key, failed + 1);
    answers.push({ path: request.path, eventId: body.id, ok, recordId: body.record.id, version: body.record.jobTitle });
    // A random delay, so concurrent sends would overtake each other if they were allowed.
    setTimeout(() => {
      response.statusCode = ok ? 200 : 500;
      response.end();
    }, Math.floor(random() * 15));
  };
}

/**
 * Per record, a request repeats the current version (a retry, or a resend at-least-once allows) or, once that was
 * accepted, carries the next one: never an older one, never one ahead of an unaccepted one. Returns what is wrong.
 */
function orderProblems(answers: readonly Answer[], records: readonly string[], versions: number): string[] {
  const problems: string[] = [];
  for (const id of records) {
    const seen = answers.filter((answer) => answer.recordId === id);
    const trace = seen.map((a) => `${a.version}${a.ok ? '' : '!'}`).join(' ');
    let current = -1;
    let accepted = true;
    let broken = false;
    for (const answer of seen) {
      const version = Number(answer.version?.slice(1));
      if (version !== current) {
        if (!(accepted && version === current + 1)) broken = true;
        current = version;
        accepted = false;
      }
      if (answer.ok) accepted = true;
    }
    if (broken || current !== versions - 1 || !accepted) problems.push(`record ${id}: ${trace}`);
  }
  return problems;
}

/** Writes `versions` versions (v0 at creation) of `count` people, interleaved, through the API at `graphql`. */
async function writeVersions(graphql: TestApp['graphql'], count: number, versions: number): Promise<string[]> {
  const records: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const created = await graphql('mutation { createPerson(data: { firstName: "Ada", jobTitle: "v0" }) { id } }');
    records.push(created.data.createPerson.id);
  }
  for (let version = 1; version < versions; version += 1) {
    for (const id of records) {
      const updated = await graphql('mutation ($id: UUID!, $title: String!) { updatePerson(id: $id, data: { jobTitle: $title }) { id } }', { id, title: `v${version}` });
      expect(updated.errors).toBeUndefined();
    }
  }
  return records;
}

describe.each(DATABASE_KINDS)('PER_RECORD ordering on %s', (kind) => {
  it('sends each record\'s deliveries in commit order across two workers and a receiver that fails at random', async () => {
    const api = await startCluster(kind, '20ms,20ms,20ms,20ms,20ms');
    const answers: Answer[] = [];
    const receiver = await startReceiver(randomlyFailing(16, answers));
    cleanups.push(() => receiver.close());
    const ordered = await api.graphql(CREATE, { input: { targetUrl: `${receiver.url}/ordered`, operations: ['person.*'], ordering: 'PER_RECORD' } });
    expect(ordered.data.createWebhook.ordering).toBe('PER_RECORD');

    const versions = 6;
    const records = await writeVersions(api.graphql, 4, versions);
    const total = records.length * versions;
    await eventually(
      () => api.server.database.db.selectFrom('deliveries').select('status').where('webhook_id', '=', ordered.data.createWebhook.id).execute(),
      (rows) => rows.length === total && rows.every((row) => row.status !== 'PENDING'),
      60_000,
    );
    expect(orderProblems(answers, records, versions)).toEqual([]);
    expect(answers.some((answer) => !answer.ok)).toBe(true);
  });

  it('with NONE a retried delivery arrives after a later change of its record; with PER_RECORD it never does', async () => {
    // A forced scenario, so the control cannot flake: the receiver refuses a record's creation until it has accepted
    // that record's update. Under NONE the update is not held, so it is accepted first and the retried creation after
    // it. Under PER_RECORD the update waits: the creation is refused on every attempt and finally fails, then the update goes.
    const api = await startCluster(kind, '1s,1s,1s,1s,1s');
    const accepted: Array<{ path: string; operation: string }> = [];
    const updatedAt = new Set<string>();
    const receiver = await startReceiver((request, response) => {
      const body = parse(request);
      const ok = body.operation !== 'person.created' || updatedAt.has(request.path);
      if (ok) {
        accepted.push({ path: request.path, operation: body.operation });
        if (body.operation === 'person.updated') updatedAt.add(request.path);
      }
      response.statusCode = ok ? 200 : 503;
      response.end();
    });
    cleanups.push(() => receiver.close());
    const ids: Record<string, string> = {};
    for (const ordering of ['NONE', 'PER_RECORD']) {
      const created = await api.graphql(CREATE, { input: { targetUrl: `${receiver.url}/${ordering}`, operations: ['person.*'], ordering } });
      ids[ordering] = created.data.createWebhook.id;
    }
    const person = await api.graphql('mutation { createPerson(data: { firstName: "Ada" }) { id } }');
    await api.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { city: "Paris" }) { id } }', { id: person.data.createPerson.id });

    const rows = await eventually(
      () => api.server.database.db.selectFrom('deliveries').select(['webhook_id', 'operation', 'status']).where('webhook_id', 'in', Object.values(ids)).execute(),
      (list) => list.length === 4 && list.every((row) => row.status !== 'PENDING'),
      30_000,
    );
    const statusOf = (ordering: string, operation: string) => rows.find((row) => row.webhook_id === ids[ordering] && row.operation === operation)?.status;
    // NONE: both accepted, the update first: out of commit order.
    expect(accepted.filter((entry) => entry.path === '/NONE').map((entry) => entry.operation)).toEqual(['person.updated', 'person.created']);
    expect([statusOf('NONE', 'person.created'), statusOf('NONE', 'person.updated')]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // PER_RECORD: the update was sent only once the creation had finally failed (six refused attempts).
    const perRecord = receiver.requests.filter((request) => request.path === '/PER_RECORD').map((request) => parse(request).operation);
    expect(perRecord).toEqual([...Array(6).fill('person.created'), 'person.updated']);
    expect([statusOf('PER_RECORD', 'person.created'), statusOf('PER_RECORD', 'person.updated')]).toEqual(['FAILED', 'SUCCEEDED']);
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

// PGlite allows one process per data folder, so worker processes sharing a database are a PostgreSQL setup; the
// in-process pair of worker loops above covers PGlite.
describe.skipIf(!process.env.DATABASE_URL)('PER_RECORD ordering with two worker processes on PostgreSQL', () => {
  it('sends each record\'s deliveries in commit order through a receiver that fails at random (NONE alongside, measured)', async () => {
    const child = await createChildProcessDatabase('postgres');
    cleanups.push(() => child.dispose());
    const env = {
      ...child.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_API_KEY: TEST_API_KEY,
      SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true',
      SWITCHBOARD_RETRY_SCHEDULE: '20ms,20ms,20ms,20ms,20ms',
      SWITCHBOARD_DELIVERY_TIMEOUT: '2s',
      SWITCHBOARD_LEASE: '5s',
    };
    const database = await openDatabase({ databaseUrl: child.env.DATABASE_URL, poolSize: 4 });
    const api = await startSwitchboard({ config: loadConfig(env), role: 'api', database, logger: pino({ level: 'silent' }) });
    cleanups.push(async () => {
      await api.stop();
      await database.close();
    });
    const graphql: TestApp['graphql'] = async (query, variables) => {
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: any; errors?: [] };
      return { status: response.status, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
    };
    const workers = [0, 1].map(() => {
      const worker = runCli(['serve', '--role', 'worker'], env);
      cleanups.push(() => worker.kill('SIGTERM'));
      return worker;
    });
    await Promise.all(workers.map((worker) => worker.waitFor(/is running/)));

    const answers: Answer[] = [];
    const receiver = await startReceiver(randomlyFailing(1525, answers));
    cleanups.push(() => receiver.close());
    const webhooks: Record<string, string> = {};
    for (const ordering of ['PER_RECORD', 'NONE']) {
      const created = await graphql(CREATE, { input: { targetUrl: `${receiver.url}/${ordering}`, operations: ['person.*'], ordering } });
      expect(created.errors).toBeUndefined();
      webhooks[ordering] = created.data.createWebhook.id;
    }
    const versions = 6;
    const records = await writeVersions(graphql, 6, versions);
    const total = records.length * versions * 2;
    await eventually(
      () => database.db.selectFrom('deliveries').select('status').where('webhook_id', 'in', Object.values(webhooks)).execute(),
      (rows) => rows.length === total && rows.every((row) => row.status !== 'PENDING'),
      90_000,
    );
    const ordered = answers.filter((answer) => answer.path === '/PER_RECORD');
    expect(orderProblems(ordered, records, versions)).toEqual([]);
    expect(ordered.some((answer) => !answer.ok)).toBe(true);
    // The control is an observation, not an assertion: NONE may or may not reorder in a given run (the forced
    // scenario above shows that it can).
    const unordered = orderProblems(answers.filter((answer) => answer.path === '/NONE'), records, versions);
    console.log(`NONE alongside: ${unordered.length} of ${records.length} records reached the receiver out of commit order`);
    // Both processes were alive and registered as workers throughout.
    expect(workers.every((worker) => worker.child.exitCode === null)).toBe(true);
    expect(await database.db.selectFrom('worker_heartbeats').select('worker_id').execute()).toHaveLength(2);
  });
});
