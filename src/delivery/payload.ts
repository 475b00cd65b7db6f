import { buildPayload, serialisePayload } from '../domain/payload.ts';
import type { ClaimedDelivery } from '../storage/deliveries.ts';

/** The body of one delivery: exactly JSON.stringify of the contract's payload, the same on every retry. */
export function deliveryBody(delivery: ClaimedDelivery): string {
  return serialisePayload(
    buildPayload(
      {
        id: delivery.eventId,
        workspaceId: delivery.workspaceId,
        operation: delivery.operation,
        createdAt: delivery.event.createdAt,
        record: delivery.event.record,
        previousRecord: delivery.event.previousRecord,
        updatedFields: delivery.event.updatedFields,
      },
      delivery.webhookId,
    ),
  );
}
