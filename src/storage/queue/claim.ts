import { sql, type Kysely } from 'kysely';
import type { DB, WebhookStatus } from '../schema.ts';

/** One claimed delivery with everything needed to send it: the event and the webhook, in one round trip. */
export interface ClaimedDelivery {
  id: string;
  leaseToken: string;
  workspaceId: string;
  webhookId: string;
  eventId: string;
  operation: string;
  /** Attempts made before this one. */
  attemptCount: number;
  /** When the lease ends: after this another worker may claim the delivery. */
  leaseUntil: Date;
  event: {
    record: Record<string, unknown>;
    previousRecord: Record<string, unknown> | null;
    updatedFields: string[] | null;
    createdAt: Date;
  };
  webhook: {
    targetUrl: string;
    status: WebhookStatus;
    deleted: boolean;
    secret: string;
    previousSecret: string | null;
    previousSecretExpiresAt: Date | null;
    /** PER_RECORD ordering. */
    ordered: boolean;
  };
  /** Its event or webhook row no longer exists (the queue's tables carry no foreign keys): it will not be sent. */
  orphaned: boolean;
}

export interface ClaimOptions {
  /** Marks these claims; settling and releasing only touch rows that still carry it. */
  leaseToken: string;
  /** The claiming worker: if it stops heartbeating, its leases are released without waiting for leaseUntil. */
  workerId: string;
  now: Date;
  leaseUntil: Date;
  limit: number;
  /** Webhooks whose endpoint has no free slot in this worker: leave their deliveries to others or later. */
  excludeWebhookIds?: string[];
  /**
   * With exclusions, webhooks are visited in id order starting after this one (the last webhook served by the
   * previous claim), so every webhook with due work gets its turn.
   */
  afterWebhookId?: string | null;
}

/** One row of selectClaimed. */
export interface ClaimRow {
  id: string;
  workspace_id: string;
  webhook_id: string;
  event_id: string;
  operation: string;
  attempt_count: number;
  record: Record<string, unknown>;
  previous_record: Record<string, unknown> | null;
  updated_fields: string[] | null;
  event_created_at: Date | null;
  target_url: string | null;
  webhook_status: WebhookStatus | null;
  webhook_ordered: boolean;
  webhook_deleted_at: Date | null;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Claims up to `limit` due PENDING deliveries for this worker: rows locked by another claim are skipped,
 * and the claim is a lease (next_attempt_at moves to leaseUntil), so a crashed worker's claims come due
 * again when the lease ends.
 */
export async function claimDueDeliveries(db: Kysely<DB>, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  if (options.limit <= 0) return [];
  const exclude = options.excludeWebhookIds ?? [];
  const picked = exclude.length === 0 ? pickOldestDue(options) : pickDuePerWebhook(options, exclude);
  // MATERIALIZED keeps the locking SELECT a single evaluation: an inlined LIMIT … SKIP LOCKED sub-select can be
  // re-run by the planner and claim more rows than asked.
  const result = await sql<ClaimRow>`
    WITH picked AS MATERIALIZED (${picked}),
    claimed AS (
      UPDATE deliveries d
      SET lease_token = ${options.leaseToken}::uuid, leased_by = ${options.workerId}::uuid,
          next_attempt_at = ${options.leaseUntil.toISOString()}::timestamptz
      FROM picked
      WHERE d.id = picked.id
      RETURNING d.id, d.workspace_id, d.webhook_id, d.event_id, d.operation, d.attempt_count
    )
    ${selectClaimed}
  `.execute(db);
  return toClaimedDeliveries(result.rows, options.leaseToken, options.leaseUntil);
}

/**
 * The final SELECT of a statement that claims deliveries: what sending needs, read from a CTE named `claimed`
 * (id, workspace_id, webhook_id, event_id, operation, attempt_count) joined to the events and webhooks.
 */
export const selectClaimed = sql`
  SELECT c.id, c.workspace_id, c.webhook_id, c.event_id, c.operation, c.attempt_count,
         e.record, e.previous_record, e.updated_fields, e.created_at AS event_created_at,
         w.target_url, w.status AS webhook_status, w.ordering = 'PER_RECORD' AS webhook_ordered, w.deleted_at AS webhook_deleted_at,
         w.secret, w.previous_secret, w.previous_secret_expires_at
  FROM claimed c
  -- Outer joins: a row whose event or webhook is gone comes back orphaned and is ended, not leased forever.
  LEFT JOIN events e ON e.id = c.event_id
  LEFT JOIN webhooks w ON w.id = c.webhook_id
`;

/** The rows of selectClaimed as ClaimedDelivery values. */
export function toClaimedDeliveries(rows: ClaimRow[], leaseToken: string, leaseUntil: Date): ClaimedDelivery[] {
  return rows.map((row) => ({
    id: row.id,
    leaseToken,
    workspaceId: row.workspace_id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    operation: row.operation,
    attemptCount: row.attempt_count,
    leaseUntil,
    event: {
      record: row.record,
      previousRecord: row.previous_record,
      updatedFields: row.updated_fields,
      createdAt: new Date(row.event_created_at ?? 0),
    },
    webhook: {
      targetUrl: row.target_url ?? '',
      status: row.webhook_status ?? 'DISABLED',
      ordered: row.webhook_ordered === true,
      deleted: row.webhook_deleted_at !== null,
      secret: row.secret ?? '',
      previousSecret: row.previous_secret,
      previousSecretExpiresAt: row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at) : null,
    },
    orphaned: row.event_created_at === null || row.target_url === null,
  }));
}

