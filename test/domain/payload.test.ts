import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/domain/errors.ts';
import {
  assertPayloadFits,
  buildPayload,
  MAX_PAYLOAD_BYTES,
  payloadBytes,
  serialisePayload,
  type PayloadEvent,
} from '../../src/domain/payload.ts';

function sampleEvent(overrides: Partial<PayloadEvent> = {}): PayloadEvent {
  return {
    id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    workspaceId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    operation: 'person.updated',
    createdAt: new Date('2024-03-04T11:00:00.000Z'),
    record: { id: '6ba7b810-9dad-41d1-80b4-00c04fd430c8', jobTitle: 'CTO' },
    previousRecord: { id: '6ba7b810-9dad-41d1-80b4-00c04fd430c8', jobTitle: 'Engineer' },
    updatedFields: ['jobTitle'],
    ...overrides,
  };
}

describe('buildPayload', () => {
  it('builds the contract payload with its keys in contract order', () => {
    const webhookId = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';
    const payload = buildPayload(sampleEvent(), webhookId);
    expect(Object.keys(payload)).toEqual(['id', 'workspaceId', 'webhookId', 'operation', 'timestamp', 'record', 'previousRecord', 'updatedFields']);
    expect(serialisePayload(payload)).toBe(
      '{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","workspaceId":"1b4e28ba-2fa1-41d2-883f-0016d3cca427",' +
        '"webhookId":"f47ac10b-58cc-4372-a567-0e02b2c3d479","operation":"person.updated","timestamp":"2024-03-04T11:00:00.000Z",' +
        '"record":{"id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","jobTitle":"CTO"},' +
        '"previousRecord":{"id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","jobTitle":"Engineer"},"updatedFields":["jobTitle"]}',
    );
  });

  it('keeps previousRecord and updatedFields as null when the event has none, and reads string timestamps', () => {
    const payload = buildPayload(
      sampleEvent({ operation: 'person.created', previousRecord: null, updatedFields: null, createdAt: '2024-03-04T12:00:00+01:00' }),
      randomUUID(),
    );
    expect(payload.previousRecord).toBeNull();
    expect(payload.updatedFields).toBeNull();
    expect(payload.timestamp).toBe('2024-03-04T11:00:00.000Z');
    expect(serialisePayload(payload)).toContain('"previousRecord":null,"updatedFields":null}');
  });

  it('gives the same body for the same event and webhook every time (retries)', () => {
    const event = sampleEvent();
    expect(serialisePayload(buildPayload(event, 'w'))).toBe(serialisePayload(buildPayload(event, 'w')));
  });
});

describe('payload size', () => {
  it('counts the UTF-8 bytes of the body a real webhook receives, envelope and webhookId included', () => {
    const event = sampleEvent({ record: { id: 'x', city: 'Zürich ☃ 🚀' } });
    const real = Buffer.byteLength(JSON.stringify(buildPayload(event, randomUUID())));
    expect(payloadBytes(event)).toBe(real);
    expect(payloadBytes(event)).toBeGreaterThan(serialisePayload(buildPayload(event, randomUUID())).length);
  });

  it('accepts exactly 1 MiB and refuses one byte more', () => {
    const withAddress = (length: number, suffix = '') =>
      sampleEvent({ record: { id: 'x', address: 'a'.repeat(length) + suffix }, previousRecord: null });
    const overhead = payloadBytes(withAddress(0));
    const exact = withAddress(MAX_PAYLOAD_BYTES - overhead);
    expect(payloadBytes(exact)).toBe(MAX_PAYLOAD_BYTES);
    expect(() => assertPayloadFits(exact)).not.toThrow();

    const oneMore = withAddress(MAX_PAYLOAD_BYTES - overhead + 1);
    expect(() => assertPayloadFits(oneMore)).toThrow(SwitchboardError);
    // A two-byte character where a one-byte one was: same length in characters, one byte over.
    const multibyte = withAddress(MAX_PAYLOAD_BYTES - overhead - 1, 'é');
    expect(multibyte.record.address).toHaveLength((exact.record.address as string).length);
    try {
      assertPayloadFits(multibyte);
      expect.unreachable('a payload over 1 MiB was accepted');
    } catch (error) {
      expect((error as SwitchboardError).code).toBe('PAYLOAD_TOO_LARGE');
      expect((error as Error).message).toContain(String(MAX_PAYLOAD_BYTES + 1));
    }
  });

  it('is 1 MiB', () => {
    expect(MAX_PAYLOAD_BYTES).toBe(1024 * 1024);
  });
});
