// 5. Backlog: drain rate with a huge queue vs a small one, and the worker's memory while draining.
import { sql } from 'kysely';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchEnv, insertWebhooks, insertWorkspace, now, sampleRecord, sleep, startWorker, type Figure, type Scale, type Sink } from '../harness.ts';
import type { Database } from '../../src/storage/database.ts';

const WEBHOOKS = 100;
const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

/**
 * Deliveries/s over the next `window` deliveries from a freshly started worker, and its peak RSS. On PostgreSQL
 * the worker is a process of its own (`switchboard serve --role worker`, as deployed), so its RSS is the
 * worker's alone, not this process's after the other scenarios (an in-process worker read 197 MB alone and
 * 297 MB after them). PGlite cannot be shared between processes: there the worker runs in this process.
 */
async function drainRate(database: Database, sink: Sink, window: number, rss: { peak: number }, databaseUrl?: string): Promise<number> {
  await sink.reset();
  const worker = databaseUrl ? await startWorkerProcess(databaseUrl) : await startInProcessWorker(database);
  try {
    // Measured from the first arrival: worker start-up is not draining.
    const first = await sink.waitFor(1, 60_000);
    const last = await sink.waitFor(window + 1, 300_000);
    return window / ((last - first) / 1000);
  } finally {
    rss.peak = Math.max(rss.peak, await worker.stop());
  }
}

interface RunningWorker {
  /** Stops the worker; resolves with its peak RSS in bytes. */
  stop(): Promise<number>;
}

async function startInProcessWorker(database: Database): Promise<RunningWorker> {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100);
  const worker = await startWorker(database);
  return {
    async stop() {
      await worker.stop();
      clearInterval(sampler);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

async function startWorkerProcess(databaseUrl: string): Promise<RunningWorker> {
  const child = spawn(process.execPath, [CLI, 'serve', '--role', 'worker', '--host', '127.0.0.1', '--port', '0'], {
    env: { ...process.env, ...benchEnv(), DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      // The kernel's high-water mark of the process's resident set, read before it exits.
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const peakKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
      child.kill('SIGTERM');
      await exited;
      if (!Number.isFinite(peakKb)) throw new Error('backlog: could not read the worker process\'s peak RSS');
      return peakKb * 1024;
    },
  };
}

/** PostgreSQL only: PGlite keeps no WAL worth flushing, and the smoke run is about counts, not figures. */
async function checkpoint(database: Database): Promise<void> {
  if (database.kind === 'postgres') await sql`CHECKPOINT`.execute(database.db);
}

export async function backlog(database: Database, sink: Sink, scale: Scale, databaseUrl?: string): Promise<Figure[]> {
  const workspaceId = await insertWorkspace(database, 'bench-backlog');
  await insertWebhooks(database, workspaceId, sink.url('/backlog/'), WEBHOOKS);
  const events = Math.ceil(scale.backlogDeliveries / WEBHOOKS);
  const record = JSON.stringify(sampleRecord(0));
  const generated = now();
  // Set-based: events, then one PENDING delivery per (event, webhook), due in event order.
  await sql`
    INSERT INTO events (id, workspace_id, operation, record_id, record, created_at)
    SELECT gen_random_uuid(), ${workspaceId}::uuid, 'person.created', gen_random_uuid(), ${record}::json,
           now() - interval '1 hour' + i * interval '1 millisecond'
    FROM generate_series(1, ${events}::int) AS i
  `.execute(database.db);
  await sql`
    INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, created_at, updated_at)
    SELECT gen_random_uuid(), e.workspace_id, w.id, e.id, e.operation, 'PENDING', e.created_at, e.created_at, e.created_at
    FROM events e CROSS JOIN webhooks w
    WHERE e.workspace_id = ${workspaceId}::uuid AND w.workspace_id = ${workspaceId}::uuid
  `.execute(database.db);
  await sql`ANALYZE deliveries`.execute(database.db);
  // Flush what generating wrote now, as a real queue growing over hours would have been flushed along the way;
  // otherwise the checkpoint it forces lands in one of the two measured drains and not the other.
  await checkpoint(database);
  const generateSeconds = (now() - generated) / 1000;

  const rss = { peak: 0 };
  const total = events * WEBHOOKS;
  const startRate = await drainRate(database, sink, scale.backlogWindow, rss, databaseUrl);

  // Fast-forward the drain: the backlogTail last-created deliveries are pending (again, if the first drain got to
  // them: a fast worker on the smoke size delivers everything before it is stopped) and all others count as
  // delivered; then vacuum as autovacuum would have during a real drain.
  await sql`
    UPDATE deliveries SET status = 'PENDING', next_attempt_at = created_at, lease_token = NULL
    WHERE id IN (
      SELECT id FROM deliveries WHERE workspace_id = ${workspaceId}::uuid
      ORDER BY created_at DESC, id DESC LIMIT ${scale.backlogTail}::int
    ) AND (status <> 'PENDING' OR lease_token IS NOT NULL)
  `.execute(database.db);
  await sql`
    UPDATE deliveries SET status = 'SUCCEEDED', next_attempt_at = NULL, lease_token = NULL
    WHERE id IN (
      SELECT id FROM deliveries WHERE workspace_id = ${workspaceId}::uuid AND status = 'PENDING'
      ORDER BY created_at DESC, id DESC OFFSET ${scale.backlogTail}::int
    )
  `.execute(database.db);
  await sql`VACUUM ANALYZE deliveries`.execute(database.db);
  await checkpoint(database);
  await sleep(100);
  const tailRate = await drainRate(database, sink, Math.min(scale.backlogWindow, scale.backlogTail - 1), rss, databaseUrl);
  const ratio = tailRate / startRate;
  const rssMb = rss.peak / 2 ** 20;
  return [
    {
      scenario: '5. Backlog',
      metric: `drain rate with ${total.toLocaleString('en')} pending (generated in ${generateSeconds.toFixed(0)} s)`,
      value: startRate,
      unit: 'deliveries/s',
    },
    {
      scenario: '5. Backlog',
      metric: `drain rate at ${scale.backlogTail.toLocaleString('en')} pending`,
      value: tailRate,
      unit: 'deliveries/s',
      baseline: { label: `at ${total.toLocaleString('en')} pending`, value: startRate },
      ratio,
      target: { text: '≥ 0.9', met: ratio >= 0.9 },
    },
    {
      scenario: '5. Backlog',
      metric: `peak RSS of the worker process while draining${databaseUrl ? ' (`serve --role worker`, its own process)' : ' (in the bench process, with PGlite)'}`,
      value: rssMb,
      unit: 'MB',
      target: { text: '≤ 300 MB', met: rssMb <= 300 },
    },
  ];
}
