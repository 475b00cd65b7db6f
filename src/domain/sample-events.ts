import { invalidInput } from './errors.ts';
import { deliveryFailedEvent, webhookDisabledEvent } from './operational-events.ts';
import { EVENT_ACTIONS, EVENT_OBJECTS, isOperationalOperation, parseOperation, WILDCARD, type EventAction } from './operations.ts';
import type { PayloadEvent } from './payload.ts';

// Realistic records, so a receiver's test run exercises the same fields real events carry.
const SAMPLE_RECORDS: Record<string, Record<string, unknown> | undefined> = {
  person: {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    jobTitle: 'Analyst',
    phone: '+44 20 7946 0000',
    city: 'London',
    companyId: null,
  },
  company: { name: 'Analytical Engines Ltd', domainName: 'example.com', employees: 12, address: '12 St James Square, London' },
  opportunity: { name: 'Difference Engine No. 2', amount: 17_000, stage: 'PROPOSAL', closeDate: '2031-06-30T00:00:00.000Z', companyId: null, pointOfContactId: null },
};

const SAMPLE_CHANGE: Record<string, [string, unknown] | undefined> = {
  person: ['jobTitle', 'Mathematician'],
  company: ['employees', 15],
  opportunity: ['stage', 'NEGOTIATION'],
};

/**
 * A concrete operation for a test event: the one asked for, else the first concrete pattern among the
 * webhook's operations (wildcards filled with person / created).
 */
export function sampleOperation(requested: string | null | undefined, webhookOperations: readonly string[]): string {
  if (requested) {
    const { object, action } = parseOperation(requested, 'operation', 'any');
    if (object === WILDCARD || action === WILDCARD) throw invalidInput('operation', `"${requested}" must name one object and one action, without *`);
    return requested;
  }
  const { object, action } = parseOperation(webhookOperations[0] ?? '*.*', 'operation', 'any');
  return `${object === WILDCARD ? EVENT_OBJECTS[0] : object}.${action === WILDCARD ? EVENT_ACTIONS[0] : action}`;
}

/** A sample event of `operation` (e.g. `person.updated`) with a plausible record and previous record. */
export function sampleEvent(operation: string, ids: { eventId: string; recordId: string; workspaceId: string }, now: Date): PayloadEvent {
  if (isOperationalOperation(operation)) return sampleOperationalEvent(operation, ids, now);
  const { object, action } = parseOperation(operation, 'operation', 'any') as { object: string; action: EventAction };
  const createdAt = new Date(now.getTime() - 86_400_000).toISOString();
  // A custom object's sample carries its system fields only: its own fields are the workspace's.
  const base = { id: ids.recordId, ...SAMPLE_RECORDS[object], createdAt, updatedAt: now.toISOString(), deletedAt: null };
  const [field, newValue] = SAMPLE_CHANGE[object] ?? ['updatedAt', now.toISOString()];
  const deleted = { ...base, deletedAt: now.toISOString() };
  const byAction: Record<EventAction, Pick<PayloadEvent, 'record' | 'previousRecord' | 'updatedFields'>> = {
    created: { record: base, previousRecord: null, updatedFields: null },
    updated: { record: { ...base, [field]: newValue }, previousRecord: { ...base, updatedAt: createdAt }, updatedFields: [field] },
    deleted: { record: deleted, previousRecord: base, updatedFields: ['deletedAt'] },
    restored: { record: base, previousRecord: deleted, updatedFields: ['deletedAt'] },
    destroyed: { record: base, previousRecord: base, updatedFields: null },
  };
  return { id: ids.eventId, workspaceId: ids.workspaceId, operation, createdAt: now, ...byAction[action] };
}

/** A sample of Switchboard's own events: about a made-up webhook, or a made-up failed delivery of one. */
function sampleOperationalEvent(operation: string, ids: { eventId: string; recordId: string; workspaceId: string }, now: Date): PayloadEvent {
  const webhookId = '00000000-0000-4000-8000-000000000001';
  const targetUrl = 'https://receiver.example.com/webhooks';
  const { recordId: _recordId, ...event } =
    operation === 'webhook.disabled'
      ? webhookDisabledEvent(ids.eventId, {
          id: ids.recordId,
          workspaceId: ids.workspaceId,
          targetUrl,
          description: 'CRM sync',
          operations: ['person.*'],
          disabledReason: 'GONE_410',
          disabledAt: now,
        })
      : deliveryFailedEvent(
          ids.eventId,
          {
            id: ids.recordId,
            workspaceId: ids.workspaceId,
            webhookId,
            targetUrl,
            eventId: '00000000-0000-4000-8000-000000000002',
            operation: 'person.updated',
            recordId: '00000000-0000-4000-8000-000000000003',
            attemptCount: 6,
            lastAttemptAt: now,
            lastStatusCode: 500,
            lastError: null,
            createdAt: new Date(now.getTime() - 86_400_000),
          },
          now,
        );
  return event;
}
