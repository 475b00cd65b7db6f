import { sql, type Kysely } from 'kysely';
import { appendDeliveryFailedEvents, disableWebhooksAnnounced } from '../operational-events.ts';
import type { DB, DeliveryStatus } from '../schema.ts';

/** The result of one attempt, to be stored with the delivery's new state. */
export interface SettledAttempt {
  deliveryId: string;
  leaseToken: string;
  /** 1-based attempt number. */
  number: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  requestHeaders: Record<string, string> | null;
  /** The delivery's status after this attempt. */
  status: DeliveryStatus;
  /** When the next attempt is due (PENDING only). */
  nextAttemptAt: Date | null;
}

/**
 * Stores a batch of attempts and moves their deliveries on, in one statement. Rows whose lease was lost
 * (another worker claimed them after it ended) are left alone. Returns the ids that were settled.
 *
 * A delivery that ends FAILED here gets its delivery.failed event (storage/operational-events.ts) in the same
 * transaction; a batch without one stays a single statement.
 */
export async function settleAttempts(db: Kysely<DB>, attempts: SettledAttempt[], now: Date): Promise<Set<string>> {
  if (attempts.length === 0) return new Set();
  if (!attempts.some((attempt) => attempt.status === 'FAILED')) return settleStatement(db, attempts, now);
  return db.transaction().execute(async (trx) => {
    const settled = await settleStatement(trx, attempts, now);
    const failures = attempts.filter((attempt) => attempt.status === 'FAILED' && settled.has(attempt.deliveryId));
    await appendDeliveryFailedEvents(trx, failures, now);
    return settled;
  });
}

