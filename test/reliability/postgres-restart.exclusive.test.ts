import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.ts';
import { createChildProcessDatabase } from '../helpers/databases.ts';
import { runCli } from '../helpers/processes.ts';
import { eventually, startReceiver } from '../helpers/receiver.ts';

/**
 * Runs alone (vitest.exclusive.config.ts): it stops and starts the real PostgreSQL server, which every other
 * PostgreSQL test would feel. Whatever happens, PostgreSQL is running again when this file ends.
 */
const API_KEY = 'sb_reliability_restart_key_0001';
const cluster = () => fs.readdirSync('/etc/postgresql').sort()[0];
const pgctl = (action: 'start' | 'stop') =>
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster(), 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])], {
    stdio: 'pipe',
    timeout: 60_000,
  });
const postgresAnswers = () => {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};
async function ensurePostgresRunning(): Promise<void> {
  if (postgresAnswers()) return;
  try {
    pgctl('start');
  } catch {
    // Already starting: wait for it below.
  }
  await eventually(async () => postgresAnswers(), Boolean, 60_000);
}

const canRestart = Boolean(process.env.DATABASE_URL) && fs.existsSync('/etc/postgresql') && process.getuid?.() === 0;

describe.skipIf(!canRestart)('PostgreSQL restarted in the middle of a run', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    await ensurePostgresRunning();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('the server answers 503 while the database is away, reconnects, and loses no acknowledged write or delivery', async () => {
    const child = await createChildProcessDatabase('postgres');
    cleanups.push(() => child.dispose());
    const receiver = await startReceiver((_request, response) => {
      setTimeout(() => response.end('ok'), 5 + Math.random() * 20);
    });
    cleanups.push(() => receiver.close());
    const server = runCli(['serve', '--port', '0'], {
      ...child.env,
      SWITCHBOARD_API_KEY: API_KEY,
      SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true',
      SWITCHBOARD_DELIVERY_TIMEOUT: '1s',
      SWITCHBOARD_RETRY_SCHEDULE: '200ms,500ms,1s,2s,3s,5s,5s,5s',
    });
    cleanups.push(() => server.kill('SIGKILL'));
    const [, url] = await server.waitFor(/GraphQL: (http:\/\/\S+)\/graphql/, 60_000);

    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    };
    const createPeople = async (count: number, tag: string) =>
      call('POST', '/graphql', {
        query: 'mutation($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }',
        variables: { data: Array.from({ length: count }, (_, index) => ({ firstName: tag, lastName: String(index) })) },
      });

    const webhook = await call('POST', '/rest/webhooks', { targetUrl: `${receiver.url}/hook`, operations: ['person.created'] });
    expect(webhook.status).toBe(201);

    // Writes acknowledged before the outage; their deliveries are still flowing when the database goes away.
    const acknowledged: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const created = await createPeople(50, 'before');
      expect(created.status).toBe(200);
      acknowledged.push(...created.body.data.createPeople.map((person: { id: string }) => person.id));
    }

    pgctl('stop');
    let outageAnswers: number[] = [];
    try {
      expect(postgresAnswers()).toBe(false);
      const health = await call('GET', '/healthz');
      const list = await call('GET', '/rest/people');
      const graphql = await call('POST', '/graphql', { query: '{ webhooks { id } }' });
      const write = await createPeople(5, 'during');
      outageAnswers = [health.status, list.status, graphql.status, write.status];
      expect(list.body.error.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      pgctl('start');
      await eventually(async () => postgresAnswers(), Boolean, 60_000);
    }
    expect(outageAnswers, server.output()).toEqual([503, 503, 503, 503]);
    // Not a crash: the same process serves again once the database is back.
    await eventually(() => call('GET', '/healthz').then((answer) => answer.status), (status) => status === 200, 30_000);
    expect(server.child.exitCode).toBeNull();

    const after = await createPeople(50, 'after');
    expect(after.status).toBe(200);
    acknowledged.push(...after.body.data.createPeople.map((person: { id: string }) => person.id));

    // Every acknowledged write has its record, its event and a delivery that arrived; nothing else was written.
    const database = await openDatabase({ databaseUrl: child.env.DATABASE_URL, poolSize: 1 });
    cleanups.push(() => database.close());
    const deliveryStates = () =>
      database.db.selectFrom('deliveries').select('status').select((eb) => eb.fn.countAll<string>().as('count')).groupBy('status').execute();
    const states = await eventually(deliveryStates, (rows) => rows.length === 1 && rows[0].status === 'SUCCEEDED', 60_000);
    expect(Number(states[0].count)).toBe(acknowledged.length);

    const people = await database.db.selectFrom('people').select(['id', 'first_name']).execute();
    expect(people.map((person) => person.id).sort()).toEqual([...acknowledged].sort());
    const events = await database.db.selectFrom('events').select('record_id').execute();
    expect(events.map((event) => event.record_id).sort()).toEqual([...acknowledged].sort());

    const delivered = new Set(receiver.requests.map((request) => JSON.parse(request.body).record.id as string));
    const lost = acknowledged.filter((id) => !delivered.has(id));
    expect(lost).toEqual([]);
    console.log(
      `PostgreSQL restart: ${acknowledged.length} acknowledged writes, outage answers ${outageAnswers.join('/')}, ` +
        `${receiver.requests.length} requests for ${delivered.size} records, lost 0`,
    );
  }, 180_000);
});
