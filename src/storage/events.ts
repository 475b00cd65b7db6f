import { sql, type Kysely } from 'kysely';
import { matchCandidates } from '../domain/operations.ts';
import { passesScreen, screensOperation, STANDARD_SCREEN_MODEL, type ScreenModel } from '../domain/webhook-screen.ts';
import { DELIVERY_CHANNEL, NEW_EVENTS } from './queue/notify.ts';
import type { DB } from './schema.ts';
import { findMatchingWebhooks, matchingWebhooksQuery, type MatchedWebhook } from './webhooks.ts';

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
 * `screens` is the events' workspace's data model as screens read it (filters on custom fields need it).
 *
 * Matching runs once per distinct (workspace, operation) with the candidate patterns as parameters: an index
 * lookup whatever the number of webhooks. (Patterns derived in SQL from each event row let the planner fall back
 * to scanning every webhook once it has statistics: a cost that grows with the webhooks, paid on every write.)
 */
export async function appendEvents(trx: Kysely<DB>, events: NewEvent[], screens: ScreenModel = STANDARD_SCREEN_MODEL): Promise<number> {
  if (events.length === 0) return 0;
  const first = events[0]!;
  if (events.every((event) => event.workspaceId === first.workspaceId && event.operation === first.operation)) {
    return appendEventsOfOneGroup(trx, events, first.workspaceId, first.operation, screens);
  }
  const webhooksByGroup = new Map<string, MatchedWebhook[]>();
  for (const event of events) {
    const group = `${event.workspaceId} ${event.operation}`;
    if (!webhooksByGroup.has(group)) {
      webhooksByGroup.set(group, await findMatchingWebhooks(trx, event.workspaceId, matchCandidates(event.operation)));
    }
  }
  const fanouts = events
    .map((event) => screenFanout(event, webhooksByGroup.get(`${event.workspaceId} ${event.operation}`)!, screens))
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

function screenFanout(event: NewEvent, webhooks: readonly MatchedWebhook[], screens: ScreenModel): ScreenedFanout {
  const fanout: ScreenedFanout = { event, webhookIds: [], filteredIds: [] };
  for (const webhook of webhooks) {
    const passes = !screensOperation(webhook, event.operation) || passesScreen(webhook, event, screens);
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
async function appendEventsOfOneGroup(trx: Kysely<DB>, events: NewEvent[], workspaceId: string, operation: string, screens: ScreenModel): Promise<number> {
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
  const fanouts = events.map((event) => screenFanout(event, row.screened!, screens));
  const passed = fanouts.reduce((total, fanout) => total + fanout.webhookIds.length, 0);
  await sql`
    WITH inserted_fanouts AS (${insertFanoutsStatement(fanouts)})
    SELECT CASE WHEN ${passed > 0} THEN pg_notify(${DELIVERY_CHANNEL}, ${NEW_EVENTS}) END
  `.execute(trx);
  return unscreened + passed;
}