async function settleStatement(db: Kysely<DB>, attempts: SettledAttempt[], now: Date): Promise<Set<string>> {
  const result = await sql<{ id: string }>`
    WITH input AS (
      SELECT * FROM unnest(
        ${attempts.map((a) => a.deliveryId)}::uuid[],
        ${attempts.map((a) => a.leaseToken)}::uuid[],
        ${attempts.map((a) => a.number)}::int[],
        ${attempts.map((a) => a.startedAt.toISOString())}::timestamptz[],
        ${attempts.map((a) => Math.round(a.durationMs))}::int[],
        ${attempts.map((a) => a.statusCode)}::int[],
        ${attempts.map((a) => a.responseBody)}::text[],
        ${attempts.map((a) => a.error)}::text[],
        ${attempts.map((a) => (a.requestHeaders ? JSON.stringify(a.requestHeaders) : null))}::json[],
        ${attempts.map((a) => a.status)}::text[],
        ${attempts.map((a) => a.nextAttemptAt?.toISOString() ?? null)}::timestamptz[]
      ) AS i(delivery_id, lease_token, number, started_at, duration_ms, status_code, response_body, error,
             request_headers, status, next_attempt_at)
    ),
    updated AS (
      UPDATE deliveries d
      SET status = i.status, attempt_count = i.number, next_attempt_at = i.next_attempt_at,
          lease_token = NULL, leased_by = NULL, last_attempt_at = i.started_at, updated_at = ${now.toISOString()}::timestamptz
      FROM input i
      WHERE d.id = i.delivery_id AND d.lease_token = i.lease_token
      RETURNING d.id, d.workspace_id, d.webhook_id, i.lease_token
    ),
    stored AS (
      INSERT INTO delivery_attempts (id, delivery_id, workspace_id, webhook_id, number, started_at, duration_ms,
                                     status_code, response_body, error, request_headers)
      SELECT gen_random_uuid(), i.delivery_id, u.workspace_id, u.webhook_id, i.number, i.started_at, i.duration_ms,
             i.status_code, i.response_body, i.error, i.request_headers
      FROM input i JOIN updated u ON u.id = i.delivery_id AND u.lease_token = i.lease_token
    )
    SELECT id FROM updated
  `.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

/** Ends deliveries that will not be attempted (their webhook is disabled or deleted), without an attempt. */
export async function failWithoutAttempt(db: Kysely<DB>, leases: Lease[], now: Date): Promise<void> {
  if (leases.length === 0) return;
  await sql`
    UPDATE deliveries d
    SET status = 'FAILED', next_attempt_at = NULL, lease_token = NULL, leased_by = NULL, updated_at = ${now.toISOString()}::timestamptz
    FROM unnest(${leases.map((l) => l.deliveryId)}::uuid[], ${leases.map((l) => l.leaseToken)}::uuid[]) AS l(id, token)
    WHERE d.id = l.id AND d.lease_token = l.token
  `.execute(db);
}

export interface Lease {
  deliveryId: string;
  leaseToken: string;
}

/** Gives claimed, unsent deliveries back to the queue at once (graceful stop), due at `dueAt`. */
export async function releaseLeases(db: Kysely<DB>, leases: Lease[], dueAt: Date): Promise<void> {
  if (leases.length === 0) return;
  await sql`
    UPDATE deliveries d
    SET lease_token = NULL, leased_by = NULL, next_attempt_at = ${dueAt.toISOString()}::timestamptz
    FROM unnest(${leases.map((l) => l.deliveryId)}::uuid[], ${leases.map((l) => l.leaseToken)}::uuid[]) AS l(id, token)
    WHERE d.id = l.id AND d.lease_token = l.token AND d.status = 'PENDING'
  `.execute(db);
}

/** Clears failing_since for webhooks that just had a success. */
export async function markWebhooksHealthy(db: Kysely<DB>, webhookIds: string[]): Promise<void> {
  if (webhookIds.length === 0) return;
  await sql`
    UPDATE webhooks SET failing_since = NULL
    WHERE id = ANY(${[...webhookIds].sort()}::uuid[]) AND failing_since IS NOT NULL
  `.execute(db);
}

/**
 * Records failures: failing_since is set on the first failure after a success (or ever); active webhooks
 * failing since `disableBefore` or earlier become DISABLED (FAILING_5_DAYS) with their webhook.disabled events.
 * Returns the ids disabled now. Only when some webhook is due does disabling open a transaction: the common
 * failure costs the one statement.
 */
export async function markWebhooksFailing(
  db: Kysely<DB>,
  failures: Array<{ webhookId: string; at: Date }>,
  disableBefore: Date,
  now: Date,
): Promise<string[]> {
  if (failures.length === 0) return [];
  const firstFailure = new Map<string, Date>();
  for (const { webhookId, at } of failures) {
    const known = firstFailure.get(webhookId);
    if (!known || at < known) firstFailure.set(webhookId, at);
  }
  // Sorted ids: concurrent workers lock webhook rows in the same order, so they cannot deadlock.
  const ids = [...firstFailure.keys()].sort();
  // The UPDATE's new failing_since is not visible to the rest of its statement: the due check reads RETURNING.
  const due = await sql<{ id: string }>`
    WITH failures AS (
      SELECT * FROM unnest(${ids}::uuid[], ${ids.map((id) => firstFailure.get(id)!.toISOString())}::timestamptz[]) AS f(id, at)
    ),
    marked AS (
      UPDATE webhooks w SET failing_since = f.at
      FROM failures f
      WHERE w.id = f.id AND w.failing_since IS NULL
      RETURNING w.id, w.failing_since
    )
    SELECT w.id FROM webhooks w LEFT JOIN marked m ON m.id = w.id
    WHERE w.id = ANY(${ids}::uuid[]) AND w.status = 'ACTIVE'
      AND coalesce(m.failing_since, w.failing_since) <= ${disableBefore.toISOString()}::timestamptz
  `.execute(db);
  if (due.rows.length === 0) return [];
  return disableWebhooksAnnounced(db, due.rows.map((row) => row.id), 'FAILING_5_DAYS', now, { failingSinceAtOrBefore: disableBefore });
}

/** Disables webhooks (a 410 Gone answer) with their webhook.disabled events. Returns the ids that were active. */
export async function disableWebhooks(db: Kysely<DB>, webhookIds: string[], now: Date): Promise<string[]> {
  return disableWebhooksAnnounced(db, webhookIds, 'GONE_410', now);
}
