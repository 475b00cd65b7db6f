import { sql, type Kysely } from 'kysely';
import type { DB, DeliveryStatus } from './schema.ts';
import { DELIVERY_CHANNEL, NEW_DELIVERIES_ONLY } from './queue/index.ts';

export interface DeliveryRow {
  id: string;
  workspaceId: string;
  webhookId: string;
  eventId: string;
  operation: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  /** PER_RECORD ordering: the earliest unsettled delivery of the same record that this PENDING one waits for. */
  heldBehind: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** A worker holds it: an attempt is under way until nextAttemptAt (the lease's end). */
  leaseHeld: boolean;
}

export interface AttemptRow {
  id: string;
  deliveryId: string;
  number: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  requestHeaders: Record<string, string> | null;
}

export interface EventRow {
  id: string;
  workspaceId: string;
  operation: string;
  record: Record<string, unknown>;
  previousRecord: Record<string, unknown> | null;
  updatedFields: string[] | null;
  createdAt: Date;
}

const deliveryColumns = [
  'deliveries.id',
  'deliveries.workspace_id as workspaceId',
  'deliveries.webhook_id as webhookId',
  'deliveries.event_id as eventId',
  'deliveries.operation',
  'deliveries.status',
  'deliveries.attempt_count as attemptCount',
  'deliveries.next_attempt_at as nextAttemptAt',
  'deliveries.last_attempt_at as lastAttemptAt',
  'deliveries.created_at as createdAt',
  'deliveries.updated_at as updatedAt',
  sql<string | null>`CASE WHEN deliveries.status = 'PENDING' AND deliveries.ordering_key IS NOT NULL THEN (
    SELECT earlier.id FROM deliveries earlier
    WHERE earlier.webhook_id = deliveries.webhook_id AND earlier.ordering_key = deliveries.ordering_key
      AND earlier.status = 'PENDING' AND earlier.ordering_seq < deliveries.ordering_seq
    ORDER BY earlier.ordering_seq LIMIT 1
  ) END`.as('heldBehind'),
  sql<boolean>`deliveries.lease_token IS NOT NULL`.as('leaseHeld'),
] as const;

/** Position in the newest-first order of one webhook's deliveries. */
export interface DeliveryPosition {
  createdAt: Date;
  id: string;
}

/** Which of one webhook's deliveries the log shows; every part is optional but the webhook. */
export interface DeliveryFilter {
  workspaceId: string;
  webhookId: string;
  status?: DeliveryStatus;
  operation?: string;
  eventId?: string;
  recordId?: string;
  /** Created at or after. */
  createdAfter?: Date;
  /** Created before. */
  createdBefore?: Date;
}

function filteredDeliveries(db: Kysely<DB>, filter: DeliveryFilter) {
  let query = db
    .selectFrom('deliveries')
    .where('deliveries.workspace_id', '=', filter.workspaceId)
    .where('deliveries.webhook_id', '=', filter.webhookId);
  if (filter.status) query = query.where('deliveries.status', '=', filter.status);
  if (filter.operation) query = query.where('deliveries.operation', '=', filter.operation);
  if (filter.eventId) query = query.where('deliveries.event_id', '=', filter.eventId);
  if (filter.recordId) {
    const recordId = filter.recordId;
    query = query.where('deliveries.event_id', 'in', (eb) =>
      eb.selectFrom('events').select('events.id').where('events.workspace_id', '=', filter.workspaceId).where('events.record_id', '=', recordId),
    );
  }
  if (filter.createdAfter) query = query.where('deliveries.created_at', '>=', filter.createdAfter);
  if (filter.createdBefore) query = query.where('deliveries.created_at', '<', filter.createdBefore);
  return query;
}

/** The statement that reads one page of the log (exported so its plan can be checked). */
export function deliveryPageQuery(db: Kysely<DB>, filter: DeliveryFilter & { after?: DeliveryPosition; limit: number }) {
  let query = filteredDeliveries(db, filter).select(deliveryColumns);
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where((eb) =>
      eb.or([
        eb('deliveries.created_at', '<', createdAt),
        eb.and([eb('deliveries.created_at', '=', createdAt), eb('deliveries.id', '<', id)]),
      ]),
    );
  }
  return query.orderBy('deliveries.created_at', 'desc').orderBy('deliveries.id', 'desc').limit(filter.limit);
}

export async function listDeliveries(
  db: Kysely<DB>,
  filter: DeliveryFilter & { after?: DeliveryPosition; limit: number },
): Promise<DeliveryRow[]> {
  return deliveryPageQuery(db, filter).execute();
}

