import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { createChildProcessDatabase } from '../helpers/databases.ts';
import { appendSampleEvents, insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { runCli, type RunningProcess } from '../helpers/processes.ts';
import { eventually, startReceiver } from '../helpers/receiver.ts';

const WEBHOOKS = 4;
const EVENTS = 1_250; // × 4 webhooks = 5,000 deliveries (an even number of events: half are written each way)
const KILLS = 6;

/**
 * Crash safety with real processes: two `switchboard serve --role worker` children share one PostgreSQL
 * database; while 5,000 deliveries flow, a randomly chosen worker is killed with SIGKILL at random points of
 * progress and restarted. Leases are short so the work of a killed worker is taken over within seconds.
 */
describe.skipIf(!process.env.DATABASE_URL)('crash safety: random kill -9 of workers during 5,000 deliveries (postgres)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('delivers every delivery at least once, sends nothing unexpected and leaves none PENDING', async () => {
    const child = await createChildProcessDatabase('postgres');
    cleanups.push(() => child.dispose());
    const database: Database = await openDatabase({ databaseUrl: child.env.DATABASE_URL, poolSize: 2 });
    cleanups.push(() => database.close());
    // A receiver that takes 10-40 ms, so the run lasts long enough for every kill to catch requests in flight.
    const receiver = await startReceiver((_request, response) => {
      setTimeout(() => response.end('ok'), 10 + Math.random() * 30);
    });
    cleanups.push(() => receiver.close());

    const workspaceId = await insertWorkspaceRow(database.db);
    const pathOf = new Map<string, string>();
    for (let index = 0; index < WEBHOOKS; index++) {
      const webhook = await insertWebhookRow(database.db, { workspaceId, targetUrl: `${receiver.url}/w${index}`, operations: ['person.created'] });
      pathOf.set(webhook.id, `/w${index}`);
    }
    // Half the delivery rows exist before the workers start (taken by claims); the other half's fan-outs are left
    // to the workers, which insert those rows leased to themselves: a kill may land in either way of taking work.
    await insertSampleEvents(database.db, workspaceId, EVENTS / 2);
    await appendSampleEvents(database.db, workspaceId, EVENTS / 2);

    const env = {
      ...child.env,
      SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true',
      SWITCHBOARD_DELIVERY_TIMEOUT: '1s',
      SWITCHBOARD_LEASE: '2s',
      SWITCHBOARD_RETRY_SCHEDULE: '200ms,400ms,800ms,1s,1s',
      SWITCHBOARD_MAX_IN_FLIGHT: '16',
      SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: '4',
    };
    const workers: RunningProcess[] = [];
    const startWorker = () => {
      const worker = runCli(['serve', '--role', 'worker'], env);
      cleanups.push(() => worker.kill('SIGKILL'));
      return worker;
    };
    workers.push(startWorker(), startWorker());
    await Promise.all(workers.map((worker) => worker.waitFor(/is running/, 60_000)));

    const started = performance.now();
    // Kill points spread over the run by progress (requests received), not by time: the machine's speed varies.
    const killAt = Array.from({ length: KILLS }, () => 200 + Math.floor(Math.random() * 3_800)).sort((a, b) => a - b);
    const kills: Array<{ at: number; exit: number | string }> = [];
    for (const threshold of killAt) {
      await receiver.waitForCount(threshold, 90_000);
      const index = Math.floor(Math.random() * workers.length);
      const exit = await workers[index].kill('SIGKILL');
      kills.push({ at: receiver.requests.length, exit });
      // Restarted at once, not awaited: the next kill may hit a worker that is still starting, as in real life.
      workers[index] = startWorker();
    }

    const counts = () =>
      database.db.selectFrom('deliveries').select(['status']).select((eb) => eb.fn.countAll<string>().as('count')).groupBy('status').execute();
    const final = await eventually(counts, (rows) => rows.length === 1 && rows[0].status === 'SUCCEEDED', 120_000);
    const elapsed = performance.now() - started;

    expect(kills.every((kill) => kill.exit === 'SIGKILL')).toBe(true);
    // Every kill landed in the middle of the run, not after it.
    expect(kills.every((kill) => kill.at < WEBHOOKS * EVENTS)).toBe(true);
    expect(final).toEqual([{ status: 'SUCCEEDED', count: expect.anything() }]);
    expect(Number(final[0].count)).toBe(WEBHOOKS * EVENTS);

    // What was expected (every delivery row) against what arrived (path + event id of each request).
    const deliveries = await database.db.selectFrom('deliveries').select(['webhook_id', 'event_id']).execute();
    const expected = new Set(deliveries.map((row) => `${pathOf.get(row.webhook_id)} ${row.event_id}`));
    const received = new Set(receiver.requests.map((request) => `${request.path} ${String(request.headers['webhook-id'])}`));
    expect(expected.size).toBe(WEBHOOKS * EVENTS);
    const lost = [...expected].filter((key) => !received.has(key));
    const unexpected = [...received].filter((key) => !expected.has(key));
    expect(lost).toEqual([]);
    expect(unexpected).toEqual([]);
    const duplicates = receiver.requests.length - received.size;
    // At least once: a kill may repeat what was in flight, but never more than a few batches' worth.
    expect(duplicates).toBeLessThan(KILLS * 64 + 1);
    console.log(
      `kill -9 suite: ${WEBHOOKS * EVENTS} deliveries, ${kills.length} kills at ${kills.map((kill) => kill.at).join(', ')} requests; ` +
        `lost 0, duplicates ${duplicates}, ${(elapsed / 1000).toFixed(1)} s`,
    );
  }, 240_000);
});
