import type { ClaimedDelivery } from '../storage/deliveries.ts';

/**
 * The body of one delivery: exactly JSON.stringify of the contract's payload (section 4), keys in the
 * contract's order. The same for every retry: the timestamp is the event's, not the attempt's.
 */
export function deliveryBody(delivery: ClaimedDelivery): string {
  return JSON.stringify({
    id: delivery.eventId,
    workspaceId: delivery.workspaceId,
    webhookId: delivery.webhookId,
    operation: delivery.operation,
    timestamp: delivery.event.createdAt.toISOString(),
    record: delivery.event.record,
    previousRecord: delivery.event.previousRecord,
    updatedFields: delivery.event.updatedFields,
  });
}
