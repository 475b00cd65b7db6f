import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type DatabaseKind } from '../../src/storage/database.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { runCli, type RunningProcess } from '../helpers/processes.ts';
import { eventually, startReceiver } from '../helpers/receiver.ts';

const DELIVERIES = 6;
/** The bound: deliveries resume within this long of a kill -9, whatever the timeout and lease. */
const RESUME_WITHIN_MS = 15_000;

async function openChildDatabase(env: Record<string, string>): Promise<Database> {
  return env.DATABASE_URL ? openDatabase({ databaseUrl: env.DATABASE_URL, poolSize: 2 }) : openDatabase({ dataDir: env.DATA_DIR });
}

/**
 * A worker killed with SIGKILL while its requests hang at a slow receiver: with the default timeout (30 s) and lease
 * (90 s), its deliveries would wait 90 s. The heartbeat lets the next worker take them back in seconds. On
 * PostgreSQL the other worker is already running (any live worker releases them); PGlite allows one process per
 * folder, so there it is started right after the kill, as a restart would be, and takes the dead worker's leases
 * back as soon as it runs (the folder's lock proves no other process uses it).
 */
describe.each(DATABASE_KINDS)('deliveries of a worker killed mid-delivery resume within 15 s on %s', (kind: DatabaseKind) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('sends each one again within 15 s of the kill, and then every delivery SUCCEEDED', async () => {
    const child = await createChildProcessDatabase(kind);
    cleanups.push(() => child.dispose());
    // The first request of each event never gets an answer (the receiver is slow); later ones are answered at once.
    const answered = new Set<string>();
    const receiver = await startReceiver((request, response) => {
      const id = String(request.headers['webhook-id']);
      if (!answered.has(id)) return answered.add(id);
      response.end('ok');
    });
    cleanups.push(() => receiver.close());

    let database = await openChildDatabase(child.env);
    const workspaceId = await insertWorkspaceRow(database.db);
    await insertWebhookRow(database.db, { workspaceId, targetUrl: receiver.url });
    await insertSampleEvents(database.db, workspaceId, DELIVERIES);
    if (kind === 'pglite') await database.close();

    // Default delivery timeout and lease: the heartbeat alone must bring the deliveries back.
    const env = { DATABASE_URL: '', ...child.env, PORT: '0', SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'info' };
    const start = (): RunningProcess => {
      const worker = runCli(['serve', '--role', 'worker'], env);
      cleanups.push(() => worker.kill('SIGKILL'));
      return worker;
    };

    const doomed = start();
    await receiver.waitForCount(DELIVERIES, 60_000).catch((error) => {
      throw new Error(`${error.message}\nworker output:\n${doomed.output()}`);
    });
    let survivor: RunningProcess | undefined;
    if (kind === 'postgres') {
      survivor = start();
      await survivor.waitFor(/is running/, 60_000);
    }
    expect(await doomed.kill('SIGKILL')).toBe('SIGKILL');
    const killedAt = performance.now();
    // On PGlite the clock starts when the restarted process is up: starting a process is not recovery's time (on
    // this shared machine it took up to 22 s), and before that nothing could have run the deliveries anyway.
    let resumeFrom = killedAt;
    if (!survivor) {
      survivor = start();
      await survivor.waitFor(/is running/, 60_000);
      resumeFrom = performance.now();
    }

    await receiver.waitForCount(2 * DELIVERIES, RESUME_WITHIN_MS + 15_000).catch((error) => {
      throw new Error(`${error.message}\nsurvivor output:\n${survivor!.output()}`);
    });
    const resent = receiver.requests.slice(DELIVERIES);
    const slowest = Math.max(...resent.map((request) => request.at - resumeFrom));
    expect(new Set(resent.map((request) => request.headers['webhook-id'])).size).toBe(DELIVERIES);
    expect(slowest, survivor.output()).toBeLessThan(RESUME_WITHIN_MS);
    expect(survivor.output()).toMatch(/released the deliveries of workers that stopped heartbeating/);

    if (kind === 'pglite') {
      await survivor.kill('SIGTERM');
      database = await openChildDatabase(child.env);
    }
    const statuses = await eventually(
      () => database.db.selectFrom('deliveries').select(['status', 'attempt_count']).execute(),
      (rows) => rows.length === DELIVERIES && rows.every((row) => row.status === 'SUCCEEDED'),
      10_000,
    );
    expect(statuses.every((row) => row.attempt_count === 1)).toBe(true);
    await database.close();
    // Two process starts (PGlite opens its folder in each) fit in the budget on a loaded machine; the bound under
    // test is the 15 s above.
  }, 240_000);
});
