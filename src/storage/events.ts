import { sql, type Kysely } from 'kysely';
import { matchCandidates } from '../domain/operations.ts';
import { passesScreen, screensOperation } from '../domain/webhook-screen.ts';
import { selectClaimed, toClaimedDeliveries, type ClaimedDelivery, type ClaimRow } from './deliveries.ts';
import type { DB } from './schema.ts';
import { findMatchingWebhooks, matchingWebhooksQuery, type MatchedWebhook } from './webhooks.ts';

/** NOTIFY channel that wakes delivery workers when there is new work. */
export const DELIVERY_CHANNEL = 'switchboard_deliveries';
/** Payload on DELIVERY_CHANNEL when delivery rows are new and due (a claim finds them; no fan-out to run). */
export const NEW_DELIVERIES_ONLY = 'deliveries';
/** Payload on DELIVERY_CHANNEL when events with pending fan-outs are new (nothing to claim before their fan-out). */
export const NEW_EVENTS = 'events';

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
 * disabled before the commit gets nothing, one created after it gets nothing. Webhooks with a screen (a filter,
 * or fields for an updated event) are tested here against the event, where the record is at hand; the ones that
 * screen it out are named on the fan-out for their tally. Returns the number of deliveries that will be created.
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
  const webhooksByGroup = new Map<string, MatchedWebhook[]>();
  for (const event of events) {
    const group = `${event.workspaceId} ${event.operation}`;
    if (!webhooksByGroup.has(group)) {
      webhooksByGroup.set(group, await findMatchingWebhooks(trx, event.workspaceId, matchCandidates(event.operation)));
    }
  }
  const fanouts = events
    .map((event) => screenFanout(event, webhooksByGroup.get(`${event.workspaceId} ${event.operation}`)!))
    .filter((fanout) => fanout.webhookIds.length > 0 || fanout.filteredIds.length > 0);
  const insertEvents = insertEventsStatement(events);
  if (fanouts.length === 0) {
    await insertEvents.execute(trx);
    return 0;
  }
  const deliveries = fanouts.reduce((total, fanout) => total + fanout.webhookIds.length, 0);
  // One statement for the events, their fan-outs and the wake-up: a write with matching webhooks costs no more
  // round trips than one without. (The fan-outs' foreign keys are checked at the end of the statement, when
  // the events are in.)
  await sql`
    WITH inserted_events AS (${insertEvents}),
    inserted_fanouts AS (${insertFanoutsStatement(fanouts)})
    SELECT CASE WHEN ${deliveries > 0} THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_EVENTS}) END
  `.execute(trx);
  return deliveries;
}

interface ScreenedFanout {
  event: NewEvent;
  /** Webhooks to deliver to. */
  webhookIds: string[];
  /** Webhooks whose screen turned the event away. */
  filteredIds: string[];
}

function screenFanout(event: NewEvent, webhooks: readonly MatchedWebhook[]): ScreenedFanout {
  const fanout: ScreenedFanout = { event, webhookIds: [], filteredIds: [] };
  for (const webhook of webhooks) {
    const passes = !screensOperation(webhook, event.operation) || passesScreen(webhook, event);
    (passes ? fanout.webhookIds : fanout.filteredIds).push(webhook.id);
  }
  return fanout;
}

/**
 * Inserts fan-out rows, or adds to the row an earlier statement of the same write inserted for the event.
 * unnest cannot take an array of arrays of different lengths: each list of webhooks travels as an array literal.
 */
