import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import {
  announcesFailure,
  deliveryFailedEvent,
  webhookDisabledEvent,
  type DisabledWebhook,
} from '../domain/operational-events.ts';
import { appendEvents } from './events.ts';
import type { DB, WebhookDisabledReason } from './schema.ts';
import { updateWebhookIn, type WebhookChanges, type WebhookRow } from './webhooks.ts';

/**
 * Switchboard's own events (webhook.disabled, delivery.failed) are written by the statement's transaction that
 * changes the state they report, through the same outbox and fan-out as record events: if the change commits, so
 * does its event, and the normal pipeline signs, retries and logs its deliveries.
 */

/** What a webhook.disabled event needs of a webhook row (the RETURNING of the disabling UPDATE). */
const DISABLED_COLUMNS = sql`id, workspace_id AS "workspaceId", target_url AS "targetUrl", description, operations,
  disabled_reason AS "disabledReason", disabled_at AS "disabledAt"`;

/** Appends one webhook.disabled event per webhook just disabled; call in the transaction that disabled them. */
export async function appendWebhookDisabledEvents(trx: Kysely<DB>, webhooks: readonly DisabledWebhook[]): Promise<void> {
  if (webhooks.length === 0) return;
  await appendEvents(trx, webhooks.map((webhook) => webhookDisabledEvent(randomUUID(), webhook)));
}

/** Which of the given webhooks to disable, beyond being ACTIVE and not deleted. */
export interface DisableScope {
  /** Only a webhook of this workspace (an API caller's). */
  workspaceId?: string;
  /** Only webhooks failing since this time or earlier (the failure window is over). */
  failingSinceAtOrBefore?: Date;
}

/**
 * Disables the ACTIVE, live webhooks among `ids` (within `scope`) with `reason`, and writes their webhook.disabled
 * events, in one transaction. Rows are locked in id order, so concurrent workers cannot deadlock. Returns the ids
 * disabled now.
 */
export async function disableWebhooksAnnounced(
  db: Kysely<DB>,
  ids: readonly string[],
  reason: WebhookDisabledReason,
  at: Date,
  scope: DisableScope = {},
): Promise<string[]> {
  if (ids.length === 0) return [];
  const workspace = scope.workspaceId === undefined ? sql`true` : sql`workspace_id = ${scope.workspaceId}::uuid`;
  const failing = scope.failingSinceAtOrBefore === undefined
    ? sql`true`
    : sql`failing_since <= ${scope.failingSinceAtOrBefore.toISOString()}::timestamptz`;
  return db.transaction().execute(async (trx) => {
    const result = await sql<DisabledWebhook>`
      UPDATE webhooks SET status = 'DISABLED', disabled_reason = ${reason}, disabled_at = ${at.toISOString()}::timestamptz,
                          updated_at = ${at.toISOString()}::timestamptz
      WHERE id = ANY(${[...ids].sort()}::uuid[]) AND status = 'ACTIVE' AND deleted_at IS NULL AND ${workspace} AND ${failing}
      RETURNING ${DISABLED_COLUMNS}
    `.execute(trx);
    await appendWebhookDisabledEvents(trx, result.rows);
    return result.rows.map((row) => row.id);
  });
}

/**
 * Updates a live webhook (updateWebhookIn) in a transaction of its own, which also writes the webhook.disabled event
 * when the change disables an ACTIVE webhook (its owner did: BY_USER); undefined when there is none.
 */
export async function updateWebhookAnnounced(
  db: Kysely<DB>,
  workspaceId: string,
  id: string,
  changes: WebhookChanges,
  at: Date,
): Promise<WebhookRow | undefined> {
  return db.transaction().execute(async (trx) => {
    // Whether this change is the one that disables it: the row is locked until the commit, so no other can be.
    const before = changes.status === 'DISABLED'
      ? await trx.selectFrom('webhooks').select('status').where('workspace_id', '=', workspaceId).where('id', '=', id).forUpdate().executeTakeFirst()
      : undefined;
    const row = await updateWebhookIn(trx, workspaceId, id, changes, at);
    if (row && before?.status === 'ACTIVE' && row.status === 'DISABLED' && row.disabledReason && row.disabledAt) {
      await appendWebhookDisabledEvents(trx, [{ ...row, disabledReason: row.disabledReason, disabledAt: row.disabledAt }]);
    }
    return row;
  });
}

/** What the settle path knows of an attempt that ended its delivery FAILED. */
export interface FinalFailure {
  deliveryId: string;
  number: number;
  startedAt: Date;
  statusCode: number | null;
  error: string | null;
}

/**
 * Appends one delivery.failed event per delivery that just ended FAILED after its last attempt, except deliveries of
 * Switchboard's own events (see announcesFailure); call in the transaction that settled them.
 */
export async function appendDeliveryFailedEvents(trx: Kysely<DB>, failures: readonly FinalFailure[], at: Date): Promise<void> {
  if (failures.length === 0) return;
  const rows = await trx
    .selectFrom('deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select([
      'd.id',
      'd.workspace_id as workspaceId',
      'd.webhook_id as webhookId',
      'w.target_url as targetUrl',
      'd.event_id as eventId',
      'd.operation',
      'e.record_id as recordId',
      'd.created_at as createdAt',
    ])
    .where('d.id', 'in', failures.map((failure) => failure.deliveryId))
    .execute();
  const byId = new Map(failures.map((failure) => [failure.deliveryId, failure]));
  const events = rows
    .filter((row) => announcesFailure(row.operation))
    .map((row) => {
      const last = byId.get(row.id)!;
      return deliveryFailedEvent(
        randomUUID(),
        {
          ...row,
          attemptCount: last.number,
          lastAttemptAt: last.startedAt,
          lastStatusCode: last.statusCode,
          lastError: last.error,
        },
        at,
      );
    });
  if (events.length > 0) await appendEvents(trx, events);
}