export async function countDeliveries(db: Kysely<DB>, filter: DeliveryFilter): Promise<number> {
  const query = filteredDeliveries(db, filter).select((eb) => eb.fn.countAll<string>().as('count'));
  return Number((await query.executeTakeFirstOrThrow()).count);
}

export async function findDelivery(db: Kysely<DB>, workspaceId: string, id: string): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('deliveries')
    .select(deliveryColumns)
    .where('deliveries.workspace_id', '=', workspaceId)
    .where('deliveries.id', '=', id)
    .executeTakeFirst();
}

/** Attempts of these deliveries, oldest first within each delivery. */
export async function listAttempts(db: Kysely<DB>, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('delivery_attempts')
    .select([
      'id',
      'delivery_id as deliveryId',
      'number',
      'started_at as startedAt',
      'duration_ms as durationMs',
      'status_code as statusCode',
      'response_body as responseBody',
      'error',
      'request_headers as requestHeaders',
    ])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('delivery_id')
    .orderBy('number')
    .execute();
}

/** An event row as EventRow names its fields: read by the delivery log and by replay alike. */
const EVENT_COLUMNS = [
  'id',
  'workspace_id as workspaceId',
  'operation',
  'record',
  'previous_record as previousRecord',
  'updated_fields as updatedFields',
  'created_at as createdAt',
] as const;

export async function findEvents(db: Kysely<DB>, workspaceId: string, eventIds: string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', eventIds)
    .execute();
}

/**
 * Makes deliveries due now whatever their status, and wakes the workers. Clearing the lease means a worker
 * still holding an old claim cannot settle over the new attempt.
 */
export async function requeueDeliveries(
  db: Kysely<DB>,
  filter: { workspaceId: string; deliveryId?: string; webhookId?: string; onlyFailedSince?: Date },
  now: Date,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('deliveries')
      .set({ status: 'PENDING', next_attempt_at: now, lease_token: null, leased_by: null, updated_at: now })
      .where('workspace_id', '=', filter.workspaceId);
    if (filter.deliveryId) query = query.where('id', '=', filter.deliveryId);
    if (filter.webhookId) query = query.where('webhook_id', '=', filter.webhookId);
    if (filter.onlyFailedSince) query = query.where('status', '=', 'FAILED').where('created_at', '>=', filter.onlyFailedSince);
    const result = await query.executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) await sql`SELECT pg_notify(${DELIVERY_CHANNEL}, ${NEW_DELIVERIES_ONLY})`.execute(trx);
    return count;
  });
}

export interface WebhookStatsRow {
  sent: number;
  succeeded: number;
  failed: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** Events that matched the operations but not the webhook's filter or fields, counted by the hour from `since`'s. */
  filtered: number;
}

/** What webhookAttemptStats and webhookAttemptSeries compute over a set of attempts (count(*) comes back as text). */
interface AttemptAggregates {
  sent: string;
  succeeded: string;
  p50: number | null;
  p95: number | null;
  last_success: Date | null;
  last_failure: Date | null;
}

/** The select list of AttemptAggregates over delivery_attempts' columns: an attempt succeeded on a 2xx answer. */
const ATTEMPT_AGGREGATES = sql`count(*) AS sent,
           count(*) FILTER (WHERE status_code BETWEEN 200 AND 299) AS succeeded,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
           max(started_at) FILTER (WHERE status_code BETWEEN 200 AND 299) AS last_success,
           max(started_at) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299) AS last_failure`;

function toStats(row: AttemptAggregates): WebhookStatsRow {
  const sent = Number(row.sent);
  const succeeded = Number(row.succeeded);
  return {
    sent, succeeded, failed: sent - succeeded, p50LatencyMs: row.p50, p95LatencyMs: row.p95,
    lastSuccessAt: row.last_success, lastFailureAt: row.last_failure, filtered: 0,
  };
}

/** Attempt figures of one webhook since a time: an attempt succeeded when it got a 2xx answer. */
export async function webhookAttemptStats(db: Kysely<DB>, webhookId: string, since: Date): Promise<WebhookStatsRow> {
  const result = await sql<AttemptAggregates>`
    SELECT ${ATTEMPT_AGGREGATES}
    FROM delivery_attempts
    WHERE webhook_id = ${webhookId} AND started_at >= ${since}
  `.execute(db);
  const filtered = await sql<{ filtered: string | null }>`
    SELECT sum(filtered) AS filtered FROM webhook_filtered_counts
    WHERE webhook_id = ${webhookId} AND hour >= date_trunc('hour', ${since}::timestamptz)
  `.execute(db);
  const row = result.rows[0];
  return { ...(row ? toStats(row) : emptyStats()), filtered: Number(filtered.rows[0]?.filtered ?? 0) };
}

