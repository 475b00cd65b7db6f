import { sql, type Kysely } from 'kysely';
import { matchCandidates } from '../domain/operations.ts';
import type { DB } from './schema.ts';
import { findMatchingWebhookIds, matchingWebhookIdsQuery } from './webhooks.ts';

/** NOTIFY channel that wakes delivery workers when there is new work. */
export const DELIVERY_CHANNEL = 'switchboard_deliveries';
/** Payload on DELIVERY_CHANNEL when only delivery rows are new (no fan-out to run); any other asks for one. */
export const NEW_DELIVERIES_ONLY = 'deliveries';

export interface NewEvent {
  id: string;
  workspaceId: string;
  /** `{object}.{action}`, e.g. `person.updated`. */
  operation: string;
  recordId: string;
  record: Record<string, unknown>;
  previousRecord: Record<string, unknown> | null;
  updatedFields: string[] | null;
  createdAt: Date;
}


/**
 * Appends events to the outbox and, for each event that matches ACTIVE webhooks, a pending fan-out naming
 * them; then NOTIFYs the workers (delivered when the transaction commits). Call it inside the transaction that
 * writes the records, so records, events and fan-outs commit together; a worker turns each fan-out into its
 * delivery rows right after (dispatchFanouts). The webhooks are those matching at the write: one deleted or
 * disabled before the commit gets nothing, one created after it gets nothing. Returns the number of
 * deliveries that will be created.
 *
 * Matching runs once per distinct (workspace, operation) with the candidate patterns as parameters: an index
 * lookup whatever the number of webhooks. (Deriving the patterns in SQL from each event row let the planner
 * fall back to scanning every webhook once statistics existed: 2 s for 100 events against 10,000 webhooks.)
 */
export async function appendEvents(trx: Kysely<DB>, events: NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const first = events[0]!;
  if (events.every((event) => event.workspaceId === first.workspaceId && event.operation === first.operation)) {
    return appendEventsOfOneGroup(trx, events, first.workspaceId, first.operation);
  }
  const webhooksByGroup = new Map<string, string[]>();
  for (const event of events) {
    const group = `${event.workspaceId} ${event.operation}`;
    if (!webhooksByGroup.has(group)) {
      webhooksByGroup.set(group, await findMatchingWebhookIds(trx, event.workspaceId, matchCandidates(event.operation)));
    }
  }
  const fanouts = events
    .map((event) => ({ event, webhookIds: webhooksByGroup.get(`${event.workspaceId} ${event.operation}`)! }))
    .filter((fanout) => fanout.webhookIds.length > 0);
  const insertEvents = insertEventsStatement(events);
  if (fanouts.length === 0) {
    await insertEvents.execute(trx);
    return 0;
  }
  // One statement for the events, their fan-outs and the wake-up: a write with matching webhooks costs no more
  // round trips than one without. (The fan-outs' foreign keys are checked at the end of the statement, when
  // the events are in.) unnest cannot take an array of arrays of different lengths: each list of webhooks
  // travels as an array literal.
  await sql`
    WITH inserted_events AS (${insertEvents}),
    inserted_fanouts AS (
      INSERT INTO pending_fanouts (event_id, webhook_ids, created_at)
      SELECT f.event_id, f.webhook_ids::uuid[], f.created_at FROM unnest(
        ${fanouts.map((fanout) => fanout.event.id)}::uuid[],
        ${fanouts.map((fanout) => `{${fanout.webhookIds.join(',')}}`)}::text[],
        ${fanouts.map((fanout) => fanout.event.createdAt.toISOString())}::timestamptz[]
      ) AS f(event_id, webhook_ids, created_at)
    )
    SELECT pg_notify(${DELIVERY_CHANNEL}, 'events')
  `.execute(trx);
  return fanouts.reduce((total, fanout) => total + fanout.webhookIds.length, 0);
}

