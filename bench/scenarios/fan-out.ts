// 3. Fan-out: one event to many webhooks on distinct paths, time until every one has arrived.
import { sql } from 'kysely';
import {
  appendCommitted, insertWebhooks, insertWorkspace, now, sampleEvents, startWorker, type Figure, type Scale, type Sink,
} from '../harness.ts';
import type { Database } from '../../src/storage/database.ts';
import { rawRequestsPerSecond } from './throughput.ts';

export async function fanOut(database: Database, sink: Sink, scale: Scale): Promise<Figure[]> {
  const count = scale.fanOutWebhooks;
  await sink.reset();
  const rawRate = await rawRequestsPerSecond(sink, count, 64, (i) => `/fan-raw/${i}`);
  const rawSeconds = count / rawRate;

  const workspaceId = await insertWorkspace(database, 'bench-fan-out');
  await insertWebhooks(database, workspaceId, sink.url('/fan/'), count);
  await sql`ANALYZE webhook_operations`.execute(database.db);
  const worker = await startWorker(database);
  await sink.reset();
  const arrived = sink.waitFor(count, 60_000);
  const started = now();
  await appendCommitted(database, sampleEvents(workspaceId, 1));
  const seconds = ((await arrived) - started) / 1000;
  await worker.stop();
  const { paths } = await sink.stats();
  if (paths !== count) throw new Error(`fan-out: ${paths} distinct paths received, expected ${count}`);
  return [
    {
      scenario: '3. Fan-out',
      metric: `1 event → ${count} webhooks, insert start → last arrival`,
      value: seconds,
      unit: 's',
      baseline: { label: `raw: ${count} POSTs, 64 in flight`, value: rawSeconds },
      ratio: seconds / rawSeconds,
      target: count >= 1_000 ? { text: '≤ 0.5 s', met: seconds <= 0.5 } : undefined,
    },
  ];
}
