// Shared pieces of the benchmark: a fresh database, the sink child process, set-based fixtures, a worker.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.ts';
import { systemClock } from '../src/domain/clock.ts';
import { createDeliveryWorker, type DeliveryWorker } from '../src/delivery/worker.ts';
import { SWITCHBOARD_VERSION } from '../src/version.ts';
import { openDatabase, type Database, type DatabaseKind } from '../src/storage/database.ts';
import { appendEvents, type NewEvent } from '../src/storage/events.ts';
import { migrateToLatest } from '../src/storage/migrate.ts';
import { createSecretBox } from '../src/webhooks/secret-box.ts';

/** Wall-clock milliseconds with sub-millisecond precision, comparable with the sink's. */
export const now = (): number => performance.timeOrigin + performance.now();

/** CPU seconds spent so far: by the whole machine (every process), by this process and by the sink. */
export interface CpuSnapshot {
  machine: number;
  bench: number;
  sink: number;
}

/** Null where /proc is missing (not Linux). Two snapshots' difference is what a phase cost. */
export function cpuSnapshot(sink: Sink): CpuSnapshot | null {
  const machine = machineBusySeconds();
  const sinkSeconds = sink.pid === undefined ? null : processCpuSeconds(sink.pid);
  if (machine === null || sinkSeconds === null) return null;
  const own = process.cpuUsage();
  return { machine, bench: (own.user + own.system) / 1e6, sink: sinkSeconds };
}

export function cpuSince(before: CpuSnapshot | null, sink: Sink): CpuSnapshot | null {
  const after = cpuSnapshot(sink);
  if (before === null || after === null) return null;
  return { machine: after.machine - before.machine, bench: after.bench - before.bench, sink: after.sink - before.sink };
}

// /proc counts in clock ticks (USER_HZ), 100 a second on Linux.
const TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the whole machine, from the first line of /proc/stat; null where there is none. */
function machineBusySeconds(): number | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  // cpu  user nice system idle iowait irq softirq steal …
  const fields = text.split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) of one process, from /proc/<pid>/stat; null where there is none. */
export function processCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may hold spaces: fields are counted after its closing parenthesis (utime, stime: 14th, 15th).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * CPU seconds of each PostgreSQL backend serving the bench's database (PostgreSQL on this machine only; empty on
 * PGlite or where /proc is missing). Two readings' difference (databaseCpuSince) is what those connections cost,
 * whatever else the server and the machine are doing: a far steadier figure than the machine's on a shared box.
 */
export async function databaseCpu(database: Database): Promise<Map<number, number>> {
  if (database.kind !== 'postgres') return new Map();
  const result = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(database.db);
  const seconds = new Map<number, number>();
  for (const { pid } of result.rows) {
    const cpu = processCpuSeconds(pid);
    if (cpu !== null) seconds.set(pid, cpu);
  }
  return seconds;
}

/** CPU seconds the database's backends spent since `before` (a backend opened since counts from zero). */
export async function databaseCpuSince(database: Database, before: Map<number, number>): Promise<number> {
  let spent = 0;
  for (const [pid, cpu] of await databaseCpu(database)) spent += cpu - (before.get(pid) ?? 0);
  return spent;
}

export const silentLogger = pino({ level: 'silent' });

export interface BenchDatabase {
  kind: DatabaseKind;
  database: Database;
  /** PostgreSQL only: for other processes (a worker of its own). */
  url?: string;
  dispose(): Promise<void>;
}

/** A fresh, migrated database that holds nothing of the user's: a new PostgreSQL database or a temp PGlite folder. */
export async function createBenchDatabase(databaseUrl: string | undefined): Promise<BenchDatabase> {
  if (!databaseUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-bench-'));
    const database = await openDatabase({ dataDir });
    await migrateToLatest(database.db);
    return {
      kind: 'pglite',
      database,
      async dispose() {
        await database.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `switchboard_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString() });
  await migrateToLatest(database.db);
  return {
    kind: 'postgres',
    database,
    url: url.toString(),
    async dispose() {
      await database.close();
      const dropper = new pg.Client({ connectionString: databaseUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => dropper.end());
    },
  };
}

/** The sink process, driven over IPC. */
export class Sink {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<Sink> {
    const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'sink.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ port: number }>((resolve, reject) => {
      child.once('message', (message: { port: number }) => resolve(message));
      child.once('exit', (code) => reject(new Error(`sink exited (${code})`)));
    });
    return new Sink(child, ready.port);
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}${pathname}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private ask<T>(command: object, answer: string, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`sink: no "${answer}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: { type: string }) => {
        if (message.type !== answer) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message as T);
      };
      this.child.on('message', onMessage);
      this.child.send(command);
    });
  }

  reset(): Promise<unknown> {
    return this.ask({ type: 'reset' }, 'reset');
  }

  stats(): Promise<{ received: number; paths: number; maxPerPath: number }> {
    return this.ask({ type: 'stats' }, 'stats');
  }

  /** First arrival time of each webhook-id (event id). */
  async arrivals(): Promise<Map<string, number>> {
    const { arrivals } = await this.ask<{ arrivals: Array<[string, number]> }>({ type: 'arrivals' }, 'arrivals');
    return new Map(arrivals);
  }

  /** Resolves with the sink's clock when it has answered `count` requests since the last reset. */
  async waitFor(count: number, timeoutMs: number): Promise<number> {
    const { at } = await this.ask<{ at: number }>({ type: 'waitFor', count }, 'reached', timeoutMs);
    return at;
  }

  stop(): void {
    this.child.kill();
  }
}

export async function insertWorkspace(database: Database, name: string): Promise<string> {
  const id = randomUUID();
  await database.db.insertInto('workspaces').values({ id, name: `${name}-${id.slice(0, 8)}` }).execute();
  return id;
}

