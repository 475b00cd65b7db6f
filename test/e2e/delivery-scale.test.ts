import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.ts';
import { startTestApp } from '../helpers/app.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/processes.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe.skipIf(!DATABASE_KINDS.includes('postgres'))('two worker processes on one PostgreSQL', () => {
  it('send 10,000 deliveries exactly once each', async () => {
    const WEBHOOKS = 4;
    const EVENTS = 2_500;
    const child = await createChildProcessDatabase('postgres');
    cleanups.push(() => child.dispose());
    const receiver: Receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const database = await openDatabase({ databaseUrl: child.env.DATABASE_URL, poolSize: 2 });
    cleanups.push(() => database.close());
    const workspaceId = await insertWorkspaceRow(database.db);
    for (let index = 0; index < WEBHOOKS; index++) {
      await insertWebhookRow(database.db, { workspaceId, targetUrl: `${receiver.url}/hook-${index}` });
    }

    const workers = [0, 1].map(() => {
      const worker = runCli(['serve', '--role', 'worker'], { ...child.env, PORT: '0' });
      cleanups.push(() => worker.kill('SIGKILL'));
      return worker;
    });
    await Promise.all(workers.map((worker) => worker.waitFor(/is running/, 60_000)));

    const started = performance.now();
    for (let batch = 0; batch < EVENTS / 500; batch++) await insertSampleEvents(database.db, workspaceId, 500);
    await receiver.waitForCount(WEBHOOKS * EVENTS, 120_000);
    const seconds = (performance.now() - started) / 1000;
    await eventually(
      () => database.db.selectFrom('deliveries').select('id').where('status', '!=', 'SUCCEEDED').execute(),
      (rows) => rows.length === 0,
      30_000,
    );
    await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));

    const perDelivery = new Map<string, number>();
    for (const request of receiver.requests) {
      const key = `${request.path} ${String(request.headers['webhook-id'])}`;
      perDelivery.set(key, (perDelivery.get(key) ?? 0) + 1);
    }
    expect(perDelivery.size).toBe(WEBHOOKS * EVENTS);
    expect([...perDelivery.values()].filter((count) => count !== 1)).toEqual([]);
    expect(receiver.requests).toHaveLength(WEBHOOKS * EVENTS);
    const attempts = await database.db.selectFrom('delivery_attempts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(attempts.n)).toBe(WEBHOOKS * EVENTS);
    console.info(`two workers: ${WEBHOOKS * EVENTS} deliveries in ${seconds.toFixed(2)} s (${Math.round((WEBHOOKS * EVENTS) / seconds)}/s)`);
  });
});

describe.each(DATABASE_KINDS)('endpoint isolation on %s', (kind) => {
  it('a hanging endpoint leaves the delivery rate of the others within 10% of normal', async () => {
    const COUNT = 2_000;
    const app = await startTestApp(kind, {
      env: { SWITCHBOARD_DELIVERY_TIMEOUT: '30s', SWITCHBOARD_RETRY_SCHEDULE: '1h', SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: '32' },
    });
    cleanups.push(() => app.close());
    const healthy = await startReceiver();
    cleanups.push(() => healthy.close());
    const hanging = await startReceiver(() => {});
    cleanups.push(() => hanging.close());
    const db = app.server.database.db;
    const workspaceId = await insertWorkspaceRow(db);

    /** Deliveries per second to a fresh healthy webhook, from the commit of COUNT events to the last arrival. */
    async function healthyRate(tag: string): Promise<number> {
      const webhook = await insertWebhookRow(db, { workspaceId, targetUrl: `${healthy.url}/${tag}` });
      const before = healthy.requests.length;
      const started = performance.now();
      await insertSampleEvents(db, workspaceId, COUNT);
      const committed = performance.now();
      await healthy.waitForCount(before + COUNT, 60_000);
      const rate = COUNT / ((healthy.requests.at(-1)!.at - committed) / 1000);
      await db.updateTable('webhooks').set({ status: 'DISABLED' }).where('id', '=', webhook.id).execute();
      console.info(`${kind} ${tag}: ${Math.round(rate)}/s (insert ${Math.round(committed - started)} ms)`);
      return rate;
    }

    // Best of three on each side: the machine is shared with other test files, and a rate can only be
    // pulled down by noise, never up.
    const bestOf = async (tag: string) => Math.max(...[await healthyRate(`${tag}-1`), await healthyRate(`${tag}-2`), await healthyRate(`${tag}-3`)]);
    await healthyRate('warm-up');
    const normal = await bestOf('normal');
    const stuck = await insertWebhookRow(db, { workspaceId, targetUrl: `${hanging.url}/stuck` });
    const withHanging = await bestOf('with-hanging');
    // The hanging endpoint holds exactly its own slots, all still open (the timeout is 30 s).
    expect(hanging.requests).toHaveLength(32);
    expect(withHanging).toBeGreaterThanOrEqual(normal * 0.9);
    await db.updateTable('webhooks').set({ status: 'DISABLED' }).where('id', '=', stuck.id).execute();
  });
});
