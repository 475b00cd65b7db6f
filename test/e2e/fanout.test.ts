import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSwitchboard } from '../../src/server.ts';
import { startTestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertWebhookRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver } from '../helpers/receiver.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe.each(DATABASE_KINDS)('fan-out after the write on %s', (kind) => {
  it('keeps the events of writes made while no worker runs, and delivers them once a worker starts', async () => {
    const api = await startTestApp(kind, { role: 'api' });
    cleanups.push(() => api.close());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const db = api.server.database.db;
    const workspaceId = (await api.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    const webhook = await insertWebhookRow(db, { workspaceId, targetUrl: receiver.url, operations: ['person.created'] });

    const ids: string[] = [];
    for (const name of ['Ada', 'Grace', 'Katherine']) {
      const answer = await api.graphql(`mutation { createPerson(data: { firstName: "${name}" }) { id } }`);
      ids.push(answer.data.createPerson.id);
    }
    // No worker: each write left its event and its fan-out, and no delivery yet; the metric says so.
    expect(await db.selectFrom('pending_fanouts').select('event_id').execute()).toHaveLength(3);
    expect(await db.selectFrom('deliveries').select('id').execute()).toEqual([]);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toContain('switchboard_events_awaiting_fanout 3');

    const worker = await startSwitchboard({
      config: loadConfig({ SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true', DATA_DIR: api.dataDir }),
      role: 'worker',
      database: api.server.database,
      logger: pino({ level: 'silent' }),
    });
    cleanups.push(() => worker.stop());
    await receiver.waitForCount(3, 20_000);
    const delivered = receiver.requests.map((request) => JSON.parse(request.body).record.id).sort();
    expect(delivered).toEqual([...ids].sort());
    const deliveries = await eventually(
      () => db.selectFrom('deliveries').select(['webhook_id', 'status']).execute(),
      (rows) => rows.length === 3 && rows.every((row) => row.status === 'SUCCEEDED'),
    );
    expect(deliveries.every((row) => row.webhook_id === webhook.id)).toBe(true);
    expect(await db.selectFrom('pending_fanouts').select('event_id').execute()).toEqual([]);
  });
});
