import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  PREVIOUS_TWENTY_SIGNATURE_HEADER,
  signatureHeaders,
  standardWebhookSignature,
  twentySignature,
} from '../../src/domain/signing.ts';

// The repository's copy of ../shared/fixtures/standard-webhooks-vectors.json (kept beside the SDK's tests).
const vectors = JSON.parse(readFileSync(new URL('../../sdk/test/standard-webhooks-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Array<{ secret: string; id: string; timestamp: number; payload: string; signature: string }>;
};

describe('Standard Webhooks signature', () => {
  it.each(vectors.vectors)('matches the reference vector for $id', (vector) => {
    expect(standardWebhookSignature(vector.secret, vector.id, vector.timestamp, vector.payload)).toBe(vector.signature);
  });

  it('keys a secret without whsec_ on its raw UTF-8 bytes, as the library does with format raw', () => {
    const secret = 'my-own-secret-of-some-length';
    const signature = standardWebhookSignature(secret, 'msg_1', 1700000000, '{"a":1}');
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': '1700000000', 'webhook-signature': signature };
    const verifier = new Webhook(Buffer.from(secret, 'utf8').toString('base64'));
    // The library rejects stale timestamps; check the signature itself through its `sign`.
    expect(verifier.sign('msg_1', new Date(1700000000 * 1000), '{"a":1}')).toBe(signature);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});

describe('X-Twenty-Signature', () => {
  it('is sha256=<hex HMAC keyed by the secret string over "timestamp.body">', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const expected = createHmac('sha256', secret).update('1614265330.{"x":1}').digest('hex');
    expect(twentySignature(secret, 1614265330, '{"x":1}')).toBe(`sha256=${expected}`);
    // A fixed value, so a change of key derivation cannot pass unnoticed.
    expect(twentySignature('secret', 1, 'body')).toBe(
      `sha256=${createHmac('sha256', Buffer.from('secret')).update('1.body').digest('hex')}`,
    );
  });
});

describe('signatureHeaders', () => {
  const body = JSON.stringify({ id: 'evt', operation: 'person.created' });
  const timestamp = Math.floor(Date.now() / 1000);

  it('sets exactly the contract headers, verifiable by the standardwebhooks library', () => {
    const secret = vectors.vectors[0]!.secret;
    const headers = signatureHeaders({ secrets: [secret], eventId: 'evt-1', timestamp, body, version: '1.2.3' });
    expect(Object.keys(headers).sort()).toEqual(
      ['Content-Type', 'User-Agent', 'X-Twenty-Signature', 'X-Twenty-Timestamp', 'webhook-id', 'webhook-signature', 'webhook-timestamp'].sort(),
    );
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers['User-Agent']).toBe('Switchboard-Webhooks/1.2.3');
    expect(headers['X-Twenty-Timestamp']).toBe(String(timestamp));
    expect(headers['webhook-timestamp']).toBe(String(timestamp));
    expect(headers['webhook-id']).toBe('evt-1');
    expect(headers['X-Twenty-Signature']).toBe(twentySignature(secret, timestamp, body));
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('during a rotation signs with both secrets: Standard Webhooks lists both, Twenty adds a second header', () => {
    const current = vectors.vectors[0]!.secret;
    const previous = vectors.vectors[1]!.secret;
    const headers = signatureHeaders({ secrets: [current, previous], eventId: 'evt-2', timestamp, body, version: '1' });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(vectors.vectors[0]!.secret.replace('M', 'N')).verify(body, headers)).toThrow();
    expect(headers['X-Twenty-Signature']).toBe(twentySignature(current, timestamp, body));
    expect(headers[PREVIOUS_TWENTY_SIGNATURE_HEADER]).toBe(twentySignature(previous, timestamp, body));
  });
});
