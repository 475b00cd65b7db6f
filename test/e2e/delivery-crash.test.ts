import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type DatabaseKind } from '../../src/storage/database.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents, insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { runCli, type RunningProcess } from '../helpers/processes.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

const DELIVERIES = 300;
const PER_ENDPOINT = 16;

async function openChildDatabase(env: Record<string, string>): Promise<Database> {
  return env.DATABASE_URL ? openDatabase({ databaseUrl: env.DATABASE_URL, poolSize: 2 }) : openDatabase({ dataDir: env.DATA_DIR });
}

describe.each(DATABASE_KINDS)('a worker killed mid-batch on %s', (kind: DatabaseKind) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('loses no delivery: after kill -9 and a restart every delivery SUCCEEDED', async () => {
    const child = await createChildProcessDatabase(kind);
    cleanups.push(() => child.dispose());
    // Slow answers keep a batch in flight and more claimed deliveries queued when the kill lands.
    const receiver: Receiver = await startReceiver((_request, response) => void setTimeout(() => response.end('ok'), 50));
    cleanups.push(() => receiver.close());

    // PGlite allows one process per folder: write the fixtures, close, then hand the folder to the workers.
    let database = await openChildDatabase(child.env);
    const workspaceId = await insertWorkspaceRow(database.db);
    await insertWebhookRow(database.db, { workspaceId, targetUrl: receiver.url });
    const events = await insertSampleEvents(database.db, workspaceId, DELIVERIES);
    await database.close();

    const env = {
      // The PGlite case must not inherit this test run's DATABASE_URL.
      DATABASE_URL: '',
      ...child.env,
      PORT: '0',
      SWITCHBOARD_LEASE: '3s',
      SWITCHBOARD_DELIVERY_TIMEOUT: '1s',
      SWITCHBOARD_RETRY_SCHEDULE: '100ms',
      SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(PER_ENDPOINT),
    };
    const start = (): RunningProcess => {
      const worker = runCli(['serve', '--role', 'worker'], env);
      cleanups.push(() => worker.kill('SIGKILL'));
      return worker;
    };

    const first = start();
    await receiver.waitForCount(40, 30_000).catch((error) => {
      throw new Error(`${error.message}\nworker output:\n${first.output()}`);
    });
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const receivedBeforeKill = receiver.requests.length;
    expect(receivedBeforeKill).toBeLessThan(DELIVERIES);
    // What the dead worker had stored as delivered: none of it may be sent again.
    database = await openChildDatabase(child.env);
    const storedBeforeRestart = await database.db.selectFrom('deliveries').select('id').where('status', '=', 'SUCCEEDED').execute();
    await database.close();

    const second = start();
    await second.waitFor(/is running/);
    const ids = () => new Set(receiver.requests.map((request) => String(request.headers['webhook-id'])));
    const deadline = Date.now() + 30_000;
    // Every delivery not stored as SUCCEEDED at the kill is PENDING and is sent once more: wait for all of those too.
    const expectedRequests = DELIVERIES + receivedBeforeKill - storedBeforeRestart.length;
    while ((ids().size < DELIVERIES || receiver.requests.length < expectedRequests) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ids()).toEqual(new Set(events.map((event) => event.id)));
    // A graceful stop stores every finished attempt before the process exits.
    expect(await second.kill('SIGTERM')).toBe(0);

    database = await openChildDatabase(child.env);
    cleanups.push(() => database.close());
    const statuses = await database.db.selectFrom('deliveries').select(['status', 'attempt_count', 'lease_token']).execute();
    expect(statuses).toHaveLength(DELIVERIES);
    expect(statuses.every((row) => row.status === 'SUCCEEDED' && row.lease_token === null)).toBe(true);
    // Only requests answered but not yet stored at the kill may be sent again: at-least-once, never more.
    const resent = receiver.requests.length - DELIVERIES;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(receivedBeforeKill - storedBeforeRestart.length);
  });
});
