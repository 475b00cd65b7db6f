import { payloadTooLarge } from './errors.ts';

/** The largest webhook body Switchboard sends (CONTRACT.md section 4): 1 MiB. */
export const MAX_PAYLOAD_BYTES = 1_048_576;

/** What a payload is built from: one stored event (the outbox row). */
export interface PayloadEvent {
  id: string;
  workspaceId: string;
  operation: string;
  /** When the write happened. */
  createdAt: Date | string;
  record: Record<string, unknown>;
  previousRecord: Record<string, unknown> | null;
  updatedFields: string[] | null;
}

/** The body of every webhook POST, key order fixed by the contract. */
export interface WebhookPayload {
  id: string;
  workspaceId: string;
  webhookId: string;
  operation: string;
  timestamp: string;
  record: Record<string, unknown>;
  previousRecord: Record<string, unknown> | null;
  updatedFields: string[] | null;
}

/** The contract section 4 payload of `event` for one webhook. The same event gives the same payload on every retry. */
export function buildPayload(event: PayloadEvent, webhookId: string): WebhookPayload {
  return {
    id: event.id,
    workspaceId: event.workspaceId,
    webhookId,
    operation: event.operation,
    timestamp: (event.createdAt instanceof Date ? event.createdAt : new Date(event.createdAt)).toISOString(),
    record: event.record,
    previousRecord: event.previousRecord ?? null,
    updatedFields: event.updatedFields ?? null,
  };
}

/** The exact bytes sent: the body is JSON.stringify(payload), nothing else. */
export function serialisePayload(payload: WebhookPayload): string {
  return JSON.stringify(payload);
}

// Every webhook id is a canonical 36-character UUID, so any one stands for all of them when measuring.
const WEBHOOK_ID_STAND_IN = '00000000-0000-0000-0000-000000000000';

/** Bytes of the body any webhook would receive for `event` (UTF-8, including the envelope and webhookId). */
export function payloadBytes(event: PayloadEvent): number {
  return Buffer.byteLength(serialisePayload(buildPayload(event, WEBHOOK_ID_STAND_IN)), 'utf8');
}

/** Throws PAYLOAD_TOO_LARGE when `event`'s payload would exceed MAX_PAYLOAD_BYTES. */
export function assertPayloadFits(event: PayloadEvent, what = 'the record'): void {
  const bytes = payloadBytes(event);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw payloadTooLarge(
      `${what} is too large: its ${event.operation} event payload would be ${bytes} bytes, over the limit of ${MAX_PAYLOAD_BYTES} bytes (1 MiB); nothing was stored`,
    );
  }
}
