import { createHmac } from 'node:crypto';

const STANDARD_WEBHOOKS_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `X-Twenty-Signature`: HMAC-SHA256 keyed with the secret string itself over `${timestamp}.${body}`, as hex. */
export function twentySignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The key Standard Webhooks libraries derive from a secret: the base64 after `whsec_`.
 * Any other secret (a user-chosen one) is used as its raw UTF-8 bytes (the libraries' `format: 'raw'`).
 */
export function standardWebhookKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_WEBHOOKS_PREFIX)) {
    const encoded = secret.slice(STANDARD_WEBHOOKS_PREFIX.length);
    if (encoded.length > 0 && BASE64.test(encoded)) return Buffer.from(encoded, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

/** One `webhook-signature` entry: `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`. */
export function standardWebhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', standardWebhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface SignatureInput {
  /** Current secret first; during a rotation the previous one follows. */
  secrets: readonly string[];
  /** The event id: `webhook-id`, the same on every retry. */
  eventId: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  body: string;
  /** Product version for the User-Agent. */
  version: string;
}

/** Header carrying the previous secret's Twenty signature while a rotation's grace period lasts. */
export const PREVIOUS_TWENTY_SIGNATURE_HEADER = 'X-Twenty-Signature-Previous';

/**
 * Every header of one attempt (CONTRACT.md section 5). With two secrets (rotation), `webhook-signature`
 * lists both signatures space-separated (Standard Webhooks verifiers accept any of them), and
 * `X-Twenty-Signature` keeps exactly one signature (the current secret's) so Twenty-style verifiers that
 * compare the whole header keep working; the previous secret's goes in `X-Twenty-Signature-Previous`.
 */
export function signatureHeaders(input: SignatureInput): Record<string, string> {
  const [current, ...previous] = input.secrets;
  if (current === undefined) throw new Error('signatureHeaders: at least one secret is needed');
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': `Switchboard-Webhooks/${input.version}`,
    'X-Twenty-Signature': twentySignature(current, input.timestamp, input.body),
    'X-Twenty-Timestamp': String(input.timestamp),
    'webhook-id': input.eventId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': input.secrets
      .map((secret) => standardWebhookSignature(secret, input.eventId, input.timestamp, input.body))
      .join(' '),
  };
  if (previous.length > 0) {
    headers[PREVIOUS_TWENTY_SIGNATURE_HEADER] = previous
      .map((secret) => twentySignature(secret, input.timestamp, input.body))
      .join(',');
  }
  return headers;
}