/**
 * A condition on the delivery row `alias`: it is not held back by PER_RECORD ordering. A delivery to a PER_RECORD
 * webhook (ordering_key set) goes only when no earlier delivery of the same webhook and record is unsettled (one
 * being sent or waiting for a retry is PENDING) and no earlier event of the record still awaits its fan-out (a
 * concurrent dispatch may not have committed its delivery yet). Rows of NONE webhooks pass on the first test.
 */
export function notHeldBack(alias: string) {
  const column = (name: string) => sql.ref(`${alias}.${name}`);
  return sql`(${column('ordering_key')} IS NULL OR (
    NOT EXISTS (
      SELECT 1 FROM deliveries earlier
      WHERE earlier.webhook_id = ${column('webhook_id')} AND earlier.ordering_key = ${column('ordering_key')}
        AND earlier.status = 'PENDING' AND earlier.ordering_seq < ${column('ordering_seq')}
    )
    AND NOT EXISTS (
      SELECT 1 FROM pending_fanouts waiting JOIN events waiting_event ON waiting_event.id = waiting.event_id
      WHERE waiting_event.record_id = ${column('ordering_key')} AND waiting_event.commit_order < ${column('ordering_seq')}
    )
  ))`;
}

/** The oldest due deliveries of every webhook, in one read of the due index. */
function pickOldestDue(options: ClaimOptions) {
  return sql`
    SELECT d.id FROM deliveries d
    WHERE d.status = 'PENDING' AND d.next_attempt_at <= ${options.now.toISOString()}::timestamptz AND ${notHeldBack('d')}
    ORDER BY d.next_attempt_at
    LIMIT ${options.limit}
    FOR UPDATE SKIP LOCKED
  `;
}

/**
 * Every webhook with PENDING deliveries, in id order after `afterWebhookId`, with when its first one is due:
 * one probe of deliveries_pending_by_webhook per webhook, however many deliveries each has. Exported for the
 * test that checks its plan.
 */
export function pendingWebhooks(afterWebhookId?: string | null) {
  const start = afterWebhookId ? sql`AND webhook_id > ${afterWebhookId}::uuid` : sql``;
  return sql`
    WITH RECURSIVE pending_webhooks(webhook_id, first_due) AS (
      (SELECT webhook_id, next_attempt_at FROM deliveries
       WHERE status = 'PENDING' ${start}
       ORDER BY webhook_id, next_attempt_at LIMIT 1)
      UNION ALL
      SELECT next.webhook_id, next.next_attempt_at FROM pending_webhooks p
      CROSS JOIN LATERAL (
        SELECT d.webhook_id, d.next_attempt_at FROM deliveries d
        WHERE d.status = 'PENDING' AND d.webhook_id > p.webhook_id
        ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1
      ) next
    )
  `;
}

/**
 * The due deliveries of the webhooks not excluded, webhook by webhook (oldest first within each). A webhook
 * whose endpoint hangs piles up due rows at the front of the due index; skipping them there would cost each
 * claim time in proportion to that pile. Here each webhook costs an index probe, whatever its backlog.
 * Exported for the test that checks its plan.
 */
export function pickDuePerWebhook(options: ClaimOptions, exclude: string[]) {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  // The webhook is pinned by two row comparisons rather than webhook_id = …: with an equality the planner may
  // read the due index in order and filter out every other webhook's rows, which is the cost avoided here.
  return sql`
    ${pendingWebhooks(options.afterWebhookId)}
    SELECT due.id FROM pending_webhooks p
    CROSS JOIN LATERAL (
      SELECT d.id FROM deliveries d
      WHERE d.status = 'PENDING'
        AND (d.webhook_id, d.next_attempt_at) >= (p.webhook_id, p.first_due)
        AND (d.webhook_id, d.next_attempt_at) <= (p.webhook_id, ${now})
        AND ${notHeldBack('d')}
      ORDER BY d.webhook_id, d.next_attempt_at
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ) due
    WHERE p.first_due <= ${now} AND p.webhook_id <> ALL(${exclude}::uuid[])
    LIMIT ${options.limit}
  `;
}

/**
 * When the earliest PENDING delivery comes due (retries and expiring leases included), leaving out the
 * given webhooks and deliveries held back by PER_RECORD ordering (they go when the one ahead settles); null if none. With exclusions it reads the first row of each webhook rather than the
 * whole due pile of the excluded ones (see pickDuePerWebhook).
 */
export async function nextDueAt(db: Kysely<DB>, excludeWebhookIds: string[] = []): Promise<Date | null> {
  const result =
    excludeWebhookIds.length === 0
      ? await sql<{ due: Date | string | null }>`
          SELECT min(d.next_attempt_at) AS due FROM deliveries d WHERE d.status = 'PENDING' AND ${notHeldBack('d')}
        `.execute(db)
      : await sql<{ due: Date | string | null }>`
          ${pendingWebhooks()}
          SELECT min(due.next_attempt_at) AS due FROM pending_webhooks p
          CROSS JOIN LATERAL (
            SELECT d.next_attempt_at FROM deliveries d
            WHERE d.status = 'PENDING' AND (d.webhook_id, d.next_attempt_at) >= (p.webhook_id, p.first_due)
              AND (d.webhook_id, d.next_attempt_at) <= (p.webhook_id, 'infinity'::timestamptz) AND ${notHeldBack('d')}
            ORDER BY d.webhook_id, d.next_attempt_at LIMIT 1
          ) due
          WHERE p.webhook_id <> ALL(${excludeWebhookIds}::uuid[])
        `.execute(db);
  const due = result.rows[0]?.due;
  return due ? new Date(due) : null;
}