/** Removes the screened-out tallies of hours that ended before `cutoff`. */
export async function deleteFilteredCountsBefore(db: Kysely<DB>, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('webhook_filtered_counts')
    .where('hour', '<', new Date(cutoff.getTime() - 3_600_000))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface QueueFigures {
  pending: number;
  oldestPendingCreatedAt: Date | null;
  awaitingFanout: number;
}

export async function queueFigures(db: Kysely<DB>): Promise<QueueFigures> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => [eb.fn.countAll<string>().as('pending'), eb.fn.min('created_at').as('oldest')])
    .where('status', '=', 'PENDING')
    .executeTakeFirstOrThrow();
  const fanouts = await db.selectFrom('pending_fanouts').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return {
    pending: Number(row.pending),
    oldestPendingCreatedAt: (row.oldest as Date | null) ?? null,
    awaitingFanout: Number(fanouts.count),
  };
}

/**
 * Removes up to `batchSize` events older than `before` whose deliveries are all settled, with their deliveries
 * and those deliveries' attempts (the queue's tables carry no foreign keys: migration 013). Small batches keep
 * each transaction short, so delivery is never blocked behind retention.
 */
export async function deleteSettledEventsBefore(db: Kysely<DB>, before: Date, batchSize: number): Promise<number> {
  const result = await sql<{ deleted: number }>`
    WITH gone AS (
      DELETE FROM events
      WHERE id IN (
        SELECT e.id FROM events e
        WHERE e.created_at < ${before}
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'PENDING')
          AND NOT EXISTS (SELECT 1 FROM pending_fanouts f WHERE f.event_id = e.id)
        ORDER BY e.created_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id
    ),
    gone_deliveries AS (
      DELETE FROM deliveries d USING gone WHERE d.event_id = gone.id RETURNING d.id
    ),
    gone_attempts AS (
      DELETE FROM delivery_attempts a USING gone_deliveries g WHERE a.delivery_id = g.id
    )
    SELECT count(*)::int AS deleted FROM gone
  `.execute(db);
  return result.rows[0]?.deleted ?? 0;
}

/** Where a scan of a workspace's events stands: the last event read, in (createdAt, id) order. */
export interface EventPosition {
  createdAt: Date;
  id: string;
}

/**
 * The workspace's events in [since, until), oldest first, after `after`, at most `limit`: a range read of
 * events_by_workspace.
 */
export async function listEventsBetween(
  db: Kysely<DB>,
  query: { workspaceId: string; since: Date; until: Date; after?: EventPosition; limit: number },
): Promise<EventRow[]> {
  let select = db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('workspace_id', '=', query.workspaceId)
    .where('created_at', '>=', query.since)
    .where('created_at', '<', query.until);
  if (query.after) {
    const { createdAt, id } = query.after;
    select = select.where((eb) => eb.or([eb('created_at', '>', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '>', id)])]));
  }
  return select.orderBy('created_at').orderBy('id').limit(query.limit).execute();
}

/**
 * Queues one delivery of each event to the webhook, due at `now` plus one microsecond per place in the list, so
 * a claim (which takes the earliest due first) sends them in the order given. An event the webhook already has a
 * settled delivery of is queued again on that row; one still PENDING is left as it is. Returns how many were queued.
 */
export async function queueReplayDeliveries(
  db: Kysely<DB>,
  webhook: { workspaceId: string; webhookId: string },
  events: Array<{ id: string; operation: string }>,
  now: Date,
  /** Places already given by earlier calls of the same replay. */
  placesBefore = 0,
): Promise<number> {
  if (events.length === 0) return 0;
  const result = await sql<{ id: string }>`
    WITH queued AS (
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, created_at, updated_at,
                              ordering_key, ordering_seq)
      SELECT gen_random_uuid(), ${webhook.workspaceId}::uuid, ${webhook.webhookId}::uuid, e.event_id, e.operation, 'PENDING',
             ${now.toISOString()}::timestamptz + (e.place + ${placesBefore}) * interval '1 microsecond', ${now.toISOString()}::timestamptz,
             ${now.toISOString()}::timestamptz,
             CASE WHEN w.ordering = 'PER_RECORD' THEN ev.record_id END, CASE WHEN w.ordering = 'PER_RECORD' THEN ev.commit_order END
      FROM unnest(${events.map((event) => event.id)}::uuid[], ${events.map((event) => event.operation)}::text[])
           WITH ORDINALITY AS e(event_id, operation, place)
      JOIN events ev ON ev.id = e.event_id
      JOIN webhooks w ON w.id = ${webhook.webhookId}::uuid
      ORDER BY e.place
      -- Retention skips a locked event: none is removed under the delivery queued for it here (no foreign key does it).
      FOR KEY SHARE OF ev
      ON CONFLICT (event_id, webhook_id) DO UPDATE
      SET status = 'PENDING', next_attempt_at = EXCLUDED.next_attempt_at, lease_token = NULL, updated_at = EXCLUDED.updated_at
      WHERE deliveries.status <> 'PENDING'
      RETURNING id
    )
    SELECT count(*)::int AS queued, CASE WHEN count(*) > 0 THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_DELIVERIES_ONLY}) END AS notified
    FROM queued
  `.execute(db);
  return (result.rows[0] as unknown as { queued: number } | undefined)?.queued ?? 0;
}

