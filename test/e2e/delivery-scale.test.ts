import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { appendSampleEvents, insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
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
    // Both ways deliveries reach the workers: batches whose delivery rows exist before any worker sees them (taken
    // by claims), and batches whose fan-outs the workers run themselves (rows inserted leased to the one that ran it).
    for (let batch = 0; batch < EVENTS / 500; batch++) {
      if (batch % 2 === 0) await insertSampleEvents(database.db, workspaceId, 500);
      else await appendSampleEvents(database.db, workspaceId, 500);
    }
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