function insertFanoutsStatement(fanouts: ScreenedFanout[]) {
  const literal = (ids: string[]) => (ids.length > 0 ? `{${ids.join(',')}}` : null);
  return sql`
    INSERT INTO pending_fanouts (event_id, webhook_ids, filtered_webhook_ids, created_at)
    SELECT f.event_id, coalesce(f.webhook_ids::uuid[], '{}'), f.filtered_ids::uuid[], f.created_at FROM unnest(
      ${fanouts.map((fanout) => fanout.event.id)}::uuid[],
      ${fanouts.map((fanout) => literal(fanout.webhookIds))}::text[],
      ${fanouts.map((fanout) => literal(fanout.filteredIds))}::text[],
      ${fanouts.map((fanout) => fanout.event.createdAt.toISOString())}::timestamptz[]
    ) AS f(event_id, webhook_ids, filtered_ids, created_at)
    ON CONFLICT (event_id) DO UPDATE
    SET webhook_ids = pending_fanouts.webhook_ids || EXCLUDED.webhook_ids, filtered_webhook_ids = EXCLUDED.filtered_webhook_ids
  `;
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
 * Webhooks that screen this operation come back with their screens; only when there are some does a second
 * statement add the fan-outs of the events that pass them.
 */
async function appendEventsOfOneGroup(trx: Kysely<DB>, events: NewEvent[], workspaceId: string, operation: string): Promise<number> {
  const updated = operation.endsWith('.updated');
  const result = await sql<{ matched: number; screened: MatchedWebhook[] | null }>`
    WITH inserted_events AS (${insertEventsStatement(events)}),
    matched_webhooks AS MATERIALIZED (${matchingWebhooksQuery(trx, workspaceId, matchCandidates(operation))}),
    matched AS (
      SELECT ARRAY(
        SELECT id FROM matched_webhooks WHERE "filterJson" IS NULL AND (fields IS NULL OR NOT ${updated})
      ) AS ids
    ),
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
           CASE WHEN cardinality(ids) > 0 THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_EVENTS}) END AS notified,
           (SELECT json_agg(json_build_object('id', id, 'filterJson', "filterJson", 'fields', fields))
            FROM matched_webhooks WHERE NOT ("filterJson" IS NULL AND (fields IS NULL OR NOT ${updated}))) AS screened
    FROM matched
  `.execute(trx);
  const row = result.rows[0];
  const unscreened = (row?.matched ?? 0) * events.length;
  if (!row?.screened || row.screened.length === 0) return unscreened;
  const fanouts = events.map((event) => screenFanout(event, row.screened!));
  const passed = fanouts.reduce((total, fanout) => total + fanout.webhookIds.length, 0);
  await sql`
    WITH inserted_fanouts AS (${insertFanoutsStatement(fanouts)})
    SELECT CASE WHEN ${passed > 0} THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_EVENTS}) END
  `.execute(trx);
  return unscreened + passed;
}

/** Deliveries a dispatch may hand straight to the calling worker, leased as a claim would lease them. */
export interface DispatchClaim {
  leaseToken: string;
  leaseUntil: Date;
  /** At most this many of the new rows, oldest event first. */
  limit: number;
  /** At most this many per webhook (its endpoint's slots). */
  perWebhookLimit: number;
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
 * row, the pipeline's measured bottleneck). Rows beyond the free slots are left for any worker to claim, and
 * only then are the workers woken.
 */
export async function dispatchFanouts(db: Kysely<DB>, limit: number, claim?: DispatchClaim): Promise<DispatchResult> {
  const leaseToken = claim?.leaseToken ?? null;
  const leaseUntil = claim?.leaseUntil.toISOString() ?? null;
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
               OR row_number() OVER (PARTITION BY w.id ORDER BY e.created_at, e.id) > ${claim?.perWebhookLimit ?? 0}
               AS held_back
      FROM taken t
      JOIN events e ON e.id = t.event_id
      CROSS JOIN LATERAL unnest(t.webhook_ids) AS matched(webhook_id)
      -- A webhook row removed since the write (not a soft delete) has nothing left to deliver to.
      JOIN webhooks w ON w.id = matched.webhook_id
    ),
    created AS (
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, lease_token,
                              ordering_key, ordering_seq, created_at, updated_at)
      SELECT gen_random_uuid(), workspace_id, webhook_id, event_id, operation, 'PENDING',
             CASE WHEN leased THEN ${leaseUntil}::timestamptz ELSE created_at END,
             CASE WHEN leased THEN ${leaseToken}::uuid END, ordering_key, ordering_seq, created_at, created_at
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
