import { sql, type Kysely } from 'kysely';
import type { DB } from '../schema.ts';
import { DELIVERY_CHANNEL, NEW_DELIVERIES_ONLY } from './notify.ts';

/** Adds (or brings back) a worker's row, seen now. */
export async function registerWorker(db: Kysely<DB>, workerId: string, now: Date): Promise<void> {
  await sql`
    INSERT INTO worker_heartbeats (worker_id, started_at, last_seen_at)
    VALUES (${workerId}::uuid, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz)
    ON CONFLICT (worker_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
  `.execute(db);
}

export interface Heartbeat {
  /** False when the row was gone: another worker took this one for dead and gave its leases back. */
  alive: boolean;
  /** Other workers not seen since the cutoff. */
  stale: string[];
}

/** Marks the worker seen now and lists the workers silent since `staleBefore`, in one statement. */
export async function heartbeat(db: Kysely<DB>, workerId: string, now: Date, staleBefore: Date): Promise<Heartbeat> {
  const result = await sql<{ alive: boolean; stale: string[] | null }>`
    WITH seen AS (
      UPDATE worker_heartbeats SET last_seen_at = ${now.toISOString()}::timestamptz
      WHERE worker_id = ${workerId}::uuid
      RETURNING worker_id
    )
    SELECT EXISTS (SELECT 1 FROM seen) AS alive,
           ARRAY(SELECT worker_id FROM worker_heartbeats
                 WHERE last_seen_at < ${staleBefore.toISOString()}::timestamptz AND worker_id <> ${workerId}::uuid) AS stale
  `.execute(db);
  const row = result.rows[0];
  return { alive: row?.alive ?? false, stale: row?.stale ?? [] };
}

/**
 * Takes the given workers for dead if they are still silent since `staleBefore` (another worker may have done it
 * already, or one may have come back): removes their rows and gives every delivery they had leased back to the
 * queue, due now, in one statement, and wakes the workers when there were any. Returns the deliveries released.
 */
export async function releaseDeadWorkers(db: Kysely<DB>, workerIds: string[], now: Date, staleBefore: Date): Promise<number> {
  if (workerIds.length === 0) return 0;
  const result = await sql<{ released: number }>`
    WITH dead AS (
      DELETE FROM worker_heartbeats
      WHERE worker_id = ANY(${workerIds}::uuid[]) AND last_seen_at < ${staleBefore.toISOString()}::timestamptz
      RETURNING worker_id
    ),
    released AS (
      UPDATE deliveries d
      SET lease_token = NULL, leased_by = NULL, next_attempt_at = ${now.toISOString()}::timestamptz
      WHERE d.status = 'PENDING' AND d.leased_by = ANY(ARRAY(SELECT worker_id FROM dead))
      RETURNING d.id
    )
    SELECT count(*)::int AS released,
           CASE WHEN count(*) > 0 THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_DELIVERIES_ONLY}) END AS notified
    FROM released
  `.execute(db);
  return result.rows[0]?.released ?? 0;
}

/** Every registered worker, live or not. */
export async function listWorkers(db: Kysely<DB>): Promise<string[]> {
  const rows = await db.selectFrom('worker_heartbeats').select('worker_id').execute();
  return rows.map((row) => row.worker_id);
}

/** Removes a worker's row on a graceful stop (its leases were given back already). */
export async function unregisterWorker(db: Kysely<DB>, workerId: string): Promise<void> {
  await sql`DELETE FROM worker_heartbeats WHERE worker_id = ${workerId}::uuid`.execute(db);
}
