import { sql, type Kysely } from 'kysely';
import type { DB } from '../schema.ts';
import { selectClaimed, toClaimedDeliveries, type ClaimedDelivery, type ClaimRow } from './claim.ts';
import { DELIVERY_CHANNEL, NEW_DELIVERIES_ONLY } from './notify.ts';

/** Deliveries a dispatch may hand straight to the calling worker, leased as a claim would lease them. */
export interface DispatchClaim {
  leaseToken: string;
  workerId: string;
  leaseUntil: Date;
  /** At most this many of the new rows, oldest event first. */
  limit: number;
  /** At most this many per webhook (its endpoint's slots). */
  perWebhookLimit: number;
  /** Webhooks whose endpoint holds some already: at most the room each has left instead of perWebhookLimit. */
  roomLeft?: Map<string, number>;
  /** Webhooks whose endpoint is full in this worker: their rows are left for a later claim. */
  excludeWebhookIds: string[];
}

export interface DispatchResult {
  fanouts: number;
  deliveries: number;
  /** The new rows leased to the caller (empty without a DispatchClaim). */
  claimed: ClaimedDelivery[];
}

/**
 * Turns up to `limit` pending fan-outs (oldest first) into their PENDING delivery rows, in one statement: the
 * fan-out rows are deleted by the statement that inserts their deliveries, so a crash loses neither and
 * repeats neither. Fan-outs locked by another worker are skipped.
 *
 * With `claim`, the worker's free slots are filled from the new rows as they are written: they are inserted
 * already leased and returned ready to send, so fresh deliveries cost no separate claim (an UPDATE of every
 * row, the costliest statement of the pipeline). Rows beyond the free slots are left for any worker to claim, and
 * only then are the workers woken.
 */
export async function dispatchFanouts(db: Kysely<DB>, limit: number, claim?: DispatchClaim): Promise<DispatchResult> {
  const leaseToken = claim?.leaseToken ?? null;
  const leaseUntil = claim?.leaseUntil.toISOString() ?? null;
  const workerId = claim?.workerId ?? null;
  const result = await sql<ClaimRow & { fanouts: number; deliveries: number }>`
    WITH picked AS MATERIALIZED (
      SELECT event_id FROM pending_fanouts ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ),
    -- MATERIALIZED and ANY(ARRAY(…)): the locking pick runs once (inlined, the planner re-ran it for every row it
    -- compared), and the delete probes the primary key for those rows only.
    taken AS (
      DELETE FROM pending_fanouts
      WHERE event_id = ANY(ARRAY(SELECT event_id FROM picked))
      RETURNING event_id, webhook_ids, filtered_webhook_ids, created_at
    ),
    -- Screened-out events are tallied here, off the write path: a write never waits on a shared counter row.
    tallied AS (
      INSERT INTO webhook_filtered_counts (webhook_id, hour, filtered)
      SELECT w.id, date_trunc('hour', t.created_at), count(*)
      FROM taken t
      CROSS JOIN LATERAL unnest(t.filtered_webhook_ids) AS screened(webhook_id)
      JOIN webhooks w ON w.id = screened.webhook_id
      GROUP BY 1, 2
      -- A fixed order: concurrent dispatches lock the tally rows alike and cannot deadlock.
      ORDER BY 1, 2
      ON CONFLICT (webhook_id, hour) DO UPDATE SET filtered = webhook_filtered_counts.filtered + EXCLUDED.filtered
    ),
    matched AS (
      SELECT e.workspace_id, w.id AS webhook_id, e.id AS event_id, e.operation, e.created_at,
             CASE WHEN w.ordering = 'PER_RECORD' THEN e.record_id END AS ordering_key,
             CASE WHEN w.ordering = 'PER_RECORD' THEN e.commit_order END AS ordering_seq,
             w.id = ANY(${claim?.excludeWebhookIds ?? []}::uuid[])
               OR row_number() OVER (PARTITION BY w.id ORDER BY e.created_at, e.id)
                  > COALESCE(room.room_left, ${claim?.perWebhookLimit ?? 0})
               AS held_back
      FROM taken t
      JOIN events e ON e.id = t.event_id
      CROSS JOIN LATERAL unnest(t.webhook_ids) AS matched(webhook_id)
      -- A webhook row removed since the write (not a soft delete) has nothing left to deliver to.
      JOIN webhooks w ON w.id = matched.webhook_id
      LEFT JOIN unnest(${[...(claim?.roomLeft?.keys() ?? [])]}::uuid[], ${[...(claim?.roomLeft?.values() ?? [])]}::int[])
        AS room(webhook_id, room_left) ON room.webhook_id = w.id
    ),
    created AS (
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, lease_token,
                              leased_by, ordering_key, ordering_seq, created_at, updated_at)
      SELECT gen_random_uuid(), workspace_id, webhook_id, event_id, operation, 'PENDING',
             CASE WHEN leased THEN ${leaseUntil}::timestamptz ELSE created_at END,
             CASE WHEN leased THEN ${leaseToken}::uuid END, CASE WHEN leased THEN ${workerId}::uuid END,
             ordering_key, ordering_seq, created_at, created_at
      FROM (
        -- A PER_RECORD delivery is never leased here: a claim checks that it is the next of its record.
        SELECT m.*, NOT held_back AND ordering_key IS NULL
               AND row_number() OVER (PARTITION BY held_back ORDER BY created_at, event_id, webhook_id) <= ${claim?.limit ?? 0}
               AS leased
        FROM matched m
      ) ranked
      ON CONFLICT (event_id, webhook_id) DO NOTHING
      RETURNING id, workspace_id, webhook_id, event_id, operation, attempt_count, lease_token
    ),
    claimed AS (SELECT * FROM created WHERE lease_token IS NOT NULL),
    counted AS (
      SELECT (SELECT count(*) FROM taken)::int AS fanouts, count(*)::int AS deliveries,
             -- Rows left unleased are every worker's to claim: wake the idle ones.
             CASE WHEN count(*) FILTER (WHERE lease_token IS NULL) > 0
                  THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_DELIVERIES_ONLY}) END AS notified
      FROM created
    )
    SELECT counted.fanouts, counted.deliveries, sent.*
    FROM counted LEFT JOIN (${selectClaimed}) sent ON true
  `.execute(db);
  const first = result.rows[0] ?? { fanouts: 0, deliveries: 0 };
  return {
    fanouts: first.fanouts,
    deliveries: first.deliveries,
    // With nothing leased, the LEFT JOIN's one row carries only the counts.
    claimed: claim
      ? toClaimedDeliveries(result.rows.filter((row) => row.id !== null), claim.leaseToken, claim.leaseUntil)
      : [],
  };
}

/** Runs dispatchFanouts until no fan-out is left (a process without a worker, tests); returns the deliveries created. */
export async function dispatchAllFanouts(db: Kysely<DB>): Promise<number> {
  let deliveries = 0;
  for (;;) {
    const done = await dispatchFanouts(db, 1_000);
    deliveries += done.deliveries;
    if (done.fanouts === 0) return deliveries;
  }
}
