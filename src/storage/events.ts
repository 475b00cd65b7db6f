import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.ts';

/** NOTIFY channel that wakes delivery workers when deliveries become due. */
export const DELIVERY_CHANNEL = 'switchboard_deliveries';

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

export interface StoredEvent extends NewEvent {}

/**
 * Appends events to the outbox and, in the same statement, creates one PENDING delivery per matching
 * ACTIVE webhook; then NOTIFYs the workers (delivered when the transaction commits).
 * Call it inside the transaction that writes the records, so records, events and deliveries commit together.
 * Returns the number of deliveries created.
 */
export async function appendEvents(trx: Kysely<DB>, events: NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const result = await sql<{ deliveries: string }>`
    WITH new_events AS (
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
      RETURNING id, workspace_id, operation, created_at
    ),
    new_deliveries AS (
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, next_attempt_at, created_at, updated_at)
      SELECT gen_random_uuid(), e.workspace_id, w.id, e.id, e.operation, 'PENDING', e.created_at, e.created_at, e.created_at
      FROM new_events e
      JOIN LATERAL (
        SELECT DISTINCT wo.webhook_id
        FROM webhook_operations wo
        WHERE wo.workspace_id = e.workspace_id
          AND wo.operation IN (
            e.operation,
            split_part(e.operation, '.', 1) || '.*',
            '*.' || split_part(e.operation, '.', 2),
            '*.*'
          )
      ) matched ON true
      JOIN webhooks w ON w.id = matched.webhook_id AND w.status = 'ACTIVE' AND w.deleted_at IS NULL
      RETURNING 1
    )
    SELECT count(*) AS deliveries FROM new_deliveries
  `.execute(trx);
  const deliveries = Number(result.rows[0]?.deliveries ?? 0);
  if (deliveries > 0) await sql`SELECT pg_notify(${DELIVERY_CHANNEL}, '')`.execute(trx);
  return deliveries;
}