export interface SeriesPointRow {
  /** Start of the bucket. */
  start: Date;
  succeeded: number;
  failed: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
}

export interface WebhookSeriesRow {
  summary: WebhookStatsRow;
  /** Only the buckets that had attempts, oldest first. */
  points: SeriesPointRow[];
}

/**
 * Attempt figures of several webhooks of one workspace since a time, per bucket of `bucketSeconds` and over the
 * whole window, in one statement (grouping sets) read through delivery_attempts_by_webhook.
 */
export async function webhookAttemptSeries(
  db: Kysely<DB>,
  workspaceId: string,
  webhookIds: string[],
  since: Date,
  bucketSeconds: number,
): Promise<Map<string, WebhookSeriesRow>> {
  const series = new Map<string, WebhookSeriesRow>();
  if (webhookIds.length === 0) return series;
  const result = await sql<AttemptAggregates & { webhook_id: string; bucket: number | null; whole: number }>`
    SELECT webhook_id, bucket, GROUPING(bucket) AS whole, ${ATTEMPT_AGGREGATES}
    FROM (
      SELECT webhook_id, status_code, duration_ms, started_at,
             floor(extract(epoch FROM started_at) / ${bucketSeconds})::bigint AS bucket
      FROM delivery_attempts
      WHERE workspace_id = ${workspaceId} AND webhook_id = ANY(${webhookIds}::uuid[]) AND started_at >= ${since}
    ) AS attempts
    GROUP BY GROUPING SETS ((webhook_id, bucket), (webhook_id))
    ORDER BY webhook_id, bucket
  `.execute(db);
  const entry = (webhookId: string): WebhookSeriesRow => {
    let found = series.get(webhookId);
    if (!found) {
      found = { summary: emptyStats(), points: [] };
      series.set(webhookId, found);
    }
    return found;
  };
  for (const row of result.rows) {
    const target = entry(row.webhook_id);
    const stats = toStats(row);
    if (Number(row.whole) === 1) {
      target.summary = { ...stats, filtered: target.summary.filtered };
    } else {
      const { succeeded, failed, p50LatencyMs, p95LatencyMs } = stats;
      target.points.push({ start: new Date(Number(row.bucket) * bucketSeconds * 1000), succeeded, failed, p50LatencyMs, p95LatencyMs });
    }
  }
  // Events the webhooks' screens turned away, over the same window: one more statement for all of them.
  const filtered = await sql<{ webhook_id: string; filtered: string }>`
    SELECT webhook_id, sum(filtered) AS filtered FROM webhook_filtered_counts
    WHERE webhook_id = ANY(${webhookIds}::uuid[]) AND hour >= date_trunc('hour', ${since}::timestamptz)
    GROUP BY webhook_id
  `.execute(db);
  for (const row of filtered.rows) entry(row.webhook_id).summary.filtered = Number(row.filtered);
  return series;
}

export function emptyStats(): WebhookStatsRow {
  return { sent: 0, succeeded: 0, failed: 0, p50LatencyMs: null, p95LatencyMs: null, lastSuccessAt: null, lastFailureAt: null, filtered: 0 };
}

/** The newest delivery of each of these webhooks of one workspace, each an index lookup. */
export async function latestDeliveries(db: Kysely<DB>, workspaceId: string, webhookIds: string[]): Promise<DeliveryRow[]> {
  if (webhookIds.length === 0) return [];
  const result = await sql<DeliveryRow>`
    SELECT latest.* FROM unnest(${webhookIds}::uuid[]) AS listed(id)
    CROSS JOIN LATERAL (
      SELECT id, workspace_id AS "workspaceId", webhook_id AS "webhookId", event_id AS "eventId", operation, status,
             attempt_count AS "attemptCount", next_attempt_at AS "nextAttemptAt", last_attempt_at AS "lastAttemptAt",
             created_at AS "createdAt", updated_at AS "updatedAt", lease_token IS NOT NULL AS "leaseHeld"
      FROM deliveries
      WHERE deliveries.webhook_id = listed.id AND deliveries.workspace_id = ${workspaceId}
      ORDER BY created_at DESC, id DESC
      LIMIT 1
    ) AS latest
  `.execute(db);
  return result.rows;
}