/** `count` ACTIVE webhooks subscribed to `*.*`, targeting `${urlPrefix}${index}` (or urlPrefix itself when count is 1), in one statement each. */
export async function insertWebhooks(database: Database, workspaceId: string, urlPrefix: string, count: number): Promise<string[]> {
  // Sealed with the bench's key, as a server stores every secret: each attempt opens it as in production.
  const secret = createSecretBox(benchEnv().SWITCHBOARD_ENCRYPTION_KEY).seal(`whsec_${randomBytes(32).toString('base64')}`);
  const result = await sql<{ id: string }>`
    INSERT INTO webhooks (id, workspace_id, target_url, operations, secret, status, created_at, updated_at)
    SELECT gen_random_uuid(), ${workspaceId}::uuid,
           ${urlPrefix} || CASE WHEN ${count}::int = 1 THEN '' ELSE i::text END,
           ARRAY['*.*'], ${secret}, 'ACTIVE', now(), now()
    FROM generate_series(1, ${count}::int) AS i
    RETURNING id
  `.execute(database.db);
  await sql`
    INSERT INTO webhook_operations (webhook_id, workspace_id, operation)
    SELECT id, ${workspaceId}::uuid, '*.*' FROM unnest(${result.rows.map((row) => row.id)}::uuid[]) AS id
  `.execute(database.db);
  return result.rows.map((row) => row.id);
}

/** A person record that makes a delivery body of about 1 KB. */
export function sampleRecord(index: number): Record<string, unknown> {
  const id = randomUUID();
  return {
    id,
    name: { firstName: 'Ada', lastName: `Lovelace ${index}` },
    emails: { primaryEmail: `ada${index}@example.com` },
    jobTitle: 'Analyst',
    city: 'London',
    notes: 'x'.repeat(620),
  };
}

export function sampleEvents(workspaceId: string, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, index) => {
    const record = sampleRecord(index);
    return {
      id: randomUUID(),
      workspaceId,
      operation: 'person.created',
      recordId: record.id as string,
      record,
      previousRecord: null,
      updatedFields: null,
      createdAt: new Date(),
    };
  });
}

/** Appends events with fan-out in one transaction; resolves after the commit. */
export async function appendCommitted(database: Database, events: NewEvent[]): Promise<number> {
  return database.db.transaction().execute((trx) => appendEvents(trx, events));
}

/** The environment every bench worker runs with (in this process through benchConfig, or a process of its own). */
export function benchEnv(): Record<string, string> {
  return {
    SWITCHBOARD_ALLOW_PRIVATE_TARGETS: 'true',
    // One key for the workers in this process and the servers of their own: what one seals, the others open.
    SWITCHBOARD_ENCRYPTION_KEY: 'switchboard-bench-encryption-key-0001',
    // Nothing a scenario leaves behind comes due again during the run.
    SWITCHBOARD_RETRY_SCHEDULE: '1h',
  };
}

export function benchConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ...benchEnv(), ...env });
}

export async function startWorker(database: Database, env: Record<string, string> = {}): Promise<DeliveryWorker> {
  const worker = createDeliveryWorker({
    database,
    config: benchConfig(env),
    clock: systemClock,
    logger: silentLogger,
    version: SWITCHBOARD_VERSION,
  });
  await worker.start();
  return worker;
}

/** Ends what a scenario left pending so the next scenario's worker does not pick it up. */
export async function abandonPending(database: Database, workspaceId: string): Promise<void> {
  await sql`
    UPDATE deliveries SET status = 'FAILED', next_attempt_at = NULL, lease_token = NULL
    WHERE workspace_id = ${workspaceId}::uuid AND status = 'PENDING'
  `.execute(database.db);
}

export async function countDeliveries(database: Database, workspaceId: string, status: string): Promise<number> {
  const result = await sql<{ count: string }>`
    SELECT count(*) AS count FROM deliveries WHERE workspace_id = ${workspaceId}::uuid AND status = ${status}
  `.execute(database.db);
  return Number(result.rows[0]?.count ?? 0);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One measured figure of a scenario, with its baseline from the same run. */
export interface Figure {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number };
  /** value / baseline.value (or as the scenario defines it). */
  ratio?: number;
  target?: { text: string; met: boolean };
}

/** How big each scenario runs: 1 for the real benchmark, small for the smoke test. */
export interface Scale {
  pipelineDeliveries: number;
  latencySeconds: number;
  latencyRate: number;
  fanOutWebhooks: number;
  isolationEvents: number;
  isolationTimeoutMs: number;
  /** Stop waiting for the healthy deliveries after this long (failed ones wait an hour for their retry). */
  isolationDeadlineMs: number;
  backlogDeliveries: number;
  backlogWindow: number;
  backlogTail: number;
  writeRequests: number;
  writeWebhooks: number;
}

export const FULL_SCALE: Scale = {
  pipelineDeliveries: 20_000,
  latencySeconds: 10,
  latencyRate: 500,
  fanOutWebhooks: 1_000,
  isolationEvents: 100,
  isolationTimeoutMs: 2_000,
  isolationDeadlineMs: 40_000,
  backlogDeliveries: 1_000_000,
  backlogWindow: 8_000,
  backlogTail: 10_000,
  writeRequests: 300,
  writeWebhooks: 100,
};

export const SMOKE_SCALE: Scale = {
  pipelineDeliveries: 200,
  latencySeconds: 1,
  latencyRate: 50,
  fanOutWebhooks: 20,
  isolationEvents: 3,
  isolationTimeoutMs: 1_000,
  isolationDeadlineMs: 10_000,
  backlogDeliveries: 2_000,
  backlogWindow: 200,
  backlogTail: 500,
  writeRequests: 10,
  writeWebhooks: 5,
};