function insertEventsStatement(events: NewEvent[]) {
  return sql`
    INSERT INTO events (id, workspace_id, operation, record_id, record, previous_record, updated_fields, created_at)
    SELECT * FROM unnest(
      ${events.map((event) => event.id)}::uuid[],
      ${events.map((event) => event.workspaceId)}::uuid[],
      ${events.map((event) => event.operation)}::text[],
      ${events.map((event) => event.recordId)}::uuid[],
      ${events.map((event) => JSON.stringify(event.record))}::json[],
      ${events.map((event) => (event.previousRecord ? JSON.stringify(event.previousRecord) : null))}::json[],
      ${events.map((event) => (event.updatedFields ? JSON.stringify(event.updatedFields) : null))}::json[],
      ${events.map((event) => event.createdAt.toISOString())}::timestamptz[]
    )
  `;
}

/**
 * The common case (one write, or a batch of one object and action): events, matching, fan-outs and wake-up in
 * one round trip, so that a write with matching webhooks waits for the database no longer than one without.
 */
async function appendEventsOfOneGroup(trx: Kysely<DB>, events: NewEvent[], workspaceId: string, operation: string): Promise<number> {
  const result = await sql<{ matched: number }>`
    WITH inserted_events AS (${insertEventsStatement(events)}),
    matched AS (SELECT ARRAY(${matchingWebhookIdsQuery(trx, workspaceId, matchCandidates(operation))}) AS ids),
    inserted_fanouts AS (
      INSERT INTO pending_fanouts (event_id, webhook_ids, created_at)
      SELECT f.event_id, m.ids, f.created_at
      FROM unnest(
        ${events.map((event) => event.id)}::uuid[],
        ${events.map((event) => event.createdAt.toISOString())}::timestamptz[]
      ) AS f(event_id, created_at)
      CROSS JOIN matched m
      WHERE cardinality(m.ids) > 0
    )
    SELECT cardinality(ids) AS matched,
           CASE WHEN cardinality(ids) > 0 THEN pg_notify(${DELIVERY_CHANNEL}, 'events') END AS notified
    FROM matched
  `.execute(trx);
  return (result.rows[0]?.matched ?? 0) * events.length;
}

/**
 * Turns up to `limit` pending fan-outs (oldest first) into their PENDING delivery rows, in one statement: the
 * fan-out rows are deleted by the statement that inserts their deliveries, so a crash loses neither and
 * repeats neither. Fan-outs locked by another worker are skipped. Returns the fan-outs and deliveries done.
 */
export async function dispatchFanouts(db: Kysely<DB>, limit: number): Promise<{ fanouts: number; deliveries: number }> {
  const result = await sql<{ fanouts: number; deliveries: number }>`
    WITH picked AS MATERIALIZED (
      SELECT event_id FROM pending_fanouts ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ),
    -- MATERIALIZED and ANY(ARRAY(…)): the locking pick runs once (inlined, the planner re-ran it for every row it
    -- compared), and the delete probes the primary key for those rows only.
    taken AS (
      DELETE FROM pending_fanouts
      WHERE event_id = ANY(ARRAY(SELECT event_id FROM picked))
      RETURNING event_id, webhook_ids
    ),
    created AS (
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, created_at, updated_at)
      SELECT gen_random_uuid(), e.workspace_id, w.id, e.id, e.operation, 'PENDING', e.created_at, e.created_at, e.created_at
      FROM taken t
      JOIN events e ON e.id = t.event_id
      CROSS JOIN LATERAL unnest(t.webhook_ids) AS matched(webhook_id)
      -- A webhook row removed since the write (not a soft delete) has nothing left to deliver to.
      JOIN webhooks w ON w.id = matched.webhook_id
      ON CONFLICT (event_id, webhook_id) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM taken)::int AS fanouts, counted.deliveries,
           -- The other workers may be idle: the new rows are theirs to claim too.
           CASE WHEN counted.deliveries > 0 THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_DELIVERIES_ONLY}) END AS notified
    FROM (SELECT count(*)::int AS deliveries FROM created) counted
  `.execute(db);
  const row = result.rows[0] ?? { fanouts: 0, deliveries: 0 };
  return { fanouts: row.fanouts, deliveries: row.deliveries };
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
