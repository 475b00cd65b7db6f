import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  checkWebhook,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from '../index.js';

const vectors: {
  vectors: Array<{ secret: string; id: string; timestamp: number; payload: string; signature: string }>;
  // A copy of the project's shared fixture (../shared/fixtures), kept here so the SDK's tests run from any checkout.
} = JSON.parse(fs.readFileSync(new URL('./standard-webhooks-vectors.json', import.meta.url), 'utf8'));

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const NOW = 1_760_000_000;
const body = JSON.stringify({
  id: '7d0f2c0e-1111-4c3e-9a5e-1f2e3d4c5b6a',
  workspaceId: 'w',
  webhookId: 'h',
  operation: 'person.updated',
  timestamp: '2025-10-09T08:53:20.000Z',
  record: { id: 'r', jobTitle: 'CTO' },
  previousRecord: { id: 'r', jobTitle: 'Engineer' },
  updatedFields: ['jobTitle'],
});

function twentyHeaders(rawBody: string, secret: string, timestamp = NOW) {
  const hex = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return { 'X-Twenty-Signature': `sha256=${hex}`, 'X-Twenty-Timestamp': String(timestamp) };
}

function standardHeaders(rawBody: string, secret: string, timestamp = NOW, id = 'evt_1') {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

function refusal(options: Parameters<typeof verifyWebhook>[0]): WebhookVerificationError {
  try {
    verifyWebhook(options);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return error as WebhookVerificationError;
  }
  throw new Error('expected the delivery to be refused');
}

function expectRefused(options: Parameters<typeof verifyWebhook>[0], reason: WebhookVerificationReason, header?: RegExp) {
  const error = refusal(options);
  expect(error.reason).toBe(reason);
  if (header) expect(error.message).toMatch(header);
  return error;
}

describe('Standard Webhooks vectors', () => {
  it.each(vectors.vectors)('verifies and reproduces $id', (vector) => {
    const headers = { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature };
    const payload = verifyWebhook({ rawBody: vector.payload, headers, secret: vector.secret, now: vector.timestamp * 1000 });
    expect(payload).toEqual(JSON.parse(vector.payload));
    const signed = signWebhook({ body: vector.payload, secret: vector.secret, id: vector.id, timestamp: vector.timestamp });
    expect(signed['webhook-signature']).toBe(vector.signature);
    // One flipped character of the body is a mismatch.
    expectRefused({ rawBody: vector.payload.replace('t', 'T'), headers, secret: vector.secret, now: vector.timestamp * 1000 }, 'mismatch');
  });

  it('signWebhook output is accepted by the official standardwebhooks library', () => {
    const headers = signWebhook({ body, secret: SECRET, id: 'evt_official', timestamp: Math.floor(Date.now() / 1000) });
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
  });
});

describe('verifyWebhook', () => {
  it('accepts X-Twenty-Signature alone and returns the typed payload', () => {
    const result = checkWebhook({ rawBody: body, headers: twentyHeaders(body, SECRET), secret: SECRET, now: NOW * 1000 });
    expect(result).toMatchObject({ ok: true, scheme: 'twenty', timestamp: NOW, secretIndex: 0 });
    const payload = verifyWebhook({ rawBody: Buffer.from(body), headers: twentyHeaders(body, SECRET), secret: SECRET, now: new Date(NOW * 1000) });
    expect(payload.operation).toBe('person.updated');
    expect(payload.previousRecord?.jobTitle).toBe('Engineer');
  });

  it('accepts the Standard Webhooks headers alone, with any header object shape', () => {
    const headers = standardHeaders(body, SECRET);
    for (const shape of [headers, new Headers(headers), new Map(Object.entries(headers)), { 'Webhook-Id': headers['webhook-id'], 'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'], 'Webhook-Signature': headers['webhook-signature'] }]) {
      expect(checkWebhook({ rawBody: new TextEncoder().encode(body), headers: shape, secret: SECRET, now: NOW * 1000 })).toMatchObject({ ok: true, scheme: 'standard' });
    }
  });

  it('uses the UTF-8 bytes of a secret without whsec_ (or with non-base64 after it) as the Standard Webhooks key', () => {
    for (const plain of ['my-own-secret', 'whsec_not base64!']) {
      const key = Buffer.from(plain);
      const signature = createHmac('sha256', key).update(`evt_1.${NOW}.${body}`).digest('base64');
      const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(NOW), 'webhook-signature': `v1,${signature}` };
      expect(verifyWebhook({ rawBody: body, headers, secret: plain, now: NOW * 1000 }).id).toBeTruthy();
    }
  });

  it('refuses a body that was parsed and re-serialised (different bytes)', () => {
    const spaced = '{"id": "e1", "operation": "person.created", "record": {"id": "r"}}';
    const headers = { ...twentyHeaders(spaced, SECRET), ...standardHeaders(spaced, SECRET) };
    expect(verifyWebhook({ rawBody: spaced, headers, secret: SECRET, now: NOW * 1000 }).id).toBe('e1');
    expectRefused({ rawBody: JSON.stringify(JSON.parse(spaced)), headers, secret: SECRET, now: NOW * 1000 }, 'mismatch', /raw body/);
  });

  it('refuses a tampered body and a wrong secret, on both schemes', () => {
    const tampered = body.replace('CTO', 'CEO');
    for (const headers of [twentyHeaders(body, SECRET), standardHeaders(body, SECRET)]) {
      expectRefused({ rawBody: tampered, headers, secret: SECRET, now: NOW * 1000 }, 'mismatch');
      const wrong = `whsec_${randomBytes(32).toString('base64')}`;
      expectRefused({ rawBody: body, headers, secret: wrong, now: NOW * 1000 }, 'mismatch');
    }
  });

  it('refuses timestamps more than toleranceSeconds old or ahead (default 300)', () => {
    for (const headers of [twentyHeaders(body, SECRET), standardHeaders(body, SECRET)]) {
      const at = (seconds: number, toleranceSeconds?: number) => ({ rawBody: body, headers, secret: SECRET, now: seconds * 1000, toleranceSeconds });
      expect(checkWebhook(at(NOW + 300)).ok).toBe(true);
      expect(checkWebhook(at(NOW - 300)).ok).toBe(true);
      expectRefused(at(NOW + 301), 'stale', /301 s old; the tolerance is 300 s/);
      expectRefused(at(NOW - 301), 'future', /301 s in the future/);
      expect(checkWebhook(at(NOW + 301, 600)).ok).toBe(true);
      expectRefused(at(NOW + 11, 10), 'stale');
    }
  });

  it('names the missing or malformed header', () => {
    const now = NOW * 1000;
    expectRefused({ rawBody: body, headers: { 'content-type': 'application/json' }, secret: SECRET, now }, 'missing_header', /X-Twenty-Signature or webhook-signature/);
    const { 'X-Twenty-Timestamp': _, ...noTimestamp } = twentyHeaders(body, SECRET);
    const missing = expectRefused({ rawBody: body, headers: noTimestamp, secret: SECRET, now }, 'missing_header', /X-Twenty-Timestamp/);
    expect(missing.header).toBe('X-Twenty-Timestamp');
    const { 'webhook-id': __, ...noId } = standardHeaders(body, SECRET);
    expectRefused({ rawBody: body, headers: noId, secret: SECRET, now }, 'missing_header', /webhook-id/);
    expectRefused({ rawBody: body, headers: { ...twentyHeaders(body, SECRET), 'X-Twenty-Signature': 'md5=abc' }, secret: SECRET, now }, 'bad_format', /X-Twenty-Signature/);
    expectRefused({ rawBody: body, headers: { ...twentyHeaders(body, SECRET), 'X-Twenty-Timestamp': '2025-10-09T08:53:20Z' }, secret: SECRET, now }, 'bad_format', /X-Twenty-Timestamp must be whole Unix seconds/);
    expectRefused({ rawBody: body, headers: { ...standardHeaders(body, SECRET), 'webhook-signature': 'v2,abc' }, secret: SECRET, now }, 'bad_format', /webhook-signature/);
  });

  it('refuses a genuine body that is not a JSON object', () => {
    for (const raw of ['not json', '[1,2]']) {
      expectRefused({ rawBody: raw, headers: twentyHeaders(raw, SECRET), secret: SECRET, now: NOW * 1000 }, 'bad_json');
    }
  });

  it('accepts any of several signatures and any of several secrets (rotation)', () => {
    const previous = `whsec_${randomBytes(32).toString('base64')}`;
    const both = signWebhook({ body, secret: [SECRET, previous], timestamp: NOW });
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    // Like the sender: X-Twenty-Signature keeps the current secret's only; the previous one's has its own header.
    expect(both['x-twenty-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(both['x-twenty-signature-previous']).toBe(twentyHeaders(body, previous)['X-Twenty-Signature']);
    const { 'webhook-signature': _, ...twentyOnly } = both;
    expect(checkWebhook({ rawBody: body, headers: twentyOnly, secret: previous, now: NOW * 1000 })).toMatchObject({ ok: true, scheme: 'twenty' });
    // A receiver still configured with the previous secret accepts the rotated sender's deliveries.
    expect(checkWebhook({ rawBody: body, headers: both, secret: previous, now: NOW * 1000 })).toMatchObject({ ok: true, scheme: 'twenty' });
    // A receiver given both secrets accepts a sender still signing with only the old one, and says which matched.
    const old = twentyHeaders(body, previous);
    expect(checkWebhook({ rawBody: body, headers: old, secret: [SECRET, previous], now: NOW * 1000 })).toMatchObject({ ok: true, secretIndex: 1 });
    // Comma-separated Twenty entries, and Standard entries joined by a proxy with ", ".
    const commaTwenty = { ...old, 'X-Twenty-Signature': `${twentyHeaders(body, SECRET)['X-Twenty-Signature']},${old['X-Twenty-Signature']}` };
    expect(checkWebhook({ rawBody: body, headers: commaTwenty, secret: previous, now: NOW * 1000 }).ok).toBe(true);
    const joined = { ...standardHeaders(body, previous), 'webhook-signature': [standardHeaders(body, SECRET)['webhook-signature'], standardHeaders(body, previous)['webhook-signature']] };
    expect(checkWebhook({ rawBody: body, headers: joined, secret: previous, now: NOW * 1000 }).ok).toBe(true);
    expectRefused({ rawBody: body, headers: joined, secret: [`whsec_${randomBytes(32).toString('base64')}`, 'other'], now: NOW * 1000 }, 'mismatch', /any of the 2 secrets/);
  });

  it('accepts a delivery when either present scheme verifies, and reports the Twenty error when neither does', () => {
    const forgedTwenty = { ...twentyHeaders(body, 'not-the-secret'), ...standardHeaders(body, SECRET) };
    expect(checkWebhook({ rawBody: body, headers: forgedTwenty, secret: SECRET, now: NOW * 1000 })).toMatchObject({ ok: true, scheme: 'standard' });
    const error = expectRefused({ rawBody: body.replace('CTO', 'x'), headers: forgedTwenty, secret: SECRET, now: NOW * 1000 }, 'mismatch');
    expect(error.header).toBe('X-Twenty-Signature');
  });

  it('throws TypeError for programming errors, never a silent pass', () => {
    const headers = twentyHeaders(body, SECRET);
    expect(() => verifyWebhook({ rawBody: JSON.parse(body), headers, secret: SECRET })).toThrow(/not parsed JSON/);
    expect(() => verifyWebhook({ rawBody: body, headers, secret: '' })).toThrow(TypeError);
    expect(() => verifyWebhook({ rawBody: body, headers, secret: [] })).toThrow(TypeError);
  });
});
