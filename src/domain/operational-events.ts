import { isOperationalOperation } from './operations.ts';
import type { PayloadEvent } from './payload.ts';

/**
 * Switchboard's own events (operational events, see OPERATIONAL_OPERATIONS): what their payloads carry. They use
 * the record events' envelope (contract §4); `record` describes the webhook or the delivery, never a secret.
 */

/** An operational event as it is stored: the envelope's parts plus the id the delivery log finds it by. */
export interface OperationalEvent extends PayloadEvent {
  /** The disabled webhook's id, or the failed delivery's id. */
  recordId: string;
  createdAt: Date;
}

export type DisabledReason = 'GONE_410' | 'FAILING_5_DAYS' | 'BY_USER';

/** What a webhook.disabled event tells of the webhook. */
export interface DisabledWebhook {
  id: string;
  workspaceId: string;
  targetUrl: string;
  description: string | null;
  operations: readonly string[];
  disabledReason: DisabledReason;
  disabledAt: Date;
}

/** The fields of the webhook that disabling changes, as `updatedFields` names them. */
const DISABLE_CHANGES = ['status', 'disabledReason', 'disabledAt'];

/**
 * `webhook.disabled`: `record` is the webhook after (status DISABLED, why and when), `previousRecord` the same
 * webhook while it was ACTIVE, `updatedFields` what changed. Written when the webhook is disabled, at that time.
 */
export function webhookDisabledEvent(eventId: string, webhook: DisabledWebhook): OperationalEvent {
  const shown = {
    id: webhook.id,
    targetUrl: webhook.targetUrl,
    description: webhook.description,
    operations: [...webhook.operations],
  };
  return {
    id: eventId,
    workspaceId: webhook.workspaceId,
    operation: 'webhook.disabled',
    recordId: webhook.id,
    createdAt: webhook.disabledAt,
    record: { ...shown, status: 'DISABLED', disabledReason: webhook.disabledReason, disabledAt: webhook.disabledAt.toISOString() },
    previousRecord: { ...shown, status: 'ACTIVE', disabledReason: null, disabledAt: null },
    updatedFields: [...DISABLE_CHANGES],
  };
}

/** What a delivery.failed event tells of the delivery and of its last attempt. */
export interface FailedDelivery {
  id: string;
  workspaceId: string;
  webhookId: string;
  /** The webhook's target URL at the time (a receiver watching failures names the endpoint without a lookup). */
  targetUrl: string;
  eventId: string;
  operation: string;
  /** The id of the record the failed event was about. */
  recordId: string;
  attemptCount: number;
  lastAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
}

/**
 * `delivery.failed`: a delivery whose attempts are over (its retry schedule is used up, or the receiver answered
 * 410 Gone) and which ended FAILED. `record` is the delivery; there is no previous state to show (null), nor a
 * list of changed fields (null).
 */
export function deliveryFailedEvent(eventId: string, delivery: FailedDelivery, at: Date): OperationalEvent {
  return {
    id: eventId,
    workspaceId: delivery.workspaceId,
    operation: 'delivery.failed',
    recordId: delivery.id,
    createdAt: at,
    record: {
      id: delivery.id,
      webhookId: delivery.webhookId,
      targetUrl: delivery.targetUrl,
      eventId: delivery.eventId,
      operation: delivery.operation,
      recordId: delivery.recordId,
      status: 'FAILED',
      attemptCount: delivery.attemptCount,
      lastAttemptAt: delivery.lastAttemptAt.toISOString(),
      lastStatusCode: delivery.lastStatusCode,
      lastError: delivery.lastError,
      createdAt: delivery.createdAt.toISOString(),
    },
    previousRecord: null,
    updatedFields: null,
  };
}

/**
 * Whether a delivery that ended FAILED is announced by a delivery.failed event. The deliveries of Switchboard's
 * own events are not: a webhook subscribed to delivery.failed whose endpoint is down would otherwise be told of
 * its failure by a delivery that fails in turn, without end. A failed record-event delivery therefore causes at
 * most one delivery.failed event, whose deliveries end there.
 */
export function announcesFailure(deliveryOperation: string): boolean {
  return !isOperationalOperation(deliveryOperation);
}
