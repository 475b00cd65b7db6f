// 8. Scaling: the same pipeline as scenario 1 with 1, 2 and 4 worker processes on one PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import {
  appendCommitted, benchEnv, countDeliveries, cpuSince, cpuSnapshot, databaseCpu, databaseCpuSince, insertWebhooks, insertWorkspace, now,
  processCpuSeconds, sampleEvents, sleep, startWorker, type Figure, type Scale, type Sink,
} from '../harness.ts';
import type { Database } from '../../src/storage/database.ts';

const CLI = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const IN_FLIGHT = 64;
const INSERT_BATCH = 500;
const WORKER_COUNTS = [1, 2, 4];
const START_TIMEOUT_MS = 180_000;

interface Workers {
  /** CPU seconds of the worker processes so far (0 for an in-process worker: it is in the bench's own figure). */
  cpu(): number;
  stop(): Promise<void>;
}

/** `count` `switchboard serve --role worker` processes, each with scenario 1's limits; resolves once all heartbeat. */
async function startWorkerProcesses(database: Database, databaseUrl: string, count: number): Promise<Workers> {
  const spawnedAt = new Date(Date.now() - 1_000);
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      spawn(process.execPath, [CLI, 'serve', '--role', 'worker', '--host', '127.0.0.1', '--port', '0'], {
        env: {
          ...process.env, ...benchEnv(), DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn',
          SWITCHBOARD_MAX_IN_FLIGHT: String(IN_FLIGHT), SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(IN_FLIGHT),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
  }
  const exits = children.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  const workers: Workers = {
    cpu: () => children.reduce((sum, child) => sum + (processCpuSeconds(child.pid!) ?? 0), 0),
    async stop() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(exits);
    },
  };
  // Generous: on a busy machine loading the TypeScript sources alone has taken over a minute.
  const deadline = now() + START_TIMEOUT_MS;
  for (;;) {
    const result = await sql<{ alive: number }>`
      SELECT count(*)::int AS alive FROM worker_heartbeats WHERE started_at >= ${spawnedAt.toISOString()}::timestamptz
    `.execute(database.db);
    if ((result.rows[0]?.alive ?? 0) >= count) return workers;
    if (now() > deadline) {
      await workers.stop();
      throw new Error(`scaling: ${count} worker process(es) did not all start within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }
}

async function startInProcess(database: Database): Promise<Workers> {
  const worker = await startWorker(database, {
    SWITCHBOARD_MAX_IN_FLIGHT: String(IN_FLIGHT), SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(IN_FLIGHT),
  });
  return { cpu: () => 0, stop: () => worker.stop() };
}

/**
 * On PostgreSQL, 1, 2 and 4 worker processes in turn (as deployed: `serve --role worker`), events inserted by this
 * process in scenario 1's batches inside the timed window. CPU per delivery is split into the workers, the
 * database's own backends (both read from /proc, so other work on the machine does not count) and the whole
 * machine. PGlite cannot be shared between processes: there one in-process worker runs, for the harness's sake.
 */
export async function scaling(database: Database, sink: Sink, scale: Scale, databaseUrl?: string): Promise<Figure[]> {
  const total = scale.pipelineDeliveries;
  const counts = databaseUrl ? WORKER_COUNTS : [1];
  const figures: Figure[] = [];
  let single: number | undefined;
  for (const count of counts) {
    const workspaceId = await insertWorkspace(database, `bench-scaling-${count}`);
    await insertWebhooks(database, workspaceId, sink.url(`/scaling/${count}`), 1);
    const warmUpWorkspaceId = await insertWorkspace(database, `bench-scaling-warm-up-${count}`);
    await insertWebhooks(database, warmUpWorkspaceId, sink.url(`/scaling/warm-up/${count}`), 1);
    const workers = databaseUrl ? await startWorkerProcesses(database, databaseUrl, count) : await startInProcess(database);
    try {
      // Unmeasured warm-up: fresh processes compile their hot paths on these.
      const warmUp = Math.min(INSERT_BATCH, total);
      await sink.reset();
      const warmedUp = sink.waitFor(warmUp, 120_000);
      await appendCommitted(database, sampleEvents(warmUpWorkspaceId, warmUp));
      await warmedUp;
      await sink.reset();
      const arrived = sink.waitFor(total, 300_000);
      const machineBefore = cpuSnapshot(sink);
      const workersBefore = workers.cpu();
      const databaseBefore = await databaseCpu(database);
      const started = now();
      for (let inserted = 0; inserted < total; inserted += INSERT_BATCH) {
        await appendCommitted(database, sampleEvents(workspaceId, Math.min(INSERT_BATCH, total - inserted)));
      }
      const last = await arrived;
      const seconds = (last - started) / 1000;
      const workerSeconds = workers.cpu() - workersBefore;
      const databaseSeconds = await databaseCpuSince(database, databaseBefore);
      const machine = cpuSince(machineBefore, sink);
      await workers.stop();
      // Stopped workers have stored every attempt they made: each delivery exactly once, all succeeded.
      const succeeded = await countDeliveries(database, workspaceId, 'SUCCEEDED');
      const { received } = await sink.stats();
      if (succeeded !== total || received !== total) {
        throw new Error(`scaling with ${count} worker(s): ${succeeded} stored as succeeded and ${received} received, expected ${total} each`);
      }
      const rate = total / seconds;
      single ??= rate;
      const perDelivery = (cpuSeconds: number) => (cpuSeconds * 1000) / total;
      figures.push({
        scenario: '8. Scaling',
        metric: `${count} worker process${count > 1 ? 'es' : ''}${databaseUrl ? '' : ' (in the bench process, PGlite)'}: deliveries/s`,
        value: rate,
        unit: 'deliveries/s',
        ...(count > 1 ? { baseline: { label: '1 worker process', value: single }, ratio: rate / single } : {}),
      });
      if (databaseUrl) {
        figures.push({
          scenario: '8. Scaling',
          metric:
            `${count} worker process${count > 1 ? 'es' : ''}: CPU per delivery, workers + PostgreSQL backends (workers ` +
            `${perDelivery(workerSeconds).toFixed(3)} ms, PostgreSQL ${perDelivery(databaseSeconds).toFixed(3)} ms` +
            `${machine ? `; whole machine ${perDelivery(machine.machine).toFixed(3)} ms` : ''})`,
          value: perDelivery(workerSeconds + databaseSeconds),
          unit: 'ms',
        });
      }
    } catch (error) {
      await workers.stop().catch(() => {});
      throw error;
    }
  }
  return figures;
}
