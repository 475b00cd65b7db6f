// 6. Write path: what matching webhooks add to createPerson over GraphQL (the event and its pending fan-out are
// written in the write's transaction; the delivery rows right after, by a worker).
import { sql } from 'kysely';
import { startSwitchboard } from '../../src/server.ts';
import type { Database } from '../../src/storage/database.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';
import { benchConfig, insertWebhooks, now, percentile, silentLogger, type Figure, type Scale, type Sink } from '../harness.ts';

const API_KEY = 'sb_bench_key_for_workspace_default_0001';
const WARMUP = 20;

export async function writePath(database: Database, sink: Sink, scale: Scale): Promise<Figure[]> {
  const config = { ...benchConfig({ SWITCHBOARD_API_KEY: API_KEY }), host: '127.0.0.1', port: 0 };
  // API role only: the figure is the write's own cost; delivering is measured by the other scenarios.
  const server = await startSwitchboard({ config, role: 'api', database, logger: silentLogger });
  try {
    // Two workspaces, one with the webhooks and one without, and requests alternating between them: whatever
    // else the machine does (autovacuum, a checkpoint, other processes) falls on both sides alike.
    const quiet = await server.services.workspaces.ensureWorkspace('bench-write-path-no-webhooks');
    const quietKey = (await server.services.workspaces.createApiKey(quiet.workspace.id, 'bench')).key;
    const busyWorkspaceId = server.bootstrap.workspaceId;
    await insertWebhooks(database, busyWorkspaceId, sink.url('/write/'), scale.writeWebhooks);
    await sql`ANALYZE webhook_operations`.execute(database.db);

    const createPerson = async (apiKey: string, index: number): Promise<number> => {
      const started = now();
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          query: 'mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }',
          variables: { data: { firstName: 'Ada', lastName: `Lovelace ${index}` } },
        }),
      });
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`createPerson failed: ${JSON.stringify(body.errors)}`);
      return now() - started;
    };
    for (let i = 0; i < WARMUP; i++) {
      await createPerson(quietKey, i);
      await createPerson(API_KEY, i);
    }
    const quietLatencies: number[] = [];
    const busyLatencies: number[] = [];
    for (let i = 0; i < scale.writeRequests; i++) {
      quietLatencies.push(await createPerson(quietKey, i));
      busyLatencies.push(await createPerson(API_KEY, i));
    }
    const p50 = (latencies: number[]) => percentile(latencies.sort((x, y) => x - y), 50);
    const without = p50(quietLatencies);
    const withWebhooks = p50(busyLatencies);
    // No worker here: create the deliveries the writes asked for, to check that every one was asked for.
    await dispatchAllFanouts(database.db);
    const created = await sql<{ count: string }>`
      SELECT count(*) AS count FROM deliveries WHERE workspace_id = ${busyWorkspaceId}::uuid
    `.execute(database.db);
    const expected = (WARMUP + scale.writeRequests) * scale.writeWebhooks;
    if (Number(created.rows[0]?.count) !== expected) throw new Error(`write path: ${created.rows[0]?.count} deliveries, expected ${expected}`);
    await sql`UPDATE deliveries SET status = 'FAILED', next_attempt_at = NULL WHERE workspace_id = ${busyWorkspaceId}::uuid`.execute(
      database.db,
    );
    const ratio = withWebhooks / without;
    return [
      {
        scenario: '6. Write path',
        metric: `createPerson p50 with ${scale.writeWebhooks} matching webhooks`,
        value: withWebhooks,
        unit: 'ms',
        baseline: { label: 'no webhooks (requests alternating)', value: without },
        ratio,
        target: { text: '≤ 1.2', met: ratio <= 1.2 },
      },
    ];
  } finally {
    await server.stop();
  }
}
