import { describe, expect, it } from 'vitest';
import { announcesFailure, deliveryFailedEvent, webhookDisabledEvent } from '../../src/domain/operational-events.ts';
import { buildPayload } from '../../src/domain/payload.ts';
import { sampleEvent, sampleOperation } from '../../src/domain/sample-events.ts';
import { passesScreen, screensOperation } from '../../src/domain/webhook-screen.ts';

const at = new Date('2026-12-01T10:00:00.000Z');

describe('operational event payloads', () => {
  it('webhook.disabled: the webhook after and before, what changed, never its secret', () => {
    const event = webhookDisabledEvent('e1', {
      id: 'w1', workspaceId: 'ws', targetUrl: 'https://x.example/h', description: null, operations: ['person.*'],
      disabledReason: 'GONE_410', disabledAt: at,
    });
    expect(event).toEqual({
      id: 'e1', workspaceId: 'ws', operation: 'webhook.disabled', recordId: 'w1', createdAt: at,
      record: { id: 'w1', targetUrl: 'https://x.example/h', description: null, operations: ['person.*'], status: 'DISABLED', disabledReason: 'GONE_410', disabledAt: at.toISOString() },
      previousRecord: { id: 'w1', targetUrl: 'https://x.example/h', description: null, operations: ['person.*'], status: 'ACTIVE', disabledReason: null, disabledAt: null },
      updatedFields: ['status', 'disabledReason', 'disabledAt'],
    });
    // The contract's envelope, key order included.
    expect(Object.keys(buildPayload(event, 'w2'))).toEqual(['id', 'workspaceId', 'webhookId', 'operation', 'timestamp', 'record', 'previousRecord', 'updatedFields']);
    expect(JSON.stringify(event)).not.toMatch(/secret/i);
  });

  it('delivery.failed: the delivery with its last attempt; no previous state', () => {
    const event = deliveryFailedEvent('e2', {
      id: 'd1', workspaceId: 'ws', webhookId: 'w1', targetUrl: 'https://x.example/h', eventId: 'e0', operation: 'person.created',
      recordId: 'r1', attemptCount: 6, lastAttemptAt: at, lastStatusCode: 500, lastError: null, createdAt: new Date('2026-12-01T03:00:00.000Z'),
    }, new Date('2026-12-01T10:00:01.000Z'));
    expect(event).toEqual({
      id: 'e2', workspaceId: 'ws', operation: 'delivery.failed', recordId: 'd1', createdAt: new Date('2026-12-01T10:00:01.000Z'),
      record: {
        id: 'd1', webhookId: 'w1', targetUrl: 'https://x.example/h', eventId: 'e0', operation: 'person.created', recordId: 'r1', status: 'FAILED',
        attemptCount: 6, lastAttemptAt: at.toISOString(), lastStatusCode: 500, lastError: null, createdAt: '2026-12-01T03:00:00.000Z',
      },
      previousRecord: null,
      updatedFields: null,
    });
  });

  it('only record-event deliveries announce their failure: no cascade', () => {
    expect(announcesFailure('person.created')).toBe(true);
    expect(announcesFailure('invoice.updated')).toBe(true);
    expect(announcesFailure('delivery.failed')).toBe(false);
    expect(announcesFailure('webhook.disabled')).toBe(false);
  });

  it("pass a webhook's screen, which is about records", () => {
    const screen = { filterJson: JSON.stringify({ city: { eq: 'Paris' } }), fields: ['city'] };
    const event = webhookDisabledEvent('e1', {
      id: 'w1', workspaceId: 'ws', targetUrl: 'https://x.example/h', description: null, operations: ['person.*'], disabledReason: 'BY_USER', disabledAt: at,
    });
    expect(screensOperation(screen, 'webhook.disabled')).toBe(false);
    expect(passesScreen(screen, event)).toBe(true);
    expect(passesScreen(screen, { operation: 'person.updated', record: { city: 'Lyon' }, updatedFields: ['city'] })).toBe(false);
  });

  it('have samples for test sends', () => {
    expect(sampleOperation('delivery.failed', ['*.*'])).toBe('delivery.failed');
    expect(sampleOperation(undefined, ['webhook.disabled'])).toBe('webhook.disabled');
    const ids = { eventId: 'e', recordId: 'r', workspaceId: 'ws' };
    const disabled = sampleEvent('webhook.disabled', ids, at);
    expect(disabled).toMatchObject({ id: 'e', operation: 'webhook.disabled', record: { id: 'r', status: 'DISABLED', disabledReason: 'GONE_410' } });
    expect(disabled).not.toHaveProperty('recordId');
    const failed = sampleEvent('delivery.failed', ids, at);
    expect(failed).toMatchObject({ operation: 'delivery.failed', record: { id: 'r', status: 'FAILED', attemptCount: 6 }, previousRecord: null });
  });
});
